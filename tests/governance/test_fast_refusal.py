"""A refused promotion decides (and records its refusal) without importing MLflow.

Why: importing MLflow and opening its store took most of a refused promotion's 12 CPU-seconds
(issue 18 asks for an answer in under 2 s; `docs/performance.md` has the figures). The command
runs here in its own process, as a user runs it, on a real store (a real audit that fails the
gate), and reports which heavy libraries it imported. Timing is not asserted (benchmarks print
times); what is proven is that the refusal paths never load MLflow, pandas or Prefect, and that
the refusal is still logged, anchored in the registry and described on the version."""

from __future__ import annotations

import subprocess
import sys

import pytest

from frontdoor.models import registry
from frontdoor.models.promotion_log import REFUSED, promotion_log
from frontdoor.models.tracking import client
from tests.support import TEST_KEY, make_settings
from tests.support.fairness import predictions, register_predictions

pytestmark = pytest.mark.slow  # a real audit logged to a new MLflow store (about 20 s idle)
LABEL = "escalation_12m"
HEAVY = ("mlflow", "pandas", "sqlalchemy", "prefect", "lightgbm", "sklearn")
PROBE = f"""
import sys
from frontdoor.cli import main
sys.argv = ["frontdoor", *sys.argv[1:]]
try:
    main()
    code = 0
except SystemExit as done:
    code = done.code
print("IMPORTED=" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
sys.exit(code)
"""


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    """A store with version 1 audited and failing the gate, version 2 never audited."""
    from frontdoor.governance.version_audit import audit_model_version

    root = tmp_path_factory.mktemp("fast-refusal")
    settings = make_settings(root, fairness={"bootstrap_samples": 30})
    unfair = register_predictions(
        settings, predictions(n=4000, seed=1, missed_group="Asian", missed_share=0.6)
    )
    never = register_predictions(settings, predictions(n=300, seed=2))
    assert not audit_model_version(settings, LABEL, unfair).gate.passed  # the setup holds
    config = root / "frontdoor.yaml"
    config.write_text(
        f"demo_mode: true\npaths:\n  root: {root}\n"
        f"privacy:\n  pseudonym_key: {TEST_KEY}\n"
        f"tracking:\n  tracking_uri: sqlite:///{root / 'mlflow.db'}\n",
        encoding="utf-8",
    )
    return settings, config, unfair, never


def promote(config, *args: str) -> tuple[int, str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--config", str(config), "promote", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = " ".join((done.stdout + done.stderr).split())
    imported = out.rsplit("IMPORTED=", 1)[1].split(" ")[0] if "IMPORTED=" in out else "?"
    return done.returncode, out, {m for m in imported.split(",") if m}


def test_a_failed_gate_is_refused_and_recorded_without_mlflow(audited):
    settings, config, unfair, _ = audited
    log = promotion_log(settings, client(settings))
    before = len(log.rows())
    code, out, imported = promote(config, unfair, "--label", LABEL, "--by", "Data lead")
    assert code == 1 and "failed the fairness gate" in out, out
    assert "promotion refused (recorded in the promotion log)" in out
    assert imported == set(), imported
    rows = log.verify(registry.model_name(settings, LABEL))  # chain and anchored head agree
    assert len(rows) == before + 1
    last = rows[-1]
    assert last["action"] == REFUSED and last["version"] == unfair and last["by"] == "Data lead"
    assert last["gate"] == "fail" and "failed the fairness gate" in last["why"]
    version = registry.get_version(settings, LABEL, unfair)
    assert version.tags["description.promotion"].startswith("Promotion refused")
    assert "Promotion refused" in version.description
    assert "Fairness audit" in version.description  # the audit's part is kept


def test_a_short_override_rationale_is_refused_without_mlflow(audited):
    _, config, unfair, _ = audited
    args = (unfair, "--label", LABEL, "--by", "Data lead", "--override-rationale", "fine")
    code, out, imported = promote(config, *args)
    assert code == 1 and "at least 20" in out and imported == set(), (out, imported)


def test_never_audited_unknown_and_anonymous_are_refused_without_mlflow(audited):
    settings, config, unfair, never = audited
    code, out, imported = promote(config, never, "--label", LABEL, "--by", "Data lead")
    assert code == 1 and "no fairness audit" in out and imported == set(), (out, imported)
    code, out, imported = promote(config, "99", "--label", LABEL, "--by", "Data lead")
    assert code == 1 and "no version 99" in out and imported == set(), (out, imported)
    assert f"versions: {unfair}, {never}" in out  # what there is to promote
    assert "recorded" not in out  # a request for no known version is not a log row
    code, out, imported = promote(config, unfair, "--label", LABEL)
    assert code == 1 and "--by NAME" in out and imported == set(), (out, imported)
    code, out, imported = promote(config, "champion", "--label", LABEL, "--by", "Data lead")
    assert code == 1 and "no version aliased 'champion'" in out and imported == set()
