"""Two audiences: the board's restricted audit shows the figures behind every check; the public
one never does, and the restricted file is kept out of the public reports folder."""

from __future__ import annotations

import json

import pytest

from frontdoor.governance.fairness.publish import published_audit, write_board_audit
from frontdoor.records.disclosure import RESTRICTED, restricted_dir
from frontdoor.settings import Settings
from tests.fairness.test_disclosure_attacker import small_council


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_the_board_sees_every_figure_the_public_sees_c(tmp_path):
    audit, gate = small_council()
    public = published_audit(audit, 5, gate)
    json_path, html_path = write_board_audit(audit, tmp_path, "board", gate)
    board = json.loads(json_path.read_text(encoding="utf-8"))
    assert board["circulation"] == RESTRICTED
    assert RESTRICTED in html_path.read_text(encoding="utf-8")
    sex = ("characteristics", "sex", "groups", "Not known", "counts", "n")
    assert _at(public, sex) == "c" and _at(board, sex) == 2
    # every check the public sees as c has its figures, and the gate's interval, for the board
    hidden = [c for c in public["gate"]["checks"] if c["value"] == "c"]
    assert hidden
    for check in hidden:
        twin = next(
            b
            for b in board["gate"]["checks"]
            if (b["characteristic"], b["group"], b["metric"])
            == (check["characteristic"], check["group"], check["metric"])
        )
        assert twin["value"] != "c" and twin["reason"] != check["reason"]
    assert "circulation" not in public


def test_restricted_files_live_outside_the_public_reports_folder(tmp_path):
    settings = Settings(paths={"root": str(tmp_path)})
    reports = settings.resolve(settings.paths.reports).resolve()
    restricted = restricted_dir(settings).resolve()
    assert not restricted.is_relative_to(reports)


def _at(record, path):
    for key in path:
        record = record[key]
    return record
