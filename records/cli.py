"""Commands of the records room: ``frontdoor contract`` and ``frontdoor keys new``."""

from __future__ import annotations

from pathlib import Path

import typer

from frontdoor.command_support import fail, sub_app

app = sub_app()
keys = sub_app("Pseudonymisation keys.")
app.add_typer(keys, name="keys")


@keys.command("new")
def keys_new(
    path: Path = typer.Argument(..., help="Where to write the key (must not exist)."),
) -> None:
    """Write a new pseudonymisation key: 32 random bytes, readable by you only."""
    from frontdoor.records.pseudonymise import new_key_file  # (start-up time)

    try:
        written = new_key_file(path)
    except FileExistsError as exc:
        fail(str(exc))
    typer.echo(f"Wrote a new key to {written} (mode 0600). Configure it with")
    typer.echo(f"  privacy:\n    pseudonym_key_file: {written}")
    typer.echo(
        "in frontdoor.yaml, or FRONTDOOR_PRIVACY__PSEUDONYM_KEY_FILE. Back it up: without it, "
        "pseudonyms can never be matched to new extracts."
    )


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
