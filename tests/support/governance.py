"""Training, auditing and writing the feature table for the governance tests."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from frontdoor.governance.version_audit import audit_model_version
from frontdoor.models.run import train_and_register
from frontdoor.records.disclosure import SUPPRESSED
from frontdoor.records.feature_table import write_feature_table
from tests.support import make_settings

LABEL = "escalation_12m"
FAST = {"bootstrap_samples": 30, "lightgbm": {"n_estimators": 60}, "explain_sample": 200}
POOR = {
    "bootstrap_samples": 30,
    "lightgbm": {"n_estimators": 3, "num_leaves": 2},
    "explain_sample": 200,
}
OVERRIDE = "Toy data in a test: the gate verdict is not what this test is about."


def governed_settings(root: Path, models: dict, **more):
    return make_settings(
        root,
        models=models,
        # the selection family judged on every scored referral (an option, not the default),
        # so the report's scored-population path is exercised by the governance tests
        fairness={"bootstrap_samples": 20, "selection_rows": "cross_fitted"},
        governance={"comparison_bootstrap_samples": 200, **more.pop("governance", {})},
        **more,
    )


def train_audit(
    table: pd.DataFrame, settings, models: dict | None = None, label: str = LABEL
) -> str:
    """Train and register a version of ``label`` on ``table`` (with ``models`` settings),
    audit it."""
    if models is not None:
        settings = settings.model_copy(
            update={
                "models": settings.models.model_validate({**settings.models.model_dump(), **models})
            }
        )
    _, record = train_and_register(table, label, settings)
    audit_model_version(settings, label, record.model_version)
    return record.model_version


def features_file(table: pd.DataFrame, settings) -> Path:
    path = settings.resolve(settings.paths.features) / "features.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_feature_table(table, path)
    return path


def _percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


def back_solve(rows: list[dict], total_n: int, total_pos: int) -> dict[str, range]:
    """What an attacker can say about each band's outcomes from the table and the totals the
    report shows elsewhere (test referrals; outcomes from the test periods' rates): a shown rate
    times a shown count (the rate rounded to a whole per cent), then subtraction from the total
    for the bands whose rate is hidden. Returns the possible outcome counts per band."""
    possible: dict[str, range] = {}
    known_low = known_high = 0
    hidden = []
    for r in rows:
        if r["observed"] != SUPPRESSED and r["test_referrals"] != SUPPRESSED:
            n = int(r["test_referrals"].replace(",", ""))
            rate = _percent(r["observed"])
            fits = [k for k in range(n + 1) if abs(k / n - rate) <= 0.005 + 1e-9]
            possible[r["band"]] = range(min(fits), max(fits) + 1)
            known_low, known_high = known_low + min(fits), known_high + max(fits)
        else:
            hidden.append(r)

    def count(text: str) -> int | None:
        return None if text == SUPPRESSED else int(text.replace(",", ""))

    shown = [count(r["test_referrals"]) for r in rows]
    unshown_n = total_n - sum(n for n in shown if n is not None)  # the bands whose n is hidden
    for r in hidden:
        n = count(r["test_referrals"])
        rest = [count(o["test_referrals"]) for o in hidden if o is not r]
        # the other hidden bands' outcomes are at most their referrals (those whose count is
        # hidden share what the shown counts leave over)
        others = sum(k or 0 for k in rest) + (unshown_n if None in rest else 0)
        low = max(0, total_pos - known_high - others)
        high = min(n if n is not None else unshown_n, total_pos - known_low)
        possible[r["band"]] = range(low, high + 1)
    return possible


def band_table_rows(html: str) -> list[dict]:
    """The report's band table as an attacker reads it: band, test referrals, observed rate."""
    table = html.split('<table class="bands">')[1].split("</table>")[0]
    rows = []
    for tr in re.findall(r"<tr><td>(.*?)</tr>", table):
        cells = [re.sub(r"<.*?>", "", c).strip() for c in re.split(r"</td><td[^>]*>", tr)]
        observed = cells[6].split(" (")[0]
        rows.append({"band": cells[0], "test_referrals": cells[5], "observed": observed})
    return rows
