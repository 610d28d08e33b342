"""An attacker reads everything the audit publishes about a council with small groups and tries
to recover a count from 1 to 5: by back-solving rates (rate x base, or the base from several
rounded rates) and by differencing (a parent minus its children, a total minus its parts).

The attacker is written independently of the disclosure plan: it knows only the published
numbers and arithmetic facts about them (a group's size is its positives plus its negatives,
Asian is Asian x Female plus Asian x Male plus Asian x Not known, ...). Every published surface of
the audit is read: audit.json, the MLflow metrics (must hold nothing audit.json does not), and the
HTML page (every number in it must be in audit.json).
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from frontdoor.governance.fairness.audit import run_audit
from frontdoor.governance.fairness.characteristics import INTERSECTION, derive_characteristics
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.fairness.render import render_audit_html
from frontdoor.governance.fairness.tracking import audit_metrics
from frontdoor.governance.gate import evaluate_gate
from frontdoor.settings.fairness import FairnessSettings
from tests.support.fairness import predictions

UP_TO = 5
# kind -> its value from (n, positives, flagged, tp)
KINDS = {
    "n": lambda n, p, f, t: n,
    "positives": lambda n, p, f, t: p,
    "negatives": lambda n, p, f, t: n - p,
    "flagged": lambda n, p, f, t: f,
    "unflagged": lambda n, p, f, t: n - f,
    "tp": lambda n, p, f, t: t,
    "fp": lambda n, p, f, t: f - t,
    "fn": lambda n, p, f, t: p - t,
    "tn": lambda n, p, f, t: n - p - f + t,
}
RATES = {  # metric -> (numerator kind, base kind)
    "base_rate": ("positives", "n"),
    "observed": ("positives", "n"),
    "flag_rate": ("flagged", "n"),
    "tpr": ("tp", "positives"),
    "fnr": ("fn", "positives"),
    "fpr": ("fp", "negatives"),
    "precision": ("tp", "flagged"),
    "false_omission_rate": ("fn", "unflagged"),
}
WITHIN = [
    ("n", ["positives", "negatives"]),
    ("n", ["flagged", "unflagged"]),
    ("positives", ["tp", "fn"]),
    ("negatives", ["fp", "tn"]),
    ("flagged", ["tp", "fp"]),
    ("unflagged", ["fn", "tn"]),
]


def small_council():
    """3,000 decisions with small groups: sex not known for 2 children; Asian girls with few
    outcomes; a Mixed group of 31 with 3 flagged."""
    frame = predictions(n=3000, seed=8)
    frame["sex"] = frame["sex"].replace("U", "F")
    frame.loc[frame.index[:2], "sex"] = "U"
    asian_girls = frame.index[(frame["ethnicity_group"] == "Asian") & (frame["sex"] == "F")]
    frame.loc[asian_girls, "y"] = 0
    frame.loc[asian_girls[:2], "y"] = 1
    mixed = frame.index[frame["ethnicity_group"] == "Mixed"]
    frame.loc[mixed[31:], "ethnicity_group"] = "White"
    frame.loc[mixed[:31], "flag_at_capacity"] = False
    frame.loc[mixed[:3], "flag_at_capacity"] = True
    derived, characteristics = derive_characteristics(frame)
    audit = run_audit(
        derived,
        label="y",
        score="probability",
        flagged="flag_at_capacity",
        characteristics=characteristics,
        settings=FairnessSettings(bootstrap_samples=50),
    )
    return audit, evaluate_gate(audit)


def truth(audit) -> dict:
    out = {}
    for g in [audit.overall, *audit.groups]:
        c = g.counts
        vals = (c["n"], c["positives"], c["flagged"], c["tp"])
        out |= {(g.characteristic, g.group, k): f(*vals) for k, f in KINDS.items()}
    return out


def equations(record) -> list:
    chars = record["characteristics"]
    keys = [("overall", "overall")] + [(c, g) for c, b in chars.items() for g in b["groups"]]
    eqs = [((*k, t), [(*k, p) for p in parts]) for k in keys for t, parts in WITHIN]
    for c, block in chars.items():
        groups = list(block["groups"])
        eqs += [(("overall", "overall", k), [(c, g, k) for g in groups]) for k in KINDS]
        a, _, b = c.partition("_x_")
        if b:
            for side, name in ((0, a), (1, b)):
                for parent in chars[name]["groups"]:
                    kids = [g for g in groups if g.split(INTERSECTION)[side] == parent]
                    eqs += [((name, parent, k), [(c, g, k) for g in kids]) for k in KINDS]
    return eqs


def published_rates(record) -> dict:
    """(characteristic, group, metric) -> (value, tolerance): what the record says of each rate."""
    out = {}
    blocks = [("overall", "overall", record["overall"])] + [
        (c, g, r) for c, b in record["characteristics"].items() for g, r in b["groups"].items()
    ]
    for c, g, r in blocks:
        if not isinstance(r.get("metrics"), dict):
            continue
        for m, e in r["metrics"].items():
            if m in RATES and isinstance(e["value"], float | int):
                tol = 0.0005 if isinstance(e["lo"], float | int) else 0.005
                out[(c, g, m)] = (float(e["value"]), tol + 1e-12)
    return out


def attack(record) -> dict:
    """Everything the attacker can work out exactly: key -> value."""
    known = {}
    for c, block in [("overall", {"groups": {"overall": record["overall"]}})] + list(
        record["characteristics"].items()
    ):
        for g, r in block["groups"].items():
            known |= {(c, g, k): v for k, v in r["counts"].items() if isinstance(v, int)}
    rates, eqs = published_rates(record), equations(record)
    total = known[("overall", "overall", "n")]
    while True:
        before = len(known)
        for (c, g, m), (value, tol) in rates.items():
            num, base = ((c, g, k) for k in RATES[m])
            if base in known and num not in known:
                ks = [
                    k for k in range(known[base] + 1) if abs(k / max(known[base], 1) - value) <= tol
                ]
                if len(ks) == 1:
                    known[num] = ks[0]
            if num in known and base not in known and known[num] > 0:
                bs = [b for b in range(known[num], total + 1) if abs(known[num] / b - value) <= tol]
                if len(bs) == 1:
                    known[base] = bs[0]
        for t, parts in eqs:
            unknown = [k for k in (t, *parts) if k not in known]
            if len(unknown) == 1:
                rest = sum(known[p] for p in parts if p in known)
                known[unknown[0]] = known[t] - rest if unknown[0] != t else rest
        if len(known) == before:
            return known | back_solve_sizes(record, known, rates, eqs)


def back_solve_sizes(record, known, rates, eqs) -> dict:
    """Hidden group sizes from their rounded rates: every size from 1 to the total consistent
    with all of a group's rates; one group's candidates joined with the characteristic's sum."""
    total = known[("overall", "overall", "n")]
    found = {}
    for c, block in record["characteristics"].items():
        hidden = [g for g in block["groups"] if (c, g, "n") not in known]
        rest = total - sum(known[(c, g, "n")] for g in block["groups"] if (c, g, "n") in known)
        options = []
        for g in hidden:
            mine = {m: v for (cc, gg, m), v in rates.items() if (cc, gg) == (c, g)}
            sizes = [n for n in range(0, rest + 1) if _consistent(n, mine, known, c, g)]
            options.append(sizes)
        if not hidden or np.prod([len(o) for o in options]) > 200_000:
            continue
        combos = [x for x in itertools.product(*options) if sum(x) == rest]
        for i, g in enumerate(hidden):
            values = {x[i] for x in combos}
            if len(values) == 1:
                found[(c, g, "n")] = values.pop()
    return found


def _consistent(n, mine, known, c, g) -> bool:
    for m, (value, tol) in mine.items():
        num, base = RATES[m]
        if base != "n":
            continue
        if (c, g, num) in known:
            if n == 0 or abs(known[(c, g, num)] / n - value) > tol:
                return False
        elif n > 0 and not any(abs(k / n - value) <= tol for k in range(n + 1)):
            return False
    return True


@pytest.fixture(scope="module")
def published():
    audit, gate = small_council()
    return audit, gate, published_audit(audit, UP_TO, gate)


def test_the_council_has_small_counts_to_protect(published):
    audit, _, _ = published
    small = {k for k, v in truth(audit).items() if 1 <= v <= UP_TO}
    assert ("sex", "Not known", "n") in small
    assert ("ethnicity_x_sex", "Asian × Female", "positives") in small
    assert ("ethnicity", "Mixed", "flagged") in small


def test_no_small_count_is_recovered_from_the_audit(published):
    audit, _, record = published
    real = truth(audit)
    recovered = attack(record)
    wrong = {k: v for k, v in recovered.items() if real[k] != v}
    assert not wrong  # the attacker's arithmetic is sound
    leaked = {k: v for k, v in recovered.items() if 1 <= v <= UP_TO}
    assert not leaked, leaked
    # and the attack has teeth: with every count shown it recovers much more
    assert len(recovered) > 100


def test_the_attack_finds_what_the_old_publication_leaked(published):
    """Publishing every count that is not itself small (no complements, no hierarchy) leaks."""
    audit, _, record = published
    real = truth(audit)
    naive = {
        "overall": {
            "counts": {k: real[("overall", "overall", k)] for k in ("n", "positives", "flagged")}
        },
        "characteristics": {
            c: {
                "groups": {
                    g: {
                        "counts": {
                            k: ("c" if 1 <= real[(c, g, k)] <= UP_TO else real[(c, g, k)])
                            for k in ("n", "positives", "flagged")
                        },
                        "metrics": "too few to assess",
                    }
                    for g in block["groups"]
                }
            }
            for c, block in record["characteristics"].items()
        },
    }
    leaked = {k for k, v in attack(naive).items() if 1 <= v <= UP_TO}
    assert ("ethnicity_x_sex", "Asian × Female", "positives") in leaked or (
        "sex",
        "Not known",
        "n",
    ) in leaked


def _numbers(obj) -> set[float]:
    if isinstance(obj, dict):
        return set().union(*(_numbers(v) for v in obj.values())) if obj else set()
    if isinstance(obj, list):
        return set().union(*(_numbers(v) for v in obj)) if obj else set()
    if isinstance(obj, bool) or not isinstance(obj, int | float):
        return set()
    return {round(float(obj), 3)}


@pytest.mark.slow  # over 5 s (durations of 2026-12-02, docs/performance.md)
def test_mlflow_and_html_publish_nothing_the_json_does_not(published):
    audit, _, record = published
    in_json = _numbers(record)
    logged = audit_metrics(audit, UP_TO, record)
    assert {round(v, 3) for v in logged.values()} <= in_json
    html = render_audit_html(record, audit, UP_TO, "attack")
    text = re.sub(r"<img[^>]*>", "", html)  # plots are images: checked by their own rule
    text = re.sub(r"<style.*?</style>", "", text, flags=re.S)
    shown = {round(float(x), 3) for x in re.findall(r"(?<![\w.#-])\d+\.\d+(?![\w.])", text)}
    assert shown <= in_json | {round(x, 3) for x in (0.8, 1.25, 0.05, 0.95)}
