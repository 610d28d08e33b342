"""The one `frontdoor` command. Each room of the product registers its own sub-commands."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import typer
from rich.console import Console

from frontdoor import REVIEW_NOTICE, __version__
from frontdoor.command_support import settings_from
from frontdoor.settings import load_settings

app = typer.Typer(
    name="frontdoor",
    help="Flags new referrals for professional review at the children's services front door. "
    + REVIEW_NOTICE,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

# Modules that add commands; each has `register(app: typer.Typer) -> None`.
COMMAND_MODULES = (
    "frontdoor.records.cli",
    "frontdoor.synth.cli",
    "frontdoor.ingest.cli",
    "frontdoor.features.cli",
    "frontdoor.models.cli",
    "frontdoor.governance.cli",
    "frontdoor.pipelines.cli",
    "frontdoor.review.cli",
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


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    app()
