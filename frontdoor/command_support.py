"""What every room's commands share: a Typer sub-app, the settings loaded by the root
``frontdoor`` callback, printing tables and the review notice, and failing with a clear message.

Each room's ``cli.py`` holds a module-level ``app = sub_app(...)`` whose commands parse their
options and call one function of the room; ``frontdoor.cli`` adds those apps to the root
command. Rooms never import the root command (it imports them).

A command imports its room inside its body, with the comment "(start-up time)": loading
pandas, MLflow or Prefect for every ``frontdoor --help`` would cost seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from frontdoor import REVIEW_NOTICE
from frontdoor.settings import Settings, load_settings
from frontdoor.settings.base import merge_section

console = Console()  # writes to whatever sys.stdout is when it prints (tests capture it)
errors = Console(stderr=True, soft_wrap=True)


def sub_app(help: str | None = None) -> typer.Typer:
    """A room's commands: added to ``frontdoor`` with a name (a group) or without (top level)."""
    return typer.Typer(help=help, no_args_is_help=True, add_completion=False)


def settings_from(ctx: typer.Context) -> Settings:
    """The settings loaded by the root callback (or defaults when called directly)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else load_settings()


def settings_with(ctx: typer.Context, **sections: dict[str, Any]) -> Settings:
    """The settings with command-line options applied: ``section={field: value}``; options
    left at None keep the configured value."""
    settings = settings_from(ctx)
    for section, values in sections.items():
        given = {k: v for k, v in values.items() if v is not None}
        if given:
            settings = settings.model_copy(
                update={section: merge_section(getattr(settings, section), **given)}
            )
    return settings


def fail(message: str, code: int = 2, prefix: str = "Error:") -> NoReturn:
    """Print the error on standard error and leave with ``code`` (2: bad input; 1: refused)."""
    text = escape(message)  # an error may quote a file's own text: never read it as markup
    errors.print(f"[bold red]{prefix}[/] {text}" if prefix else text, highlight=False)
    raise typer.Exit(code)


def table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> Table:
    """A rich table of plain values (each shown with ``str``)."""
    out = Table(title=title)
    for column in columns:
        out.add_column(str(column))
    for row in rows:
        out.add_row(*(str(v) for v in row))
    return out


def print_table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> None:
    """Printed at its full width when not a terminal (a log file), so no column is cut at 80."""
    out = console if console.is_terminal else Console(width=1000)
    out.print(table(title, columns, rows))


def print_frame(frame: Any, title: str | None = None) -> None:
    """A pandas DataFrame as a table (index left out)."""
    print_table(title, frame.columns, frame.itertuples(index=False))


def print_notice(style: str = "") -> None:
    """Every command that shows flags or models ends with the review notice."""
    console.print(f"[{style}]{REVIEW_NOTICE}[/{style}]" if style else REVIEW_NOTICE)
