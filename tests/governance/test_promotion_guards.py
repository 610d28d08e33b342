"""Promotion as a guarded, append-only act, on real MLflow and a real promotion log.

Findings of issue 14 this covers: a deliberately poor version was promoted with
``promoted_by: not given``; a hand-moved ``champion`` alias scored referrals; a no-op re-run
rewrote ``previous_champion`` and the time; the promotion record was mutable tags."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from frontdoor.cli import app
from frontdoor.governance.promotion import PromotionRefused, promote
from frontdoor.models import registry
from frontdoor.models.promotion_log import (
    OVERRIDDEN,
    PROMOTED,
    REFUSED,
    LogTampered,
    promotion_log,
)
from frontdoor.models.tracking import CHAMPION, client
from tests.support.governance import LABEL, OVERRIDE

pytestmark = pytest.mark.slow
runner = CliRunner()


def _log_bytes(settings) -> bytes:
    return settings.resolve(settings.governance.promotion_log).read_bytes()


def test_first_promotion_is_a_signed_log_row_naming_who(governed):
    settings, _, good, _, first = governed
    assert first.version == good and not first.already and first.by == "Head of data, test"
    rows = promotion_log(settings, client(settings)).rows()
    # the first row (rows by other tests of this pytest-xdist worker may follow it)
    assert rows[0]["action"] == (first.overridden and OVERRIDDEN or PROMOTED)
    assert rows[0]["by"] == "Head of data, test" and rows[0]["previous_champion"] is None
    assert rows[0]["checks"]["bands"]["passed"] is True
    assert str(registry.get_version(settings, LABEL, CHAMPION).version) == good


def test_a_poor_version_is_refused_and_the_refusal_is_logged(governed):
    settings, features, good, poor, _ = governed
    with pytest.raises(PromotionRefused) as refused:
        promote(settings, LABEL, poor, OVERRIDE, by="Analyst, test", features=features)
    message = str(refused.value)
    assert "champion version" in message or "Bands not sane" in message
    last = promotion_log(settings, client(settings)).rows()[-1]
    assert last["action"] == REFUSED and last["version"] == poor and last["by"] == "Analyst, test"
    comparison = last["checks"]["comparison"]
    assert comparison["against"] == good and comparison["passed"] is False
    assert comparison["difference"] < 0 and comparison["high"] < 0  # worse, and not by chance
    assert last["checks"]["bands"]["passed"] is False  # degenerate bands, as the issue found
    assert str(registry.get_version(settings, LABEL, CHAMPION).version) == good


def test_promotion_without_a_name_is_refused(governed):
    settings, features, good, _, _ = governed
    for nobody in (None, "", "   "):
        with pytest.raises(PromotionRefused, match="who is promoting"):
            promote(settings, LABEL, good, OVERRIDE, by=nobody, features=features)


def test_a_rerun_rewrites_nothing(governed):
    settings, features, good, _, first = governed
    before = _log_bytes(settings)
    tags = registry.version_tags(settings, LABEL, good)
    again = promote(settings, LABEL, good, OVERRIDE, by="Someone else", features=features)
    assert again.already and again.at == first.at and again.by == first.by
    assert _log_bytes(settings) == before
    after = registry.version_tags(settings, LABEL, good)
    for key in ("promotion.promoted_at", "promotion.previous_champion", "promotion.promoted_by"):
        assert after[key] == tags[key]
    assert tags["promotion.previous_champion"] == "none"  # not itself


def test_a_hand_moved_alias_is_refused_by_frontdoor_score(governed, tmp_path):
    settings, features, good, poor, _ = governed
    registry.set_alias(settings, LABEL, CHAMPION, poor)  # as in the MLflow UI or client
    try:
        with pytest.raises(registry.NotPromoted, match="moved by hand"):
            registry.load_promoted(settings, LABEL, CHAMPION)
        with pytest.raises(registry.NotPromoted, match=f"champion is version {good}"):
            registry.promoted_version(settings, LABEL, poor)
        config = tmp_path / "frontdoor.yaml"
        config.write_text(
            json.dumps(
                {
                    "demo_mode": True,
                    "paths": {"root": str(settings.paths.root)},
                    "tracking": {"tracking_uri": settings.tracking.tracking_uri},
                }
            ),
            encoding="utf-8",
        )
        out = tmp_path / "scores.parquet"
        result = runner.invoke(
            app,
            ["--config", str(config), "score", "--features", str(features), "--out", str(out)],
        )
        assert result.exit_code == 1, result.output
        assert "moved by hand" in result.output and not out.exists()
    finally:
        registry.set_alias(settings, LABEL, CHAMPION, good)
    model, mv = registry.load_promoted(settings, LABEL, CHAMPION)
    assert str(mv.version) == good and model is not None


def test_an_edited_row_is_detected(governed, tmp_path):
    settings, _, _, _, _ = governed
    path = settings.resolve(settings.governance.promotion_log)
    original = path.read_bytes()
    try:
        rows = [json.loads(line) for line in original.decode().splitlines()]
        rows[0]["by"] = "Someone who was not there"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        with pytest.raises(LogTampered, match="line 1"):
            registry.load_promoted(settings, LABEL, CHAMPION)
    finally:
        path.write_bytes(original)


def test_a_forged_row_without_the_key_is_detected(governed):
    """An attacker who can write the file but not read the key appends a 'promotion' of the
    poor version, chaining it to the last row and signing it with a key of their own."""
    import hashlib
    import hmac

    settings, _, _, poor, _ = governed
    path = settings.resolve(settings.governance.promotion_log)
    original = path.read_bytes()
    rows = [json.loads(line) for line in original.decode().splitlines()]
    forged = {**rows[-1], "action": PROMOTED, "version": poor, "seq": len(rows) + 1}
    forged["prev"] = rows[-1]["hmac"]
    body = json.dumps(
        {k: v for k, v in forged.items() if k != "hmac"}, sort_keys=True, separators=(",", ":")
    ).encode()
    forged["hmac"] = hmac.new(b"guessed key", body, hashlib.sha256).hexdigest()
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(forged) + "\n")
        registry.set_alias(settings, LABEL, CHAMPION, poor)
        with pytest.raises(LogTampered, match="signature"):
            registry.load_promoted(settings, LABEL, CHAMPION)
    finally:
        path.write_bytes(original)
        registry.set_alias(settings, LABEL, CHAMPION, rows[0]["version"])


def test_removing_the_last_rows_is_detected_by_the_registry_anchor(governed):
    settings, features, _, poor, _ = governed
    path = settings.resolve(settings.governance.promotion_log)
    if len(path.read_bytes().splitlines()) < 2:
        # the refusal of its own (pytest-xdist may have run the refusal test in another worker,
        # with its own copy of the session's fixture)
        with pytest.raises(PromotionRefused):
            promote(settings, LABEL, poor, OVERRIDE, by="Analyst, test", features=features)
    original = path.read_bytes()
    lines = original.decode().splitlines(keepends=True)
    assert len(lines) >= 2  # the promotion and a refusal
    try:
        path.write_text("".join(lines[:1]), encoding="utf-8")
        with pytest.raises(LogTampered, match="ends before row"):
            registry.load_promoted(settings, LABEL, CHAMPION)
        path.write_text("", encoding="utf-8")  # or the whole file
        with pytest.raises(LogTampered):
            registry.load_promoted(settings, LABEL, CHAMPION)
    finally:
        path.write_bytes(original)
