"""Commands of the governance room: ``audit`` (any scores, or a registered model), ``promote``,
``compare`` and ``report``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from frontdoor import REVIEW_NOTICE
from frontdoor.command_support import fail, print_notice, settings_from, sub_app

app = sub_app()
console = Console(width=150)  # a group's eight columns of figures without wrapping


def _figure(m) -> str:
    """A metric as published: a value with its interval, or the word that replaced it."""
    if isinstance(m, str):
        return m
    v = m.get("value")
    if isinstance(v, str):
        return v
    if v is None:
        return "n/a"
    lo, hi = m.get("lo"), m.get("hi")
    return f"{v:.3f}" + (f" ({lo:.2f}-{hi:.2f})" if isinstance(lo, float) else "")


def _group_table(name: str, block: dict) -> Table:
    table = Table(title=f"{name} (reference: {block['reference']})")
    for col in ("group", "n", "base rate", "flag rate", "FNR", "FPR", "FNR ratio", "FPR ratio"):
        table.add_column(col)
    for group, g in block["groups"].items():
        if isinstance(g["metrics"], str):
            table.add_row(group, str(g["counts"]["n"]), g["metrics"], "", "", "", "", "")
            continue
        m, d = g["metrics"], g["disparities"]
        figures = (m["base_rate"], m["flag_rate"], m["fnr"], m["fpr"], d["fnr"], d["fpr"])
        table.add_row(group, str(g["counts"]["n"]), *(_figure(x) for x in figures))
    return table


def print_summary(record: dict) -> None:
    """A readable summary: overall figures, the gate verdict, and each group's error rates."""
    console.print(f"[bold]{REVIEW_NOTICE}[/]")
    o = record["overall"]
    console.print(
        f"Overall: n={o['counts']['n']}, with outcome={o['counts']['positives']}, "
        f"flagged={o['counts']['flagged']}, AUC {_figure(o['metrics']['auc'])}, "
        f"FNR {_figure(o['metrics']['fnr'])}, FPR {_figure(o['metrics']['fpr'])}"
    )
    for name, block in record["characteristics"].items():
        console.print(_group_table(name, block))
    gate = record.get("gate")
    if gate:
        colour = "green" if gate["passed"] else "red"
        console.print(f"[bold {colour}]Gate {gate['summary']}[/]")


@app.command("audit")
def audit(
    ctx: typer.Context,
    scores: Path | None = typer.Option(None, "--scores", help="CSV or Parquet file of scores."),
    score: str | None = typer.Option(None, "--score", help="Column holding the score."),
    label: str | None = typer.Option(
        None,
        "--label",
        help="With --scores: the 0/1 outcome column. With --model-version: the model's label.",
    ),
    threshold: float | None = typer.Option(None, "--threshold", help="Flag rows whose score >= T."),
    group: list[str] | None = typer.Option(  # noqa: B006
        None, "--group", help="A column of groups to audit (repeat for several)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Folder for audit.json and audit.html."),
    reference: list[str] | None = typer.Option(  # noqa: B006
        None, "--reference", help="COLUMN=GROUP: the reference group (default: the largest)."
    ),
    model_version: str | None = typer.Option(
        None,
        "--model-version",
        help="Audit a registered frontdoor model version (number or alias).",
    ),
) -> None:
    """Fairness audit of any scoring tool's scores, or of a registered model version.

    With --scores: writes DIR/audit.json and DIR/audit.html and prints a summary.
    With --model-version: audits the run's test predictions, logs metrics, artifacts and
    the gate verdict (tags) to MLflow.
    """
    from frontdoor.governance import audits  # (start-up time)

    settings = settings_from(ctx)
    if model_version is not None:
        model_label = label or settings.models.primary_label
        try:
            done = audits.audit_version(settings, model_label, model_version, out)
        except audits.VERSION_AUDIT_ERRORS as error:
            fail(f"cannot audit version {model_version} of label {model_label}: {error}")
        print_summary(done.audited.record)
        if out is not None:
            console.print(f"Wrote {done.json_path} and {done.html_path}")
        verdict = "pass" if done.audited.gate.passed else "fail"
        console.print(f"Logged to MLflow run {done.audited.run_id} (tags fairness.gate={verdict}).")
        return
    given = {"--scores": scores, "--score": score, "--label": label, "--threshold": threshold}
    missing = [k for k, v in {**given, "--group": group, "--out": out}.items() if v in (None, [])]
    if missing:
        fail(f"give {', '.join(missing)} (or --model-version to audit a registered model)")
    try:
        record = audits.audit_scores_file(
            settings, scores, score, label, threshold, group, out, reference or []
        )
    except audits.AuditRequestError as error:
        fail(str(error))
    print_summary(record)
    console.print(f"Wrote {out / 'audit.json'} and {out / 'audit.html'}")


@app.command("promote")
def promote(
    ctx: typer.Context,
    version: str = typer.Argument(..., help="The model version number to promote."),
    label: str | None = typer.Option(None, "--label", help="The model's label (default: primary)."),
    override_rationale: str | None = typer.Option(
        None,
        "--override-rationale",
        help="Why a version that failed the gate may still be used.",
    ),
    by: str | None = typer.Option(
        None, "--by", help="Who is promoting (required; recorded in the promotion log)."
    ),
    features: Path | None = typer.Option(
        None, "--features", help="Feature table whose latest referrals the band check uses."
    ),
) -> None:
    """Make VERSION champion if its gate passed (or an override is recorded), it is not worse
    than the champion on the same test rows and its bands are sane; log it either way."""
    from frontdoor.governance import promotion  # (start-up time)

    settings = settings_from(ctx)
    try:
        p = promotion.promote(
            settings,
            label or settings.models.primary_label,
            version,
            override_rationale,
            by,
            features,
        )
    except promotion.PromotionRefused as error:
        where = " (recorded in the promotion log)" if error.recorded else ""
        fail(f"promotion refused{where}. {error}", code=1)
    if p.already:
        console.print(
            f"{p.model_name} version {p.version} is already champion (promoted {p.at} by "
            f"{p.by}); nothing was written."
        )
    else:
        how = "OVERRIDE of a failed gate (recorded)" if p.overridden else "every guard passed"
        console.print(
            f"{p.model_name} version {p.version} is now champion ({how}); previous champion: "
            f"{p.previous_champion or 'none'}; by {p.by} at {p.at}."
        )
        comparison = p.checks.get("comparison", {}).get("text")
        if comparison:
            console.print(f"compared with the champion: {comparison}")
    print_notice()


@app.command("compare")
def compare(
    ctx: typer.Context,
    challenger: str = typer.Argument(..., help="Version number or alias to compare."),
    champion: str | None = typer.Argument(
        None, help="Version to compare with (default: the champion the promotion log names)."
    ),
    label: str | None = typer.Option(None, "--label", help="The model's label (default: primary)."),
) -> None:
    """Two versions on the same test referrals: metrics with paired intervals, calibration, flags
    in natural frequencies, fairness, settings and features that differ."""
    from mlflow.exceptions import MlflowException  # (start-up time)

    from frontdoor.governance import compare as comparing

    settings = settings_from(ctx)
    try:
        found = comparing.compare(
            settings, label or settings.models.primary_label, challenger, champion
        )
    except (LookupError, ValueError, MlflowException, OSError) as error:
        fail(f"cannot compare {challenger} with {champion or 'the champion'}: {error}")
    for line in comparing.comparison_text(found):
        console.print(line, markup=False)
    print_notice()


@app.command("report")
def report(
    ctx: typer.Context,
    model_version: str = typer.Option(..., "--model-version", help="Version number or alias."),
    label: str | None = typer.Option(None, "--label", help="The model's label (default: primary)."),
    out: Path | None = typer.Option(None, "--out", help="HTML file (default: data/reports/...)."),
) -> None:
    """Write the governance report (model card + ATRS record) as one HTML file, and log it to MLflow."""
    from mlflow.exceptions import MlflowException  # (start-up time)

    from frontdoor.governance.report import build_report

    settings = settings_from(ctx)
    try:
        result = build_report(settings, label or settings.models.primary_label, model_version, out)
    except (LookupError, ValueError, MlflowException, OSError) as error:
        fail(f"cannot build the report for version {model_version}: {error}")
    console.print(
        f"Wrote {result.html_path} and {result.atrs_path}; logged to MLflow run {result.run_id}."
    )
    print_notice()
