"""The fast loop's selection: measured durations mark slow tests, and JUnit's names map onto
pytest's node ids (if they did not, nothing would ever be marked and the check would pass
silently)."""

from __future__ import annotations

from pathlib import Path

from tests.support.durations import durations_from_junit, key_of_nodeid, slow_keys

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.ingest.test_x" name="test_quick" time="0.120" />
<testcase classname="tests.ingest.test_x" name="test_slow[a-1]" time="7.5" />
<testcase classname="tests.ingest.test_x.TestGroup" name="test_member" time="2.0" />
</testsuite></testsuites>
"""


def test_junit_names_map_onto_node_ids(tmp_path: Path):
    xml = tmp_path / "junit.xml"
    xml.write_text(JUNIT)
    durations = durations_from_junit(xml)
    nodeids = [
        "tests/ingest/test_x.py::test_quick",
        "tests/ingest/test_x.py::test_slow[a-1]",
        "tests/ingest/test_x.py::TestGroup::test_member",
    ]
    assert [key_of_nodeid(n) in durations for n in nodeids] == [True, True, True]
    slow = slow_keys(durations, threshold=1.5)
    assert {n for n in nodeids if key_of_nodeid(n) in slow} == set(nodeids[1:])


def test_the_suite_marks_measured_slow_tests(request):
    """This very module's neighbours: a test listed as slow in tests/durations.json carries
    the marker after collection (checked on the session's own items)."""
    from tests.support.durations import load_durations

    durations = load_durations()
    slow = slow_keys(durations)
    # the measured keys name real test modules (JUnit's classname maps onto the path), so the
    # marking below is not vacuous even when only this file is collected
    root = Path(__file__).resolve().parents[1]
    modules = {key.split("::")[0].replace(".", "/") for key in slow}
    assert slow and any((root / f"{m}.py").exists() for m in modules), sorted(modules)[:5]
    items = request.session.items
    marked = {key_of_nodeid(i.nodeid) for i in items if i.get_closest_marker("slow")}
    collected = {key_of_nodeid(i.nodeid) for i in items}
    assert slow & collected <= marked
