from pathlib import Path

import pytest
from pydantic import ValidationError

from frontdoor.records import pseudonymise
from frontdoor.settings import load_settings


def test_defaults_run_out_of_the_box(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(tmp_path / "absent.yaml")
    assert s.synth.children == 50_000
    assert s.features.use_sensitive_as_inputs is False
    assert s.resolve("data") == tmp_path / "data"


def test_file_then_environment_override(tmp_path, monkeypatch):
    cfg = tmp_path / "frontdoor.yaml"
    cfg.write_text("synth:\n  children: 123\n  years: 2\nmodels:\n  review_capacity_per_week: 9\n")
    monkeypatch.setenv("FRONTDOOR_SYNTH__YEARS", "4")
    s = load_settings(cfg)
    assert s.synth.children == 123  # from the file
    assert s.synth.years == 4  # the environment beats the file
    assert s.models.review_capacity_per_week == 9


def test_unknown_setting_is_an_error(tmp_path):
    cfg = tmp_path / "frontdoor.yaml"
    cfg.write_text("synth:\n  childs: 5\n")
    with pytest.raises(ValidationError, match="childs"):
        load_settings(cfg)


def test_missing_key_outside_demo_mode_is_a_clear_error(tmp_path):
    s = load_settings(tmp_path / "absent.yaml", demo_mode=False, paths={"root": str(tmp_path)})
    with pytest.raises(pseudonymise.MissingKeyError, match="FRONTDOOR_PRIVACY__PSEUDONYM_KEY"):
        pseudonymise.load_key(s)


def test_demo_mode_generates_and_keeps_a_local_key(tmp_path):
    s = load_settings(tmp_path / "absent.yaml", demo_mode=True, paths={"root": str(tmp_path)})
    first = pseudonymise.load_key(s)
    assert pseudonymise.load_key(s) == first
    assert Path(pseudonymise.default_key_path(s)).stat().st_mode & 0o077 == 0


def test_pseudonyms_are_keyed_and_stable():
    a = pseudonymise.pseudonymise_value(b"k" * 20, "LA123")
    assert a == pseudonymise.pseudonymise_value(b"k" * 20, "LA123")
    assert a != pseudonymise.pseudonymise_value(b"j" * 20, "LA123")
    assert pseudonymise.is_pseudonym(a) and "LA123" not in a
