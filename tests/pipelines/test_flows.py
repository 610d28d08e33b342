"""The flows on a real (temporary) Prefect server: a tiny synthetic council end to end,
the cache on a re-run, the artifacts each run leaves, and the steps called without Prefect."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from frontdoor import REVIEW_NOTICE
from frontdoor.pipelines import tasks as t
from frontdoor.pipelines.artifacts import artifact_key
from frontdoor.pipelines.runners import run_flow
from frontdoor.pipelines.steps import is_transient, path_digest, settings_digest

pytestmark = [pytest.mark.xdist_group("pipelines")]


def _artifacts(flow_run_id) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read():
        async with get_client() as client:
            return await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
                )
            )

    return {a.key: a.data for a in asyncio.run(read())}


def _last_flow_run(name: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    async def read():
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                sort=FlowRunSort.START_TIME_DESC,
                limit=1,
            )
            return runs[0]

    return asyncio.run(read())


@pytest.mark.slow
def test_demo_runs_end_to_end_then_a_rerun_takes_every_unchanged_step_from_the_cache(
    prefect_harness, small, tmp_path
):
    settings = small(tmp_path)
    first = run_flow("demo", settings)

    # What the demo produced: a registered, audited champion; scores with reasons in the queue.
    model = first.models[0]
    assert model.train.model_version == "1"
    assert model.audit.checks > 0
    assert model.promotion.promoted is True
    report = Path(model.report.report_html).read_text(encoding="utf-8")
    assert "professional review" in report
    assert Path(model.audit.audit_html).exists()
    assert model.promotion.overridden == (not model.audit.gate_passed)
    scored = pd.read_parquet(first.score[""].scores)
    assert len(scored) == first.score[""].scored > 0
    assert scored["reasons_json"].map(lambda s: len(json.loads(s)) > 0).all()
    assert first.queue[""].loaded == len(scored)
    # with the champion's backtest figures per band, for the case page (issue 15)
    assert first.queue[""].band_figures == len(settings.models.band_names)
    assert set(first.users.users.values()) == {
        "reviewer",
        "team_manager",
        "data_scientist",
        "governance",
        "admin",
    }
    assert not any(row.cached for row in first.steps)

    # Artifacts of the run: Markdown summaries and tables, with the gate's result.
    run = _last_flow_run("demo")
    found = _artifacts(run.id)
    audit = artifact_key("audit", model.train.model_name)  # one per model
    assert {"demo", "train", audit, f"{audit}-gate", "score", "score-bands", "demo-steps"} <= set(
        found
    )
    assert "fairness gate" in found[audit]
    gate = found[f"{audit}-gate"]
    gate_row = json.loads(gate) if isinstance(gate, str) else gate
    assert gate_row[0]["gate"] in ("passed", "failed")

    # The re-run: same inputs, so every cacheable step comes from the cache.
    second = run_flow("demo", settings)
    cached = {row.step.split(" (")[0]: row.cached for row in second.steps}
    for name in (
        "synthesise",
        "ingest",
        "build-features",
        "train-fold",
        "backtest",
        "train",
        "audit",
        "report",
        "score",
    ):
        assert cached[name], (name, second.steps)
    folds = [r for r in second.steps if r.step.startswith("train-fold")]
    assert len(folds) == settings.models.splits.folds and all(r.cached for r in folds)
    assert second.models[0].train.model_version == "1"  # no new version registered
    assert second.queue[""].loaded == 0  # the queue already holds these scores
    assert second.queue[""].band_figures == 0  # and the version's figures
    slow = sum(r.seconds for r in first.steps)
    fast = sum(r.seconds for r in second.steps)
    assert fast < slow / 5

    # A changed setting the step reads (the label window) runs it again.
    changed = small(tmp_path, features={"label_window_days": 300})
    rerun = run_flow("build-features", changed)
    assert not rerun.steps[0].cached
    assert rerun.features[""].censored != first.features[""].censored

    # A deleted output is noticed: the step runs again rather than trusting the cache.
    features = first.features[""].features
    Path(features).unlink()
    rebuilt = run_flow("build-features", settings)
    assert not rebuilt.steps[0].cached
    assert path_digest(Path(features)) == first.features[""].output_digests["features"]


@pytest.mark.slow
def test_monitor_flow_reports_drift_flag_rates_and_agreement(prefect_harness, small, tmp_path):
    import sqlalchemy as sa

    from frontdoor.review.auth import list_users
    from frontdoor.review.schema import scored_referrals
    from frontdoor.review.store import ready_engine, record_decision

    settings = small(tmp_path)
    run_flow("demo", settings)
    # Managers decide on three referrals in the queue: two agree with the flag, one does not.
    engine = ready_engine(settings)
    with engine.connect() as conn:
        scores = conn.execute(
            sa.select(scored_referrals.c.id).order_by(scored_referrals.c.id).limit(3)
        ).all()
    manager = next(u for u in list_users(engine) if u["role"] == "reviewer")
    for i, (score_id,) in enumerate(scores):
        record_decision(
            engine,
            score_id=score_id,
            user_id=manager["id"],
            username=manager["username"],
            role="reviewer",
            agrees=i < 2,
            action="assessment" if i < 2 else "no_further_action",
            rationale="Test decision on a synthetic referral, recorded for the monitor.",
            form_token=f"token-{i}",
        )
    monitored = run_flow("monitor", settings).monitor[""]
    result, files = monitored.summary, monitored.files
    assert result["decisions_reviewed"] == "c"  # 3 decisions: a count from 1 to 5
    agreement = pd.read_csv(files["agreement"])
    overall = agreement[agreement["dimension"] == "overall"].iloc[0]
    assert overall["decisions"] == "c"  # 3 decisions: a count from 1 to 5 is suppressed
    assert "band" in set(agreement["dimension"])
    assert result["label"] == settings.models.primary_label
    assert 0 <= result["score_drift"]["psi"] < 10
    drift = pd.read_csv(files["feature_drift"])
    assert len(drift) > 10 and {"feature", "psi", "status"} <= set(drift.columns)
    rates = pd.read_csv(files["flag_rates"])
    assert {"month", "scored", "flag_rate"} <= set(rates.columns)
    summary = json.loads(Path(files["summary"]).read_text())
    assert summary["model_version"] == "1"
    assert summary["notice"] == REVIEW_NOTICE and set(rates["notice"]) == {REVIEW_NOTICE}
    # the deployed model was calibrated on the newest labels: nothing later is labelled yet, so
    # no in-sample fairness is published and the summary says why
    assert summary["fairness_calibration_end"] and "fairness" not in files
    assert "not audited yet" in summary["fairness_note"]
    found = _artifacts(_last_flow_run("monitor").id)
    assert {"monitor", "monitor-drift", "monitor-steps"} <= set(found)


def test_steps_are_plain_functions_callable_without_prefect(small, tmp_path):
    settings = small(tmp_path, synth={"children": 800})
    raw = settings.resolve(settings.paths.synthetic)
    made = t.synth_step.fn(settings, out=str(raw))
    assert made.tables["referrals"] > 0
    ing = t.ingest_step.fn(
        settings, sources=raw, out=str(settings.resolve(settings.paths.canonical))
    )
    assert ing.balanced and ing.totals["read"] == ing.totals["loaded"] + ing.totals["quarantined"]
    assert ing.output_digests["canonical"] == path_digest(
        settings.resolve(settings.paths.canonical)
    )


def test_cache_keys_follow_content_and_settings_not_paths_or_secrets(small, tmp_path):
    a = small(tmp_path)
    b = small(tmp_path, synth={"seed": 1})
    assert settings_digest(a, ["synth"]) != settings_digest(b, ["synth"])
    assert settings_digest(a, ["models"]) == settings_digest(b, ["models"])
    c = a.model_copy(update={"privacy": a.privacy.model_copy(update={"pseudonym_key": None})})
    assert settings_digest(a, ["privacy"]) != settings_digest(c, ["privacy"])
    assert a.privacy.pseudonym_key.get_secret_value() not in json.dumps(
        {"d": settings_digest(a, ["privacy"])}
    )
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "x.parquet").write_bytes(b"one")
    first = path_digest(folder)
    (folder / ".x.parquet.tmp").write_bytes(b"partial")  # hidden temporaries do not count
    assert path_digest(folder) == first
    (folder / "x.parquet").write_bytes(b"two")
    assert path_digest(folder) != first


def test_only_transient_io_errors_are_retried():
    import sqlalchemy.exc

    assert is_transient(ConnectionResetError())
    assert is_transient(TimeoutError())
    assert is_transient(sqlalchemy.exc.OperationalError("x", {}, Exception("database is locked")))
    assert not is_transient(FileNotFoundError("no such extract"))
    assert not is_transient(ValueError("bad value in row 3"))
    assert not is_transient(KeyError("column"))


@pytest.mark.slow  # starts a Prefect server (about 9 s on an idle machine)
def test_a_step_retries_a_transient_io_error_but_not_a_data_error(prefect_harness, small, tmp_path):
    from prefect import flow

    from frontdoor.pipelines.steps import Result, run_one, step

    settings = small(tmp_path, pipelines={"task_retries": 2, "retry_delay_seconds": 0})
    attempts = tmp_path / "attempts.txt"

    @dataclass(kw_only=True)
    class Attempts(Result):
        attempts: int

    @step("flaky-read", cache=False)
    def flaky(settings, fail_with: str) -> Attempts:
        count = int(attempts.read_text()) + 1 if attempts.exists() else 1
        attempts.write_text(str(count))
        if fail_with == "io" and count < 2:
            raise ConnectionResetError("the share dropped the connection")
        if fail_with == "data":
            raise ValueError("row 3, column referral_date: not a date")
        return Attempts(attempts=count)

    @flow
    def once(settings: dict, fail_with: str) -> Attempts:
        from frontdoor.settings import Settings

        return run_one([], flaky, Settings.model_validate(settings), fail_with=fail_with)

    assert once(settings.model_dump(), "io").attempts == 2  # failed once, retried, succeeded
    attempts.unlink()
    with pytest.raises(ValueError, match="row 3"):
        once(settings.model_dump(), "data")
    assert attempts.read_text() == "1"  # a bad value is not retried


def test_each_council_of_a_consortium_has_its_own_folders_and_models(small, tmp_path):
    from frontdoor.pipelines.flows import Where, council_settings, scopes

    settings = small(tmp_path, pipelines={"councils": ["north", "south"]})
    north, south = (council_settings(settings, c) for c in ("north", "south"))
    assert Where.of(north).canonical == tmp_path / "data/councils/north/canonical"
    assert Where.of(south).features == tmp_path / "data/councils/south/features/features.parquet"
    assert Where.of(north).raw == tmp_path / "data/synthetic/north"
    assert north.tracking.model_name_prefix == "frontdoor-north"
    assert north.privacy == settings.privacy  # one key per run; each council may configure its own
    assert [s.name for s in scopes(settings)] == ["north", "south"]
    assert [s.name for s in scopes(small(tmp_path))] == [""]
    extracts = small(tmp_path, pipelines={"councils": ["north"], "extracts": "/srv/extracts"})
    assert Where.of(council_settings(extracts, "north")).raw == Path("/srv/extracts/north")


def test_a_change_in_a_rooms_code_changes_the_cache_key(tmp_path, monkeypatch):
    from frontdoor.pipelines.steps import code_digest, inputs_key

    room = tmp_path / "someroom"
    room.mkdir()
    (room / "__init__.py").write_text("")
    (room / "fit.py").write_text("A = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    before = inputs_key({"label": "x"}, (), ("someroom",))
    (room / "fit.py").write_text("A = 2\n")
    code_digest.cache_clear()
    assert inputs_key({"label": "x"}, (), ("someroom",)) != before
    assert inputs_key({"label": "x"}, (), ()) == inputs_key({"label": "x"}, (), ())
