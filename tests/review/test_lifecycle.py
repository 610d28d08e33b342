"""Users: disable, enable, unlock, reset-password, remove (CLI and /admin/users), own password."""

from __future__ import annotations

import re

import sqlalchemy as sa
import yaml
from typer.testing import CliRunner

from frontdoor.cli import app as cli
from frontdoor.review import auth
from frontdoor.review.schema import audit_log, sessions


def _config(tmp_path, settings) -> str:
    path = tmp_path / "frontdoor.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "paths": {"root": str(settings.paths.root)},
                "privacy": {"pseudonym_key": settings.privacy.pseudonym_key.get_secret_value()},
                "review": {
                    "database_url": settings.review.database_url.get_secret_value(),
                    "password_time_cost": 1,
                    "password_memory_kib": 8192,
                },
            }
        )
    )
    return str(path)


def _sessions_of(app, username: str) -> int:
    with app.state.engine.connect() as conn:
        return conn.execute(
            sa.text(
                "select count(*) from sessions s join users u on u.id = s.user_id "
                "where u.username = :u"
            ),
            {"u": username},
        ).scalar()


def test_cli_lifecycle_ends_sessions_at_once(app, review_settings, client_for, h, tmp_path):
    config = _config(tmp_path, review_settings)
    run = lambda *args, **kw: CliRunner().invoke(cli, ["--config", config, "users", *args], **kw)  # noqa: E731
    client = client_for("reviewer")
    assert client.get("/queue").status_code == 200
    result = run("disable", "reviewer")
    assert result.exit_code == 0, result.output
    assert _sessions_of(app, "reviewer") == 0
    assert client.get("/queue").status_code == 303  # back to sign-in, at once
    assert h.login(client_for(None), "reviewer").status_code == 401
    assert run("enable", "reviewer").exit_code == 0
    assert h.login(client_for(None), "reviewer").status_code == 303
    result = run(
        "reset-password", "reviewer", "--password-stdin", input="another-long-password-9\n"
    )
    assert result.exit_code == 0, result.output
    assert h.login(client_for(None), "reviewer").status_code == 401
    assert h.login(client_for(None), "reviewer", "another-long-password-9").status_code == 303
    assert run("unlock", "reviewer").exit_code == 0
    assert run("remove", "reviewer").exit_code == 0
    assert h.login(client_for(None), "reviewer", "another-long-password-9").status_code == 401
    assert "reviewer" not in run("list").output.split()
    assert run("enable", "reviewer").exit_code == 1  # a removed user stays removed
    with app.state.engine.connect() as conn:
        actions = list(conn.execute(sa.select(audit_log.c.action)).scalars())
    for action in (
        "user_disable",
        "user_enable",
        "user_reset_password",
        "user_unlock",
        "user_remove",
    ):
        assert action in actions


def test_admin_page_changes_users_with_csrf_and_audit(app, client_for, h):
    admin = client_for("admin")
    victim = client_for("governance")
    assert victim.get("/reports").status_code == 200
    page = admin.get("/admin/users")
    assert 'action="/admin/users/governance/disable"' in page.text
    forged = admin.post("/admin/users/governance/disable", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and _sessions_of(app, "governance") == 1
    done = admin.post("/admin/users/governance/disable", data={"csrf_token": h.csrf_of(page.text)})
    assert done.status_code == 200 and "Disabled governance" in done.text
    assert victim.get("/reports").status_code == 303
    reset = admin.post(
        "/admin/users/governance/reset-password", data={"csrf_token": h.csrf_of(page.text)}
    )
    new_password = re.search(r"New password for governance: (\S+)</p>", reset.text).group(1)
    admin.post("/admin/users/governance/enable", data={"csrf_token": h.csrf_of(page.text)})
    assert h.login(client_for(None), "governance", new_password).status_code == 303
    self_harm = admin.post("/admin/users/admin/disable", data={"csrf_token": h.csrf_of(page.text)})
    assert self_harm.status_code == 422 and "your own account" in self_harm.text
    with app.state.engine.connect() as conn:
        entries = conn.execute(
            sa.select(audit_log.c.username, audit_log.c.action, audit_log.c.target).where(
                audit_log.c.action.like("user_%")
            )
        ).all()
    assert ("admin", "user_disable", "governance") in [tuple(e) for e in entries]


def test_a_user_changes_their_own_password(app, client_for, h):
    client, other = client_for("data_scientist"), client_for("data_scientist")
    page = client.get("/account/password")
    token = h.csrf_of(page.text)
    wrong = client.post(
        "/account/password",
        data={"csrf_token": token, "current": "nope", "new": "short", "confirm": "other"},
    )
    assert wrong.status_code == 422 and "<title>Error:" in wrong.text
    assert 'href="#password-current"' in wrong.text and 'href="#password-new"' in wrong.text
    ok = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": h.password,
            "new": "a-brand-new-password-7",
            "confirm": "a-brand-new-password-7",
        },
    )
    assert ok.status_code == 303
    assert client.get("/reports").status_code == 200  # this session stays
    assert other.get("/reports").status_code == 303  # the others end
    assert h.login(client_for(None), "data-scientist", "a-brand-new-password-7").status_code == 303
    with app.state.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar() >= 1


def test_lifecycle_refuses_unknown_users_and_changes(app, review_settings):
    import pytest

    with pytest.raises(auth.UserError):
        auth.change_user(review_settings, app.state.engine, "ghost", "disable", by="t")
    with pytest.raises(auth.UserError):
        auth.change_user(review_settings, app.state.engine, "reviewer", "explode", by="t")
