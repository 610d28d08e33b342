"""Commands of the synth room: ``frontdoor synth`` makes a synthetic council and prints it."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from frontdoor.command_support import console, settings_from, sub_app

app = sub_app()


def summary_tables(council) -> tuple[Table, Table]:
    """Rows per table, and achieved rates against England's."""
    from frontdoor.synth.rates import TARGETS, top_factor_groups, within_targets  # (start-up time)

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
    cmp.add_row(
        "two most common assessment factors",
        " & ".join(top_factor_groups(rates)),
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


@app.command("synth")
def synth_command(
    ctx: typer.Context,
    children: int | None = typer.Option(None, "--children", help="Children (default: settings)."),
    years: int | None = typer.Option(
        None, "--years", help="Years of history ending on the reference date."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (same seed, same files)."),
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
    from frontdoor.synth.council import GROUND_TRUTH_DIR  # (start-up time)
    from frontdoor.synth.run import synthesise, with_overrides

    settings = with_overrides(
        settings_from(ctx), children, years, seed, surveillance_bias, under_recording_bias
    )
    folder = Path(out) if out is not None else settings.resolve(settings.paths.synthetic)
    council, seconds = synthesise(settings, folder, export)
    if export is not None:
        console.print(f"Exported Annex A, CIN census XML and CSVs to {export}")
    made, rates = summary_tables(council)
    console.print(made)
    console.print(rates)
    console.print(
        f"Wrote {folder} (oracle in {folder / GROUND_TRUTH_DIR}, never read by models) "
        f"in {seconds:.1f} s."
    )
