"""``frontdoor synth``: generate a synthetic council, write it, print what was made."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from frontdoor.settings import Settings, load_settings
from frontdoor.synth.council import GROUND_TRUTH_DIR, SyntheticCouncil, generate, write_council
from frontdoor.synth.rates import TARGETS, top_factor_groups, within_targets

console = Console()


def with_overrides(
    settings: Settings,
    children: int | None = None,
    years: int | None = None,
    seed: int | None = None,
    surveillance_bias: bool | None = None,
    under_recording_bias: bool | None = None,
) -> Settings:
    """A copy of ``settings`` with the synth options given on the command line."""
    cfg = settings.synth
    changes: dict = {}
    for name, value in (("children", children), ("years", years), ("seed", seed)):
        if value is not None:
            changes[name] = value
    if surveillance_bias is not None:
        changes["surveillance_bias"] = cfg.surveillance_bias.model_copy(
            update={"enabled": surveillance_bias}
        )
    if under_recording_bias is not None:
        changes["under_recording_bias"] = cfg.under_recording_bias.model_copy(
            update={"enabled": under_recording_bias}
        )
    synth_cfg = cfg.model_validate({**cfg.model_dump(), **{k: v for k, v in changes.items()}})
    return settings.model_copy(update={"synth": synth_cfg})


def summary_tables(council: SyntheticCouncil) -> tuple[Table, Table]:
    """Rows per table, and achieved rates against England's."""
    m = council.manifest
    made = Table(title=f"{m['local_authority']}: {m['window_start']} to {m['reference_date']}")
    made.add_column("table")
    made.add_column("rows", justify="right")
    for name, frame in council.tables.items():
        made.add_row(name, f"{len(frame):,}")
    made.add_row("ground_truth (separate folder)", f"{len(council.ground_truth):,}")

    rates = m["achieved_rates"]
    ok = within_targets(rates)
    cmp = Table(title=f"Achieved rates (child population {m['child_population']:,.0f})")
    for col in ("rate", "achieved", "England", "tolerance", ""):
        cmp.add_column(col, justify="right" if col else "left")
    for name, (target, lo, hi, meaning) in TARGETS.items():
        fmt = "{:.3f}" if target < 1 else "{:.0f}"
        cmp.add_row(
            meaning,
            fmt.format(rates[name]),
            fmt.format(target),
            f"{fmt.format(lo)}-{fmt.format(hi)}",
            "ok" if ok[name] else "OFF",
        )
    top = top_factor_groups(rates)
    cmp.add_row(
        "two most common assessment factors",
        " & ".join(top),
        "domestic abuse & parental mental health",
        "",
        "ok" if ok["top_factors_da_and_mh"] else "OFF",
    )
    for name in (
        "contacts_per_10k",
        "assessments_per_10k",
        "da_notifications_per_10k",
        "early_help_per_10k",
    ):
        cmp.add_row(name.replace("_", " "), f"{rates[name]:.0f}", "", "", "")
    gt = m["ground_truth_mean"]
    cmp.add_row("mean oracle P(re-referral 12m)", f"{gt['p_rereferral_12m']}", "", "", "")
    cmp.add_row("mean oracle P(escalation 12m)", f"{gt['p_escalation_12m']}", "", "", "")
    return made, cmp


def register(app: typer.Typer) -> None:
    """Add ``frontdoor synth``."""

    @app.command("synth")
    def synth_command(
        ctx: typer.Context,
        children: int | None = typer.Option(
            None, "--children", help="Children (default: settings)."
        ),
        years: int | None = typer.Option(
            None, "--years", help="Years of history ending on the reference date."
        ),
        seed: int | None = typer.Option(
            None, "--seed", help="Random seed (same seed, same files)."
        ),
        out: Path | None = typer.Option(
            None, "--out", help="Output folder (default: paths.synthetic)."
        ),
        surveillance_bias: bool | None = typer.Option(
            None,
            "--surveillance-bias/--no-surveillance-bias",
            help="One group over-referred by one source beyond its need (default: settings).",
        ),
        under_recording_bias: bool | None = typer.Option(
            None,
            "--under-recording-bias/--no-under-recording-bias",
            help="One group's assessment factors recorded less completely (default: settings).",
        ),
        export: Path | None = typer.Option(
            None,
            "--export",
            help="Also write the council as an Annex A workbook, a CIN census XML file and "
            "CSVs (with its ground truth) into this folder, for `frontdoor ingest`.",
        ),
    ) -> None:
        """Generate a synthetic council with known ground truth and print what it made."""
        root = ctx.find_root().obj
        settings = root if isinstance(root, Settings) else load_settings()
        settings = with_overrides(
            settings, children, years, seed, surveillance_bias, under_recording_bias
        )
        folder = Path(out) if out is not None else settings.resolve(settings.paths.synthetic)
        started = time.perf_counter()
        council = generate(settings)
        write_council(council, folder)
        elapsed = time.perf_counter() - started
        if export is not None:
            from frontdoor.records.export import export_council

            export_council(
                council.tables,
                export,
                reference_date=settings.synth.end_date,
                ground_truth=council.ground_truth,
            )
            console.print(f"Exported Annex A, CIN census XML and CSVs to {export}")
        made, rates = summary_tables(council)
        console.print(made)
        console.print(rates)
        console.print(
            f"Wrote {folder} (oracle in {folder / GROUND_TRUTH_DIR}, never read by models) "
            f"in {elapsed:.1f} s."
        )
