"""England's rates and the rates a (synthetic or real) extract achieves, from its tables alone."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from frontdoor.records.codes import FACTOR_GROUPS, factor_list

# name -> (England's figure, lower tolerance, upper tolerance, meaning)
TARGETS: dict[str, tuple[float, float, float, str]] = {
    "referrals_per_10k": (525.0, 500.0, 550.0, "referrals per 10,000 children a year"),
    "rereferral_share": (0.224, 0.19, 0.25, "referrals within 12 months of a previous one"),
    "s47_per_10k": (160.0, 150.0, 170.0, "Section 47 enquiries per 10,000 children a year"),
    "cp_plans_per_10k": (50.0, 42.0, 58.0, "child protection plans started per 10,000 a year"),
    "cp_neglect_share": (0.50, 0.44, 0.56, "plans starting under neglect"),
}


def _per_10k_year(n: int, population: float, years: float) -> float:
    return float(n) / max(population, 1.0) / max(years, 1e-9) * 10_000


def rereferral_share(referrals: pd.DataFrame, since: pd.Timestamp | None = None) -> float:
    """Share of referrals with a previous referral of the child 1..365 days before.

    Only referrals from ``since`` (a year after the extract starts) count, so that every
    referral's previous 12 months are inside the extract.
    """
    r = referrals[["child_id", "referral_date"]].sort_values(["child_id", "referral_date"])
    prev = r.groupby("child_id")["referral_date"].shift(1)
    gap = (r["referral_date"] - prev).dt.days
    re = (gap >= 1) & (gap <= 365)
    keep = r["referral_date"] >= since if since is not None else np.ones(len(r), bool)
    return float(re[keep].mean()) if keep.sum() else float("nan")


def factor_shares(assessments: pd.DataFrame) -> dict[str, float]:
    """Share of authorised assessments recording each factor group."""
    done = assessments[assessments["authorisation_date"].notna()]
    uniq = pd.Series(done["factors"].unique())  # few distinct strings: test each once
    out = {}
    for group, group_codes in FACTOR_GROUPS.items():
        hit = uniq.map(lambda v, g=frozenset(group_codes): bool(g & set(factor_list(v))))
        has = dict(zip(uniq, hit, strict=True))
        out[group] = float(done["factors"].map(has).mean()) if len(done) else float("nan")
    return out


def achieved_rates(
    tables: dict[str, pd.DataFrame],
    child_population: float,
    window_start: date,
    reference_date: date,
) -> dict[str, float]:
    """England-comparable rates of an extract (window ``window_start .. reference_date``)."""
    start, end = pd.Timestamp(window_start), pd.Timestamp(reference_date)
    years = ((end - start).days + 1) / 365.25
    ref = tables["referrals"]
    plans = tables["cp_plans"]
    plan_starts = plans[plans["start_date"] >= start]
    out: dict[str, float] = {
        "referrals_per_10k": _per_10k_year(len(ref), child_population, years),
        "rereferral_share": rereferral_share(ref, start + pd.Timedelta(days=365)),
        "s47_per_10k": _per_10k_year(len(tables["section47_enquiries"]), child_population, years),
        "cp_plans_per_10k": _per_10k_year(len(plan_starts), child_population, years),
        "cp_neglect_share": float((plan_starts["initial_category"] == "NEG").mean()),
        "contacts_per_10k": _per_10k_year(len(tables["contacts"]), child_population, years),
        "assessments_per_10k": _per_10k_year(len(tables["assessments"]), child_population, years),
        "da_notifications_per_10k": _per_10k_year(
            len(tables["domestic_abuse_notifications"]), child_population, years
        ),
        "early_help_per_10k": _per_10k_year(
            int((tables["early_help_episodes"]["start_date"] >= start).sum()),
            child_population,
            years,
        ),
        "referral_nfa_share": float((ref["outcome"] == "nfa").mean()),
    }
    for group, share in factor_shares(tables["assessments"]).items():
        out[f"factor_{group}"] = share
    return out


def top_factor_groups(rates: dict[str, float], n: int = 2) -> list[str]:
    groups = {k.removeprefix("factor_"): v for k, v in rates.items() if k.startswith("factor_")}
    return sorted(groups, key=lambda g: -groups[g])[:n]


def within_targets(rates: dict[str, float]) -> dict[str, bool]:
    """Whether each targeted rate is inside England's tolerance band."""
    ok = {name: lo <= rates[name] <= hi for name, (_, lo, hi, _) in TARGETS.items()}
    ok["top_factors_da_and_mh"] = set(top_factor_groups(rates)) == {
        "domestic_abuse",
        "parental_mental_health",
    }
    return ok
