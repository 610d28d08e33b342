"""Commands of the review room: ``frontdoor serve``, ``frontdoor users ...``,
``frontdoor decisions export``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from frontdoor import REVIEW_NOTICE
from frontdoor.command_support import (
    console,
    fail,
    print_table,
    settings_from,
    settings_with,
    sub_app,
)

app = sub_app()
users_app = sub_app("Review app users (reviewer, data_scientist, governance, admin).")
decisions_app = sub_app("Reviewers' decisions (append-only).")
app.add_typer(users_app, name="users")
app.add_typer(decisions_app, name="decisions")


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Interface (default: review.host)."),
    port: int | None = typer.Option(None, help="Port (default: review.port)."),
    workers: int | None = typer.Option(None, help="Worker processes (default: review.workers)."),
) -> None:
    """Run the review web app (creates or upgrades its database first)."""
    from frontdoor.review import operations  # (start-up time)

    settings = settings_with(ctx, review={"host": host, "port": port, "workers": workers})
    r = settings.review
    console.print(
        f"frontdoor review on http://{r.host}:{r.port} ({r.workers} worker(s)). {REVIEW_NOTICE}"
    )
    operations.serve(settings, r.workers, ctx.find_root().params.get("config"))


@users_app.command("add")
def users_add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Lower-case login name."),
    role: str = typer.Option(..., "--role", help="reviewer, data_scientist, governance or admin."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Add a user (the password is asked for, never passed on the command line)."""
    from frontdoor.review import auth, store  # (start-up time)

    settings = settings_from(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = auth.add_user(settings, store.ready_engine(settings), username, role, password)
    except auth.UserError as err:
        fail(str(err), code=1, prefix="")
    console.print(f"Added {username.strip().lower()} ({role}), id {user_id}.")


@users_app.command("list")
def users_list(ctx: typer.Context) -> None:
    """List users and their roles."""
    from frontdoor.review import auth, store  # (start-up time)

    rows = auth.list_users(store.ready_engine(settings_from(ctx)))
    print_table(
        None,
        ("username", "role", "active", "created (UTC)"),
        (
            (
                r["username"],
                r["role"],
                "yes" if r["active"] else "no",
                f"{r['created_at']:%Y-%m-%d %H:%M}",
            )
            for r in rows
        ),
    )


def _change(ctx: typer.Context, username: str, what: str, password: str | None = None) -> None:
    from frontdoor.review import auth, store  # (start-up time)

    settings = settings_from(ctx)
    try:
        message = auth.change_user(
            settings, store.ready_engine(settings), username, what, by="cli", password=password
        )
    except auth.UserError as err:
        fail(str(err), code=1, prefix="")
    console.print(message)


@users_app.command("disable")
def users_disable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Disable a user: they cannot sign in, and their sessions end at once."""
    _change(ctx, username, "disable")


@users_app.command("enable")
def users_enable(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Enable a disabled user again."""
    _change(ctx, username, "enable")


@users_app.command("unlock")
def users_unlock(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Clear a user's failed sign-ins and lockouts (from every address)."""
    _change(ctx, username, "unlock")


@users_app.command("reset-password")
def users_reset_password(
    ctx: typer.Context,
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input."
    ),
) -> None:
    """Set a new password (asked for, or generated and printed once); sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt(
            "New password (empty: generate one)", hide_input=True, default="", show_default=False
        )
    _change(ctx, username, "reset-password", password or None)


@users_app.command("remove")
def users_remove(ctx: typer.Context, username: str = typer.Argument(...)) -> None:
    """Remove a leaver: never signs in again; kept in decisions and the audit log."""
    _change(ctx, username, "remove")


@decisions_app.command("verify")
def decisions_verify(
    ctx: typer.Context,
    expect_head: list[str] = typer.Option(
        [],
        "--expect-head",
        help="TABLE:ROWS:HASH printed by an earlier run: rows cut from the end show.",
    ),
) -> None:
    """Check the hash chains of the decisions and the audit log: any edit, deletion or
    reordering is reported (exit 1). Keep the printed heads to catch rows cut from the end."""
    from frontdoor.review.operations import verify_chains  # (start-up time)

    try:
        lines, failed = verify_chains(settings_from(ctx), expect_head)
    except ValueError as error:
        fail(str(error), code=2)
    for line in lines:
        console.print(line, highlight=False, markup=False)
    if failed:
        raise typer.Exit(1)


@decisions_app.command("export")
def decisions_export(
    ctx: typer.Context,
    out: Path = typer.Option(..., "--out", help="Output file: .csv or .parquet."),
) -> None:
    """Export every decision entry (no free text, reviewers as opaque ids) for monitoring."""
    from frontdoor.review.operations import export_decisions_file  # (start-up time)

    try:
        written = export_decisions_file(settings_from(ctx), out)
    except ValueError as error:
        fail(str(error), code=1, prefix="")
    console.print(f"Wrote {written} decision entries to {out}.")
