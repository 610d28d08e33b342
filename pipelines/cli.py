"""Commands of the pipelines room: the one-command demo, running any flow, and the schedules.

frontdoor demo                      the whole job on a synthetic council
frontdoor flow list                 the flows and what they do
frontdoor flow run NAME [...]       run one flow now, in this process
frontdoor deployments               the scheduled deployments (nightly, weekly, monthly)
frontdoor serve-flows               serve them: runs each on its schedule until stopped
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from frontdoor.command_support import (
    console,
    fail,
    print_notice,
    print_table,
    settings_from,
    settings_with,
    sub_app,
)
from frontdoor.logs import log_file

app = sub_app()
flow_app = sub_app("Run the Prefect flows (ingest, features, train, audit, score, ...).")
app.add_typer(flow_app, name="flow")


def expected_steps(name: str, labels: int = 1, folds: int = 3) -> int | None:
    """How many steps a flow reports (for the overall bar); None when it depends on the data."""
    training = folds + 2  # one task per fold, backtest (combining them), train (MLflow)
    per_model = training + 3  # ... audit, report, promote
    prepare = 1 if labels > 1 else 0  # the MLflow store is prepared before parallel training
    known = {
        "demo": 7 + per_model * labels + prepare,
        "build-features": 1,
        "monitor": 2,
        "train": training * labels + prepare,
    }
    return known.get(name)


def _run_with_progress(
    name: str, settings, verbose: bool = False, **parameters: Any
) -> tuple[Any, float]:
    """Run a flow with an overall bar and one line per step (a moving bar while it runs).
    What the libraries say goes to the log file (shown with --verbose); a run that finds no
    data or no model ends with what is missing, not a traceback."""
    try:
        return _progress_bars(name, settings, verbose, **parameters)
    except LookupError as error:  # preflight.NothingToRunOn, a missing version, ...
        fail(f"flow {name} stopped: {error}. Details in {log_file(settings)}", code=1, prefix="")


def _progress_bars(name: str, settings, verbose: bool, **parameters: Any) -> tuple[Any, float]:
    from frontdoor.pipelines.progress import listening  # (start-up time)
    from frontdoor.pipelines.runners import run_flow

    columns = (
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("{task.description}"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    labels = len(parameters.get("labels") or [None])
    started = time.perf_counter()
    with Progress(*columns, console=console, transient=False) as progress:
        overall = progress.add_task(
            f"[bold]{name}[/bold]: starting Prefect",
            total=expected_steps(name, labels, settings.models.splits.folds),
        )
        lines: dict[str, Any] = {}

        def listen(event: str, step: str, cached: bool | None) -> None:
            progress.update(overall, description=f"[bold]{name}[/bold]")
            if event == "start":
                lines[step] = progress.add_task(step, total=None)  # a moving bar while it runs
            elif step in lines:
                note = " [dim](from the cache)[/dim]" if cached else ""
                progress.update(lines[step], total=1, completed=1, description=f"{step}{note}")
                progress.advance(overall)

        with listening(listen):
            result = run_flow(name, settings, verbose=verbose, **parameters)
        progress.update(overall, total=len(result.steps), completed=len(result.steps))
    return result, time.perf_counter() - started


def _print_steps(result) -> None:
    rows = [(s.step, "yes" if s.cached else "no", f"{s.seconds:.1f}") for s in result.steps]
    print_table("steps", ("step", "cached", "seconds"), rows)


def _summary(name: str, result, seconds: float, settings) -> None:
    from frontdoor.pipelines.runners import produced  # (start-up time)

    _print_steps(result)
    made = produced(result)
    if made:
        print_table("produced", ("what", "where"), made.items())
    console.print(f"flow [bold]{name}[/bold] finished in {seconds:.0f} s.")
    console.print(f"Prefect, Dask and MLflow output: {log_file(settings)}")
    for m in result.models:
        console.print(f"Fairness gate: {m.audit.gate_summary}")


def _mlflow_ui(settings) -> str:
    from frontdoor.models.tracking import tracking_uri  # (start-up time: MLflow, +20 s)

    uri = tracking_uri(settings)
    return f"open {uri}" if uri.startswith("http") else f"mlflow ui --backend-store-uri {uri}"


def _model_lines(m) -> None:
    tr, au, pr = m.train, m.audit, m.promotion
    gate = "[green]PASSED[/green]" if au.gate_passed else "[red]FAILED[/red]"
    console.print(
        f"- {tr.model_name} version {tr.model_version}: backtest AUC {tr.auc:.3f} "
        f"(current-practice rule {tr.auc_rule:.3f}); fairness gate {gate} ({au.gate_summary})."
    )
    if pr.overridden:
        console.print(
            "  [bold yellow]Promoted to champion by a DEMO OVERRIDE of the failed gate[/bold yellow]"
            " (recorded on the model version with its rationale; demo mode only)."
        )
    elif pr.promoted:
        console.print("  Promoted to champion because the fairness gate passed.")
    else:
        console.print(f"  Not promoted: {pr.how}.")
    if m.report:
        console.print(f"  Governance report: {m.report.report_html}")
    console.print(f"  Fairness audit: {au.audit_html}")


def _demo_epilogue(settings, result, seconds: float) -> None:
    from frontdoor.review.demo_users import saved_demo_users  # (start-up time: +4 s)

    console.rule("frontdoor demo: done")
    console.print(
        f"Synthetic council of {result.synth.children:,} children, "
        f"{result.features[''].decisions:,} decisions, in {seconds:.0f} s "
        f"({seconds / 60:.1f} min)."
    )
    for m in result.models:
        _model_lines(m)
    sc, queued = result.score[""], result.queue[""]
    console.print(
        f"- Scored {sc.scored:,} referrals of {sc.month}; {sc.flagged:,} flagged for review; "
        f"{queued.loaded:,} newly in the review queue."
    )
    console.print()
    console.print("[bold]Open the results[/bold]")
    console.print(f"  MLflow UI:   {_mlflow_ui(settings)}   (then http://127.0.0.1:5000)")
    reports = [m.report.report_html for m in result.models if m.report]
    if reports:
        console.print(f"  Report:      {reports[0]}")
    r = settings.review
    console.print(
        f"  Review app:  FRONTDOOR_DEMO_MODE=true frontdoor serve   (then http://{r.host}:{r.port})"
    )
    console.print(f"  Log:         {log_file(settings)}   (Prefect, Dask, MLflow; or --verbose)")
    users_file = Path(result.users.users_file)
    saved = saved_demo_users(users_file)
    if saved:
        print_table(
            f"demo users (kept in {users_file}, readable by you only)",
            ("user", "role", "password"),
            ((user, info["role"], info["password"]) for user, info in saved.items()),
        )
    print_notice("italic")


@app.command("demo")
def demo(
    ctx: typer.Context,
    children: int | None = typer.Option(
        None, "--children", help="Children in the synthetic council (default: synth.children)."
    ),
    all_labels: bool = typer.Option(
        False, "--all-labels", help="Train every label in models.labels, not only the primary."
    ),
    dask: str | None = typer.Option(
        None, "--dask", help='Run tasks on Dask: "local" or a scheduler address.'
    ),
) -> None:
    """Run the whole job end to end on a synthetic council (about 50,000 children):
    synthesise, ingest, build features, train, audit, report, register and promote, score
    the latest month and fill the review queue. A re-run skips unchanged steps."""
    settings = settings_with(ctx, synth={"children": children}, pipelines={"dask_address": dask})
    # The demo is the one place demo mode is on without asking: said on every run.
    settings = settings.model_copy(update={"demo_mode": True})
    console.print(
        "[bold yellow]DEMO MODE[/bold yellow]: synthetic records, a local demo "
        "pseudonymisation key and demo users; never for real records."
    )
    labels = list(settings.models.labels) if all_labels else None
    verbose = ctx.find_root().meta.get("verbose", False)
    result, seconds = _run_with_progress("demo", settings, verbose, labels=labels)
    _demo_epilogue(settings, result, seconds)  # the progress lines above list the steps


@flow_app.command("list")
def flow_list() -> None:
    """The flows, and what each does."""
    from frontdoor.pipelines.flows import FLOWS  # (start-up time)

    print_table(
        "flows (frontdoor flow run NAME)",
        ("name", "what it does"),
        ((name, " ".join((f.description or "").split())) for name, f in FLOWS.items()),
    )


@flow_app.command("run")
def flow_run(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., help="ingest, build-features, train, audit, retrain, score, monitor or demo."
    ),
    label: str | None = typer.Option(
        None, "--label", help="The outcome (default: models.primary_label)."
    ),
    version: str | None = typer.Option(
        None, "--model-version", help="audit: version number or alias (default: challenger)."
    ),
    alias: str | None = typer.Option(
        None, "--alias", help="score/monitor: the alias to use (default: champion)."
    ),
    no_promote: bool = typer.Option(False, "--no-promote", help="audit: audit only."),
    override_rationale: str | None = typer.Option(
        None, "--override-rationale", help="audit: why a failed gate is overridden (recorded)."
    ),
    by: str | None = typer.Option(None, "--by", help="audit: who overrides."),
    dask: str | None = typer.Option(None, "--dask", help='"local" or a Dask scheduler address.'),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, ignoring the cache."),
) -> None:
    """Run one flow now, in this process (a temporary local Prefect server; nothing to install)."""
    from frontdoor.pipelines.flows import FLOWS  # (start-up time)
    from frontdoor.pipelines.runners import flow_parameters

    if name not in FLOWS:
        fail(f"No flow called {name!r}. The flows: {', '.join(FLOWS)}.", prefix="")
    settings = settings_with(
        ctx, pipelines={"dask_address": dask, "cache": False if no_cache else None}
    )
    parameters = flow_parameters(
        name, label, version, alias, not no_promote, override_rationale, by
    )
    verbose = ctx.find_root().meta.get("verbose", False)
    result, seconds = _run_with_progress(name, settings, verbose, **parameters)
    if name == "demo":
        _print_steps(result)
        _demo_epilogue(settings, result, seconds)
        return
    _summary(name, result, seconds, settings)
    print_notice("italic")


@app.command("deployments")
def deployments(ctx: typer.Context) -> None:
    """The scheduled deployments: nightly scoring, weekly monitoring, monthly retraining."""
    from frontdoor.pipelines.deployments import schedule_rows  # (start-up time)

    settings = settings_from(ctx)
    print_table(
        f"schedules ({settings.pipelines.timezone})",
        ("deployment", "flow", "cron", "what"),
        ((r["deployment"], r["flow"], r["cron"], r["what"]) for r in schedule_rows(settings)),
    )
    console.print(
        "Serve them with `frontdoor serve-flows` (this machine), or register them on a "
        "Prefect server for a worker: see docs/deployment.md."
    )


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    work_pool: str = typer.Option("frontdoor", "--work-pool", help="The worker's work pool."),
    source: str | None = typer.Option(
        None,
        "--source",
        help="Project folder (or git URL) the worker runs from (default: here).",
    ),
    config: Path | None = typer.Option(
        None, "--flow-config", help="YAML configuration the scheduled runs load."
    ),
) -> None:
    """Register the scheduled deployments on the Prefect server (PREFECT_API_URL) for a
    worker: `prefect worker start --pool frontdoor` then runs them on schedule."""
    from frontdoor.pipelines import deployments as d  # (start-up time)

    settings = settings_from(ctx)
    where = d.worker_source(settings, source)
    try:
        if d.ensure_work_pool(work_pool):
            console.print(f"Created the work pool {work_pool!r} (type process).")
    except d.NoWorkPool as error:
        fail(f"nothing registered: {error}.", code=2, prefix="")
    ids = d.register_for_worker(settings, where, work_pool, config=str(config) if config else None)
    print_table(
        f"registered for work pool {work_pool!r} (source {where})",
        ("deployment", "cron", "id"),
        (
            (row["deployment"], row["cron"], dep_id)
            for row, dep_id in zip(d.schedule_rows(settings), ids, strict=True)
        ),
    )
    console.print(f"Start a worker: prefect worker start --pool {work_pool}")


@app.command("serve-flows")
def serve_flows(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--flow-config",
        help="YAML configuration the scheduled runs load (default: the one in use).",
    ),
) -> None:
    """Serve the scheduled deployments from this process until stopped (Ctrl-C).

    Needs a Prefect server (PREFECT_API_URL) for schedules to fire: see docs/deployment.md."""
    from frontdoor.pipelines.deployments import serve  # (start-up time)

    serve(settings_from(ctx), config=str(config) if config else None, say=console.print)
