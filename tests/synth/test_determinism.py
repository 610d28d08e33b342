"""Same seed, same bytes; another seed, other data."""

from __future__ import annotations

from pathlib import Path

from frontdoor.synth.council import generate, write_council
from tests.support.synth import council_settings


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = write_council(generate(council_settings(tmp_path, 2_000, seed=11)), tmp_path / "a")
    b = write_council(generate(council_settings(tmp_path, 2_000, seed=11)), tmp_path / "b")
    fa, fb = _files(a), _files(b)
    assert set(fa) == set(fb)
    assert "ground_truth/ground_truth.parquet" in fa and "referrals.parquet" in fa
    for name in fa:
        assert fa[name] == fb[name], name


def test_another_seed_gives_other_data(tmp_path):
    a = generate(council_settings(tmp_path, 2_000, seed=11))
    b = generate(council_settings(tmp_path, 2_000, seed=12))
    assert not a.tables["referrals"].equals(b.tables["referrals"])
    assert not a.tables["children"].equals(b.tables["children"])
    assert a.manifest["seed"] == 11 and b.manifest["seed"] == 12
