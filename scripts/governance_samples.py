"""Make docs/samples/governance-report-sample.html, docs/samples/atrs-sample.json and
docs/screenshots/governance-report-page-one*.png from the current code (see
scripts/governance-samples). Prints what it made and the figures it read."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from frontdoor.review.screenshots import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = CHROMIUM_ARGS  # the one list of launch flags (review.screenshots)


def run(*args: str, config: Path, env: dict[str, str] | None = None) -> str:
    cmd = [str(ROOT / ".venv/bin/frontdoor"), "--config", str(config), *args]
    print("$", " ".join(cmd[1:]), flush=True)
    done = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def screenshots(html: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.goto(html.as_uri())
        target = ROOT / "docs/screenshots/governance-report-page-one.png"
        page.locator("#summary").screenshot(path=str(target))
        out.append(target)
        page.emulate_media(media="print")
        printed = ROOT / "docs/screenshots/governance-report-page-one-print.png"
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        page.screenshot(path=str(printed))
        out.append(printed)
        pdf = Path(tempfile.mkdtemp()) / "report.pdf"
        page.pdf(path=str(pdf), format="A4")
        print(f"printed to PDF: {pdf.stat().st_size:,} bytes")
        browser.close()
    return out


def metric_keys(root: Path) -> str:
    """How many metric keys the champion's run has (issue 14 found 2,052, 1,631 of them fairness)."""
    from frontdoor.models import registry
    from frontdoor.models.tracking import client
    from frontdoor.settings import Settings

    settings = Settings(paths={"root": str(root)})
    mv = registry.get_version(settings, settings.models.primary_label, "champion")
    keys = client(settings).get_run(mv.run_id).data.metrics
    fairness = [k for k in keys if k.startswith("fairness")]
    return f"champion run: {len(keys)} metric keys, {len(fairness)} of them fairness"


def main(children: int, reuse: Path | None = None) -> None:
    """The demo in a fresh folder (or, with ``reuse``, a folder where `frontdoor demo` already
    ran with its frontdoor.yaml), then the oracle gap, the report, the samples and screenshots."""
    if reuse is not None:
        samples(reuse, reuse / "frontdoor.yaml")
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config = root / "frontdoor.yaml"
        config.write_text(
            f"paths:\n  root: {root}\nsynth:\n  children: {children}\n"
            "pipelines:\n  ephemeral_startup_seconds: 300\n",
            encoding="utf-8",
        )
        (root / "pyproject.toml").write_text('[project]\nname = "frontdoor"\n', encoding="utf-8")
        print(run("demo", config=config)[-2000:])
        samples(root, config)


def samples(root: Path, config: Path) -> None:
    """oracle-gap and report on the demo's champion; the samples and screenshots in docs/."""
    # the gap to the oracle and the learning curve, logged to the champion's run (the demo's
    # folder is pseudonymised with the demo key: demo mode, announced, as the demo itself)
    print(
        run(
            "oracle-gap",
            "--label",
            "escalation_12m",
            "--model-version",
            "champion",
            config=config,
            env={"FRONTDOOR_DEMO_MODE": "true"},
        )
    )
    out = root / "report.html"
    print(
        run(
            "report",
            "--model-version",
            "champion",
            "--out",
            str(out),
            config=config,
            env={"FRONTDOOR_DEMO_MODE": "true"},  # the demo's promotion-log key
        )
    )
    folder = ROOT / "docs/samples"
    shutil.copy(out, folder / "governance-report-sample.html")
    shutil.copy(out.with_name("report-atrs.json"), folder / "atrs-sample.json")
    record = json.loads((folder / "atrs-sample.json").read_text())
    print(
        "ATRS:",
        record["completion"]["filled_by_pipeline"],
        "fields by the pipeline,",
        len(record["completion"]["to_be_completed_by_council"]),
        "for the council",
    )
    print(metric_keys(root))
    log = root / "data/governance/promotion-log.jsonl"
    print("promotion log rows:", log.read_text().count("\n"))
    for path in screenshots(folder / "governance-report-sample.html"):
        print("screenshot:", path.relative_to(ROOT))


if __name__ == "__main__":
    args = sys.argv[1:]
    reuse = Path(args[args.index("--reuse") + 1]) if "--reuse" in args else None
    numbers = [a for a in args if a.isdigit()]
    main(int(numbers[0]) if numbers else 10000, reuse)
