"""Governance commands: ``audit`` (any scores, or a registered model), ``promote`` and ``report``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from frontdoor import REVIEW_NOTICE

console = Console(width=150)
err = Console(stderr=True, soft_wrap=True)


def _settings(ctx: typer.Context):
    from frontdoor.command_support import settings_from

    return settings_from(ctx)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def read_scores(path: Path, groups: list[str]) -> pd.DataFrame:
    """A CSV or Parquet file of scores; group columns are read as text (their own values)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        for g in groups:
            if g in frame:
                frame[g] = frame[g].astype(object).where(frame[g].notna(), None)
                frame[g] = frame[g].map(lambda v: v if v is None else str(v))
        return frame
    if suffix in (".csv", ".txt"):
        return pd.read_csv(path, dtype={g: str for g in groups}, keep_default_na=True)
    raise ValueError(f"{path}: expected a .csv or .parquet file, not {suffix or 'no suffix'}")


def print_summary(record: dict) -> None:
    """A readable summary: overall figures, the gate verdict, and each group's error rates."""
    console.print(f"[bold]{REVIEW_NOTICE}[/]")
    o = record["overall"]

    def show(m) -> str:
        if isinstance(m, str):
            return m
        v = m.get("value")
        if isinstance(v, str):
            return v
        if v is None:
            return "n/a"
        lo, hi = m.get("lo"), m.get("hi")
        return f"{v:.3f}" + (f" ({lo:.2f}-{hi:.2f})" if isinstance(lo, float) else "")

    console.print(
        f"Overall: n={o['counts']['n']}, with outcome={o['counts']['positives']}, "
        f"flagged={o['counts']['flagged']}, AUC {show(o['metrics']['auc'])}, "
        f"FNR {show(o['metrics']['fnr'])}, FPR {show(o['metrics']['fpr'])}"
    )
    for name, block in record["characteristics"].items():
        table = Table(title=f"{name} (reference: {block['reference']})")
        for col in ("group", "n", "base rate", "flag rate", "FNR", "FPR", "FNR ratio", "FPR ratio"):
            table.add_column(col)
        for group, g in block["groups"].items():
            if isinstance(g["metrics"], str):
                table.add_row(group, str(g["counts"]["n"]), g["metrics"], "", "", "", "", "")
                continue
            m, d = g["metrics"], g["disparities"]
            table.add_row(
                group,
                str(g["counts"]["n"]),
                show(m["base_rate"]),
                show(m["flag_rate"]),
                show(m["fnr"]),
                show(m["fpr"]),
                show(d["fnr"]),
                show(d["fpr"]),
            )
        console.print(table)
    gate = record.get("gate")
    if gate:
        colour = "green" if gate["passed"] else "red"
        console.print(f"[bold {colour}]Gate {gate['summary']}[/]")


def register(app: typer.Typer) -> None:
    """Add the governance commands to the frontdoor CLI."""

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
        threshold: float | None = typer.Option(
            None, "--threshold", help="Flag rows whose score >= T."
        ),
        group: list[str] | None = typer.Option(  # noqa: B006
            None, "--group", help="A column of groups to audit (repeat for several)."
        ),
        out: Path | None = typer.Option(
            None, "--out", help="Folder for audit.json and audit.html."
        ),
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
        from frontdoor.governance.fairness.audit import AuditInputError, run_audit
        from frontdoor.governance.fairness.publish import published_audit, write_audit
        from frontdoor.governance.gate import evaluate_gate

        settings = _settings(ctx)
        up_to = settings.privacy.suppress_counts_up_to
        if model_version is not None:
            from frontdoor.governance.promotion import audit_model_version

            model_label = label or settings.models.primary_label
            from mlflow.exceptions import MlflowException

            try:
                result = audit_model_version(settings, model_label, model_version)
            except (AuditInputError, MlflowException, OSError) as error:
                _fail(f"cannot audit version {model_version} of label {model_label}: {error}")
            print_summary(result.record)
            if out is not None:
                write_audit(
                    result.audit,
                    out,
                    up_to,
                    f"{result.model_name} version {result.version}",
                    result.gate,
                )
                console.print(f"Wrote {out / 'audit.json'} and {out / 'audit.html'}")
            console.print(
                f"Logged to MLflow run {result.run_id} (tags fairness.gate={'pass' if result.gate.passed else 'fail'})."
            )
            return
        missing = [
            opt
            for opt, v in (
                ("--scores", scores),
                ("--score", score),
                ("--label", label),
                ("--threshold", threshold),
                ("--group", group),
                ("--out", out),
            )
            if v in (None, [])
        ]
        if missing:
            _fail(f"give {', '.join(missing)} (or --model-version to audit a registered model)")
        try:
            frame = read_scores(scores, group)
        except (OSError, ValueError) as error:
            _fail(str(error))
        refs: dict[str, str] = {}
        for item in reference or []:
            col, sep, value = item.partition("=")
            if not sep:
                _fail(f"--reference expects COLUMN=GROUP, got {item!r}")
            refs[col] = value
        fairness = settings.fairness.model_copy(
            update={
                "reference_groups": {**settings.fairness.reference_groups, **refs},
                "gated_characteristics": list(group),
            }
        )
        try:
            result = run_audit(
                frame,
                label=label,
                score=score,
                threshold=threshold,
                characteristics={g: g for g in group},
                settings=fairness,
            )
        except AuditInputError as error:
            _fail(f"{scores}: {error}")
        gate = evaluate_gate(result, fairness)
        write_audit(result, out, up_to, f"{scores.name} ({score} ≥ {threshold})", gate)
        print_summary(published_audit(result, up_to, gate))
        console.print(f"Wrote {out / 'audit.json'} and {out / 'audit.html'}")

    @app.command("promote")
    def promote(
        ctx: typer.Context,
        version: str = typer.Argument(..., help="The model version number to promote."),
        label: str | None = typer.Option(
            None, "--label", help="The model's label (default: primary)."
        ),
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
        from frontdoor.governance.promotion import PromotionRefused
        from frontdoor.governance.promotion import promote as do_promote

        settings = _settings(ctx)
        try:
            p = do_promote(
                settings,
                label or settings.models.primary_label,
                version,
                override_rationale,
                by,
                features,
            )
        except PromotionRefused as error:
            _fail(f"promotion refused (recorded in the promotion log). {error}", code=1)
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
        console.print(REVIEW_NOTICE)

    @app.command("report")
    def report(
        ctx: typer.Context,
        model_version: str = typer.Option(..., "--model-version", help="Version number or alias."),
        label: str | None = typer.Option(
            None, "--label", help="The model's label (default: primary)."
        ),
        out: Path | None = typer.Option(
            None, "--out", help="HTML file (default: data/reports/...)."
        ),
    ) -> None:
        """Write the governance report (model card + ATRS record) as one HTML file, and log it to MLflow."""
        from mlflow.exceptions import MlflowException

        from frontdoor.governance.report import build_report

        settings = _settings(ctx)
        try:
            result = build_report(
                settings, label or settings.models.primary_label, model_version, out
            )
        except (LookupError, ValueError, MlflowException, OSError) as error:
            _fail(f"cannot build the report for version {model_version}: {error}")
        console.print(
            f"Wrote {result.html_path} and {result.atrs_path}; logged to MLflow run {result.run_id}."
        )
        console.print(REVIEW_NOTICE)
