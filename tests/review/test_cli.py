"""The review room's commands: users add/list, decisions export (through the real frontdoor CLI)."""

from __future__ import annotations

import pandas as pd
import yaml
from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.review import auth, store


def _config(tmp_path, settings) -> str:
    path = tmp_path / "frontdoor.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "demo_mode": True,  # as before demo mode became opt-in (issue 16)
                "paths": {"root": str(tmp_path)},
                "privacy": {"pseudonym_key": "cli-test-key-0123456789-0123456789abcdef"},
                "review": {
                    "database_url": settings.review.database_url.get_secret_value(),
                    "password_time_cost": 1,
                    "password_memory_kib": 8192,
                },
            }
        )
    )
    return str(path)


def test_users_add_and_list(tmp_path, settings):
    runner = CliRunner()
    config = _config(tmp_path, settings)
    added = runner.invoke(
        app,
        ["--config", config, "users", "add", "Rita", "--role", "reviewer", "--password-stdin"],
        input="a-long-test-password-1\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["--config", config, "users", "list"])
    assert "rita" in listed.output and "reviewer" in listed.output
    assert auth.authenticate(
        settings, store.ready_engine(settings), "rita", "a-long-test-password-1"
    )
    refused = runner.invoke(
        app,
        ["--config", config, "users", "add", "bob", "--role", "boss", "--password-stdin"],
        input="a-long-test-password-1\n",
    )
    assert refused.exit_code == 1 and "Unknown role" in refused.output


def test_decisions_export(tmp_path, review_settings, h):
    engine = store.ready_engine(review_settings)
    uid = auth.add_user(review_settings, engine, "rita", "reviewer", h.password)
    item = h.flagged(review_settings, engine)[0]
    store.record_decision(
        engine,
        score_id=item.score_id,
        user_id=uid,
        username="rita",
        role="reviewer",
        agrees=False,
        action="early_help",
        rationale="Support already in place.",
        form_token="c1",
    )
    out = tmp_path / "exports" / "decisions.parquet"
    result = CliRunner().invoke(
        app,
        ["--config", _config(tmp_path, review_settings), "decisions", "export", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert frame[["decision_id", "action", "agrees"]].values.tolist() == [
        [item.decision_id, "early_help", False]
    ]
    assert "rationale" not in frame.columns


def test_serve_starts_the_app_on_its_schema(tmp_path, settings):
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    from frontdoor.review import db
    from frontdoor.review.live import free_port

    port = free_port()
    frontdoor = Path(sys.executable).parent / "frontdoor"
    proc = subprocess.Popen(
        [str(frontdoor), "--config", _config(tmp_path, settings), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
                assert time.monotonic() < deadline, "frontdoor serve did not answer in 60 s"
                time.sleep(0.2)
        assert response.status_code == 200 and "Sign in" in response.text
        assert "server" not in response.headers  # no server banner
        assert db.current_revision(settings) == "0004"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
