"""The gate as the report shows it: page one summarises (counts by kind, the failed checks
named), the detail lists every check that did not pass, and each disparity carries one
interval, the gate's (issue 14, item 4)."""

from __future__ import annotations

from frontdoor.governance.gate import GateCheck, GateResult
from frontdoor.governance.report_gate import gate_intervals, gate_overview, with_gate_intervals


def check(group: str, metric: str, verdict: str, gated: bool = True) -> GateCheck:
    kind = "difference" if metric == "calibration_gap" else "ratio"
    return GateCheck(
        "ethnicity_group",
        group,
        "White",
        metric,
        kind,
        1.4,
        1.1,
        1.8,
        verdict,
        "why",
        0.9,
        2.3,
        gated,
    )


def gate() -> GateResult:
    checks = [
        check("Black", "fnr", "fail"),
        check("Asian", "fnr", "inconclusive"),
        check("Mixed", "fnr", "inconclusive"),
        check("Other", "fpr", "inconclusive"),
        check("Asian", "calibration_gap", "inconclusive"),
        check("Asian", "fpr", "pass"),
        check("Other", "fnr", "fail", gated=False),
    ]
    return GateResult(passed=False, rule="the rule", checks=checks, alpha=0.05 / 6)


def test_page_one_counts_the_inconclusive_by_kind_and_names_only_the_failures():
    o = gate_overview(gate())
    assert o["checks"] == 6 and o["inconclusive"] == 4 and o["reported"] == 1
    assert o["inconclusive_by_kind"] == [
        ("missed-case ratio (FNR)", 2),
        ("calibration gap", 1),
        ("false-alarm ratio (FPR)", 1),
    ]
    assert len(o["failed"]) == 1 and "group Black against White: failed" in o["failed"][0]
    assert not any("Asian" in line or "Mixed" in line for line in o["failed"])


def test_every_disparity_carries_the_gates_interval_and_suppressed_ones_stay_hidden():
    g = gate()
    record = {
        "gate": g.as_dict(),
        "characteristics": {
            "ethnicity_group": {
                "groups": {
                    "Black": {"disparities": {"fnr": {"value": 1.4, "lo": 1.1, "hi": 1.8}}},
                    "Mixed": {"disparities": {"fnr": {"value": "c", "lo": "c", "hi": "c"}}},
                    "Tiny": {"disparities": "too few"},
                    "White": {
                        "reference": True,
                        "disparities": {"fnr": {"value": 1.0, "lo": 0.8, "hi": 1.2}},
                    },
                }
            }
        },
    }
    out = with_gate_intervals(record)
    groups = out["characteristics"]["ethnicity_group"]["groups"]
    assert (
        groups["Black"]["disparities"]["fnr"]["lo"],
        groups["Black"]["disparities"]["fnr"]["hi"],
    ) == (0.9, 2.3)
    assert groups["Mixed"]["disparities"]["fnr"] == {"value": "c", "lo": "c", "hi": "c"}
    assert groups["Tiny"]["disparities"] == "too few"
    assert groups["White"]["disparities"]["fnr"] == {"value": 1.0, "lo": None, "hi": None}
    assert all((c["lo"], c["hi"]) == (0.9, 2.3) for c in out["gate"]["checks"])
    assert (
        record["characteristics"]["ethnicity_group"]["groups"]["Black"]["disparities"]["fnr"]["lo"]
        == 1.1
    )


def test_each_check_in_the_reports_detail_names_its_family_and_threshold():
    """The governance report's list of checks: a badge per check naming the Bonferroni family
    it was judged in, the alpha it was judged at and the rows (selection checks: every scored
    referral; error rates: the labelled test rows)."""
    from frontdoor.governance.fairness.render import environment

    selection = check("Black", "flag_rate", "fail")
    selection.family, selection.alpha, selection.population = "selection", 0.025 / 7, "scored"
    error = check("Asian", "fnr", "inconclusive")
    error.alpha = 0.025 / 60
    g = GateResult(
        False, "the rule", [selection, error], alpha=0.025 / 60, alpha_selection=0.025 / 7
    )
    module = environment().get_template("report_gate.html.j2").module
    html = str(module.gate_detail(g.as_dict()))
    rows = html.split("<tr>")[2:]
    black = next(r for r in rows if ">Black<" in r)
    asian = next(r for r in rows if ">Asian<" in r)
    assert "selection family, judged at α = 0.0036, on every scored referral" in black
    assert "error-rate family, judged at α = 0.0004, on the labelled test rows" in asian
    assert "selection family" not in asian


def test_the_plots_take_the_labelled_rows_interval_never_the_scored_populations():
    """The same (characteristic, group, flag_rate) judged on the labelled test rows and on every
    scored referral: the plots draw the labelled audit's point, so they take the labelled
    check's interval. Before, the scored check (listed last) replaced it, and an interval that
    did not contain the plotted point stopped the report (matplotlib: negative error bar)."""
    labelled = check("Black", "flag_rate", "pass")
    scored = check("Black", "flag_rate", "pass")
    scored.population, scored.gate_lo, scored.gate_hi = "scored", 1.5, 1.9  # above the 1.4 point
    result = GateResult(passed=True, rule="the rule", checks=[labelled, scored], alpha=0.05)
    assert gate_intervals(result) == {("ethnicity_group", "Black", "flag_rate"): (0.9, 2.3)}
    assert gate_intervals(result, "scored") == {
        ("ethnicity_group", "Black", "flag_rate"): (1.5, 1.9)
    }
