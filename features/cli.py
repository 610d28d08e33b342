"""Commands of the features room (filled in by its issue)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this room's commands to the frontdoor CLI."""
