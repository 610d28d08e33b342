"""Challenger against champion on the same test rows, and the checks promotion applies.

Both versions' test-fold predictions are joined on the decision (pseudonymised id), so every
metric is measured on the same referrals and the same bootstrap resamples of whole children:
the interval of a difference is paired (the `models.evaluate` machinery, with the champion in
the role of the reference scorer). Non-inferiority: the lower end of the 95% interval of
challenger - champion on the primary metric lies above ``-margin``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from frontdoor.models.evaluate import cluster_sampler, metric_set
from frontdoor.models.scoring import bands_and_flags, native_model
from frontdoor.settings import Settings

CHALLENGER, CHAMPION = "challenger", "champion"
# The metrics promotion may compare on (``governance.primary_metric``), with their direction.
# The calibration line is shown but cannot be one: its best value is 0 or 1, not the highest.
HIGHER_IS_BETTER = {
    "auc": True,
    "average_precision": True,
    "brier": False,
    "ece": False,
    "precision_at_capacity": True,
    "recall_at_capacity": True,
}


class NoSharedRows(ValueError):
    """The two versions were tested on (almost) no common referrals: no fair comparison."""


def shared_test_rows(challenger: pd.DataFrame, champion: pd.DataFrame) -> pd.DataFrame:
    """Test referrals both versions scored, with the same observed outcome.

    Columns: decision_id, child_id, y, p_challenger, p_champion, flag_challenger (the run's
    flag at capacity) and the challenger's sensitive columns."""

    def last(frame: pd.DataFrame) -> pd.DataFrame:
        ordered = frame.sort_values("fold") if "fold" in frame else frame
        return ordered.drop_duplicates("decision_id", keep="last")

    a, b = last(challenger), last(champion)
    right = b[["decision_id", "y", "probability"]].rename(
        columns={"y": "y_champion", "probability": "p_champion"}
    )
    both = a.merge(right, on="decision_id", how="inner")
    both = both[both["y"] == both["y_champion"]].rename(columns={"probability": "p_challenger"})
    if "flag_at_capacity" in both:
        both["flag_challenger"] = both["flag_at_capacity"].astype(bool)
    return both.drop(columns=["y_champion"]).reset_index(drop=True)


METRICS = (
    "auc",
    "average_precision",
    "brier",
    "ece",
    "calibration_intercept",
    "calibration_slope",
    "precision_at_capacity",
    "recall_at_capacity",
)


def paired_metrics(
    shared: pd.DataFrame, settings: Settings, seed: int | None = None
) -> pd.DataFrame:
    """Each metric for both versions, with the paired difference (challenger - champion).

    One row per metric: challenger, champion, difference and each one's 95% interval
    (``*_low``, ``*_high``) from the same bootstrap resamples of whole children. At capacity,
    both versions flag as many referrals as the challenger's run flagged on these rows."""
    g = settings.governance
    y = shared["y"].to_numpy(dtype=float)
    k = int(shared["flag_challenger"].sum()) if "flag_challenger" in shared else int(0.2 * len(y))
    pa = shared["p_challenger"].to_numpy(dtype=float)
    pb = shared["p_champion"].to_numpy(dtype=float)

    def measure(idx):
        yy, aa, bb = (y, pa, pb) if idx is None else (y[idx], pa[idx], pb[idx])
        kk = k if idx is None else int(round(k * len(idx) / len(y)))
        a, b = metric_set(yy, aa, kk, None), metric_set(yy, bb, kk, None)
        return {m: (a[m], b[m], a[m] - b[m]) for m in METRICS}

    point = measure(None)
    rng = np.random.default_rng(settings.models.seed if seed is None else seed)
    draw = cluster_sampler(len(y), shared["child_id"].to_numpy() if "child_id" in shared else None)
    draws = [measure(draw(rng)) for _ in range(g.comparison_bootstrap_samples)]
    rows = []
    for m in METRICS:
        row = {"metric": m}
        for j, name in enumerate((CHALLENGER, CHAMPION, "difference")):
            values = np.array([d[m][j] for d in draws], dtype=float)
            values = values[~np.isnan(values)]
            low, high = np.percentile(values, [2.5, 97.5]) if len(values) else (np.nan, np.nan)
            row |= {name: point[m][j], f"{name}_low": float(low), f"{name}_high": float(high)}
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass
class NonInferiority:
    passed: bool
    metric: str
    challenger: float
    champion: float
    difference: float
    low: float
    high: float
    margin: float
    rows: int
    children: int

    def text(self) -> str:
        verdict = "non-inferior" if self.passed else "WORSE than the champion beyond the margin"
        return (
            f"{self.metric.upper()} {self.challenger:.3f} against the champion's {self.champion:.3f} "
            f"on the same {self.rows:,} test referrals ({self.children:,} children): difference "
            f"{self.difference:+.3f} (95% interval {self.low:+.3f} to {self.high:+.3f}); "
            f"{verdict} (margin {self.margin:.3f})"
        )

    def as_dict(self) -> dict:
        return {**self.__dict__, "text": self.text()}


def non_inferiority(shared: pd.DataFrame, settings: Settings) -> NonInferiority:
    """Is the challenger at most ``margin`` worse than the champion on the primary metric?"""
    g = settings.governance
    if len(shared) < g.min_shared_test_rows:
        raise NoSharedRows(
            f"the two versions share {len(shared)} test referrals with the same outcome, fewer "
            f"than {g.min_shared_test_rows}: they cannot be compared on the same rows"
        )
    if g.primary_metric not in HIGHER_IS_BETTER:
        raise ValueError(
            f"governance.primary_metric is {g.primary_metric!r}; promotion compares on one of "
            f"{', '.join(HIGHER_IS_BETTER)} (a metric with a better direction)"
        )
    table = paired_metrics(shared, settings).set_index("metric")
    row = table.loc[g.primary_metric]
    sign = 1.0 if HIGHER_IS_BETTER[g.primary_metric] else -1.0
    worst = min(sign * row["difference_low"], sign * row["difference_high"])
    return NonInferiority(
        passed=bool(worst > -g.non_inferiority_margin),
        metric=g.primary_metric,
        challenger=float(row[CHALLENGER]),
        champion=float(row[CHAMPION]),
        difference=float(row["difference"]),
        low=float(row["difference_low"]),
        high=float(row["difference_high"]),
        margin=g.non_inferiority_margin,
        rows=int(len(shared)),
        children=int(shared["child_id"].nunique()) if "child_id" in shared else int(len(shared)),
    )


def latest_referrals(table: pd.DataFrame, days: int, min_rows: int = 0) -> pd.DataFrame:
    """Referrals decided in the last ``days`` days of the table, or the latest ``min_rows``
    referrals when those days hold fewer (a small council)."""
    if "decision_kind" in table:
        table = table[table["decision_kind"] == "referral"]
    dates = pd.to_datetime(table["decision_date"])
    recent = table[dates > dates.max() - pd.Timedelta(days=days)]
    if len(recent) >= min_rows:
        return recent
    return table.loc[dates.sort_values(kind="mergesort").index[-min_rows:]]


def band_allowance(training_share: float, rows: int, tolerance: float) -> float:
    """How far a band's share may stray: the tolerance plus the sampling noise of a share on
    ``rows`` referrals (1.96 standard errors), so a small council is not refused by chance."""
    p = float(training_share)
    return tolerance + 1.96 * float(np.sqrt(p * (1 - p) / max(rows, 1)))


@dataclass
class BandCheck:
    passed: bool
    rows: int
    bands: list[dict]
    tolerance: float

    def text(self) -> str:
        if not self.bands:
            return f"bands not checked: only {self.rows} recent referrals"
        off = [b for b in self.bands if not b["within"]]
        if not off:
            return (
                f"each band's share of the {self.rows:,} latest referrals is within "
                f"{self.tolerance:.0%} (plus sampling noise) of its training share"
            )
        parts = ", ".join(
            f"{b['band']} {b['latest_share']:.0%} (trained {b['training_share']:.0%})" for b in off
        )
        return f"bands out of line on the {self.rows:,} latest referrals: {parts}"

    def as_dict(self) -> dict:
        return {**self.__dict__, "text": self.text()}


def band_check(model, latest: pd.DataFrame, settings: Settings) -> BandCheck:
    """Each band's share of the latest referrals against its share of the training referrals,
    with bands computed exactly as scoring computes them."""
    g = settings.governance
    if len(latest) < g.min_band_check_rows:
        return BandCheck(False, int(len(latest)), [], g.band_share_tolerance)
    native = native_model(model)
    bands = bands_and_flags(native, latest, settings.review.flagged_bands)["band"]
    training = native.bands.table().set_index("band")["training_share"]
    rows = []
    for name, share in training.items():
        now = float((bands == name).mean())
        rows.append(
            {
                "band": str(name),
                "training_share": float(share),
                "latest_share": now,
                "within": bool(
                    abs(now - float(share))
                    <= band_allowance(float(share), len(latest), g.band_share_tolerance)
                ),
            }
        )
    return BandCheck(all(r["within"] for r in rows), int(len(latest)), rows, g.band_share_tolerance)


def natural_frequencies(y: np.ndarray, flags: np.ndarray, per: int = 100) -> dict:
    """ "Of 100 flagged referrals about N escalate; of 100 not flagged, about M"."""
    y, flags = np.asarray(y, dtype=float), np.asarray(flags, dtype=bool)
    flagged = float(y[flags].mean()) if flags.any() else float("nan")
    rest = float(y[~flags].mean()) if (~flags).any() else float("nan")
    return {
        "flagged": int(flags.sum()),
        "not_flagged": int((~flags).sum()),
        "per": per,
        "of_flagged": None if np.isnan(flagged) else int(round(per * flagged)),
        "of_not_flagged": None if np.isnan(rest) else int(round(per * rest)),
        "flag_share": float(flags.mean()) if len(flags) else float("nan"),
    }
