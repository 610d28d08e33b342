"""Commands of the records room: ``frontdoor contract``."""

from __future__ import annotations

from pathlib import Path

import typer

from frontdoor.command_support import sub_app

app = sub_app()


@app.command("contract")
def contract(
    write: bool = typer.Option(False, "--write", help="Write docs/data-contract.md."),
    out: Path = typer.Option(Path("docs/data-contract.md"), help="Where to write it."),
) -> None:
    """Print (or write) the canonical data contract as Markdown."""
    from frontdoor.records.docs import render_contract_markdown  # (start-up time)

    text = render_contract_markdown()
    if write:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {out}")
    else:
        typer.echo(text)
