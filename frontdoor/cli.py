"""The one `frontdoor` command: the root callback (settings) and each room's sub-app.

Rooms keep their commands in ``<room>/cli.py`` as a module-level Typer app built with
``frontdoor.command_support``; the room itself is imported only when one of its commands runs,
so ``frontdoor --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from frontdoor import REVIEW_NOTICE, __version__
from frontdoor.command_support import console, settings_from
from frontdoor.features import cli as features_cli
from frontdoor.governance import cli as governance_cli
from frontdoor.ingest import cli as ingest_cli
from frontdoor.models import cli as models_cli
from frontdoor.pipelines import cli as pipelines_cli
from frontdoor.records import cli as records_cli
from frontdoor.review import cli as review_cli
from frontdoor.settings import load_settings
from frontdoor.synth import cli as synth_cli

app = typer.Typer(
    name="frontdoor",
    help="Flags new referrals for professional review at the children's services front door. "
    + REVIEW_NOTICE,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        help="YAML configuration file (default: frontdoor.yaml in the project root).",
    ),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        help="Also show what the libraries say (Prefect, Dask, MLflow); always in the log file.",
    ),
) -> None:
    from frontdoor.logs import route_output
    from frontdoor.pipelines.environment import prefect_environment

    settings = load_settings(config)
    prefect_environment(settings)  # before Prefect is imported: PREFECT_HOME from the settings
    route_output(settings, verbose)
    ctx.obj = settings
    ctx.meta["verbose"] = verbose


@app.command("version")
def version() -> None:
    """Print frontdoor's version."""
    console.print(f"frontdoor {__version__}")


@app.command("config")
def show_config(ctx: typer.Context) -> None:
    """Print the effective configuration (secrets hidden) as JSON."""
    settings = settings_from(ctx)
    console.print_json(json.dumps(settings.model_dump(mode="json"), default=str))


# Top-level commands of each room (contract, synth, ingest, export, splits, train, score,
# audit, promote, report, demo, flow ..., deployments, deploy, serve-flows, serve, users ...,
# decisions ...), in the order of the rooms, then the groups named after a room.
for _room in (
    records_cli,
    synth_cli,
    ingest_cli,
    models_cli,
    governance_cli,
    pipelines_cli,
    review_cli,
):
    app.add_typer(_room.app)
app.add_typer(features_cli.app, name="features")


def main() -> None:
    app()
