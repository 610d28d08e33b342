"""The report's band table: each band's range and what happened to the backtest's referrals in it.

The backtest's figures per band (``models.bands.backtest_outcomes``, in ``model_card/bands.csv``)
are published with records.disclosure's rule. The equations an attacker can use: each band's
test referrals = those with the outcome + those without; and over the bands, every test
referral, every outcome and every non-outcome adds up to a total the report shows elsewhere
(page one's test referrals; the test periods' outcome rates). ``protect`` hides small counts,
their complements and whatever subtraction would give back. A band's observed rate (and its
interval) gives its outcomes back (rate x referrals), so it is shown only when the band's
referrals, outcomes and non-outcomes are all shown; the mean estimated probability is the
model's own output, which gives no count back, and stays.
"""

from __future__ import annotations

import math

import pandas as pd

from frontdoor.records.disclosure import SUPPRESSED, protect

BAND_COUNTS = ("n", "pos", "neg")


def _pct(value) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if math.isnan(v) else f"{100 * v:.0f}%"


def _hidden(bands: pd.DataFrame, up_to: int) -> set[tuple[str, str]]:
    """The (count, band) cells to hide: counts ``n`` (test referrals), ``pos`` (with the
    outcome) and ``neg`` (without) per band, and their totals over the bands (``"all"``)."""
    cells: dict[tuple[str, str], int] = {}
    for b in bands.itertuples(index=False):
        n, pos = int(b.test_referrals), int(b.test_outcomes)
        cells.update({("n", b.band): n, ("pos", b.band): pos, ("neg", b.band): n - pos})
    names = [str(b) for b in bands["band"]]
    equations: list[tuple[object, list]] = [(("n", b), [("pos", b), ("neg", b)]) for b in names]
    for kind in BAND_COUNTS:
        cells[(kind, "all")] = sum(cells[(kind, b)] for b in names)
        equations.append(((kind, "all"), [(kind, b) for b in names]))
    return protect(cells, equations, up_to)


def band_rows(bands: pd.DataFrame | None, up_to: int) -> list[dict]:
    """The bands as the report shows them: training share and probability range, then (for runs
    that logged them) test referrals, observed rate with its 95% interval and mean estimated
    probability, with ``c`` wherever a count of 1 to ``up_to`` could be read or worked out."""
    if bands is None or bands.empty:
        return []
    has_outcomes = {"test_referrals", "test_outcomes"} <= set(bands.columns)
    hidden = _hidden(bands, up_to) if has_outcomes else set()
    rows = []
    for b in bands.to_dict("records"):
        row = {
            "band": str(b["band"]),
            "training_share": _pct(b.get("training_share")),
            "from_probability": _pct(b.get("from_probability")),
            "to_probability": _pct(b.get("to_probability")),
            "test_referrals": "—",
            "observed": "—",
            "interval": "",
            "mean_probability": "—",
        }
        if has_outcomes:
            band = row["band"]
            shown = not any((k, band) in hidden for k in BAND_COUNTS)
            n = int(b["test_referrals"])
            row["test_referrals"] = SUPPRESSED if ("n", band) in hidden else f"{n:,}"
            row["observed"] = _pct(b["observed_rate"]) if shown else SUPPRESSED
            if shown and n:
                row["interval"] = f"{_pct(b['observed_low'])} to {_pct(b['observed_high'])}"
            row["mean_probability"] = _pct(b["mean_probability"])
        rows.append(row)
    return rows
