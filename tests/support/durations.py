"""Measured test durations decide which tests the fast loop skips.

``tests/durations.json`` maps each test to the seconds it took in a full run of the suite
(``scripts/test --junitxml=FILE`` on 2 cores, then ``python -m tests.support.durations FILE``).
``tests/conftest.py`` marks every test that took longer than ``SLOW_SECONDS`` as ``slow``, so
``scripts/test-fast`` (``-m "not slow ..."``) runs the quick ones and CI still runs them all.
A new test is not in the file, so it runs in the fast loop until the file is refreshed.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

DURATIONS_FILE = Path(__file__).resolve().parents[1] / "durations.json"
SLOW_SECONDS = 0.6


def key_of_nodeid(nodeid: str) -> str:
    """``tests/a/test_b.py::TestC::test_d[x]`` -> ``tests.a.test_b.TestC::test_d[x]`` (JUnit's
    classname and name joined, so both sides agree)."""
    path, *rest = nodeid.split("::")
    module = path.removesuffix(".py").replace("/", ".")
    *classes, name = rest
    return ".".join([module, *classes]) + "::" + name


def durations_from_junit(xml_path: Path) -> dict[str, float]:
    """Seconds per test from a JUnit XML report (the call and its fixtures' set-up)."""
    cases = ET.parse(xml_path).getroot().iter("testcase")
    return {
        f"{case.get('classname')}::{case.get('name')}": round(float(case.get("time") or 0), 2)
        for case in cases
    }


def load_durations(path: Path = DURATIONS_FILE) -> dict[str, float]:
    return json.loads(path.read_text()) if path.exists() else {}


def slow_keys(durations: dict[str, float], threshold: float = SLOW_SECONDS) -> set[str]:
    return {key for key, seconds in durations.items() if seconds > threshold}


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m tests.support.durations JUNIT_XML")
    durations = durations_from_junit(Path(argv[0]))
    DURATIONS_FILE.write_text(json.dumps(dict(sorted(durations.items())), indent=0) + "\n")
    slow = slow_keys(durations)
    fast_total = sum(s for k, s in durations.items() if k not in slow)
    print(
        f"{len(durations)} tests, {len(slow)} over {SLOW_SECONDS} s (marked slow); "
        f"the rest take {fast_total:.0f} s of test time in all -> {DURATIONS_FILE}"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
