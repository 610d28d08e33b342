"""The monthly simulation: every child at once, one vectorised step per month.

Each month, for every child: look up the state's referral hazard and draw at most one
referral (probability 1 - exp(-hazard)); draw the contacts that do not become referrals
(Poisson); decide what each referral leads to (assessment, Section 47, conference, plan);
then move the chain: the plan bit, the child's exploitation bit and the household concerns.
Households also have police-reported domestic-abuse incidents. What happened is returned as
arrays of events (child, month, state, ...); ``synth.tables`` turns them into records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frontdoor.synth import params as P
from frontdoor.synth.chain import ChainModel
from frontdoor.synth.population import Population


@dataclass(frozen=True)
class Events:
    """Raw events of the simulation (months relative to the window's first month)."""

    ref_child: np.ndarray
    ref_month: np.ndarray
    ref_state: np.ndarray
    ref_assessed: np.ndarray
    ref_s47: np.ndarray
    ref_icpc: np.ndarray
    ref_plan: np.ndarray
    contact_child: np.ndarray
    contact_month: np.ndarray
    contact_state: np.ndarray
    contact_count: np.ndarray
    onset_child: np.ndarray
    onset_month: np.ndarray
    onset_family: np.ndarray
    onset_concern: np.ndarray  # which concern began (0..4: N, D, M, S, E)
    onset_state: np.ndarray  # the child's state that month (the new concern included)
    plan_exit_child: np.ndarray
    plan_exit_month: np.ndarray
    da_household: np.ndarray
    da_month: np.ndarray
    da_count: np.ndarray
    da_concern: np.ndarray
    latent: np.ndarray | None  # (months, children) uint8 states, when asked for


def child_rate_key(pop: Population, group: np.ndarray, age_years: np.ndarray) -> np.ndarray:
    """Flat index of (age in years, decile, group, disability) into the model's rate tables."""
    return (
        (age_years.astype(np.int64) * P.N_DECILES + pop.decile) * 2 + group
    ) * 2 + pop.disability


def onset_family_probabilities() -> np.ndarray:
    """P(source family) of an onset contact, by concern (5) and age in years: (5, 19, 7)."""
    w = P.REFERRAL_BY_CONCERN[:, None, :] * P.family_age_profile()[None, :, :]
    total = w.sum(axis=-1, keepdims=True)
    return np.where(total > 0, w / np.where(total > 0, total, 1), 1.0 / len(P.FAMILIES))


def simulate(
    pop: Population,
    model: ChainModel,
    group: np.ndarray,
    first_month: int,
    n_months: int,
    rng: np.random.Generator,
    rng_da: np.random.Generator,
    rng_chain: np.random.Generator,
    keep_latent: bool = False,
) -> Events:
    """Run months ``first_month .. n_months - 1`` (negative months are burn-in).

    ``rng_chain`` drives the household concerns, exploitation and plan endings with draws of
    a fixed shape each month, so the same seed gives the same needs whatever the bias knobs
    (only the plan bit, which follows referrals, can differ); ``rng`` drives the events.
    Each month draws, in this order: referrals, contacts, onset contacts (``rng``), plan
    endings, exploitation, household concerns (``rng_chain``), incidents (``rng_da``).
    """
    n = pop.n_children
    hh = pop.household
    dec_h = pop.household_decile.astype(np.int64)
    dec = dec_h[hh]
    group = group.astype(np.int64)
    p_ref_flat = model.p_referral.reshape(-1, P.N_STATES).ravel()
    con_flat = model.contact_rates.sum(axis=-1).reshape(-1, P.N_STATES).ravel()
    bitw = np.array([1, 2, 4, 8], dtype=np.uint8)

    # Household concerns start from their stationary distribution given the decile.
    cdf = np.cumsum(model.household_stationary, axis=1)
    H = (rng_chain.random(pop.n_households)[:, None] > cdf[dec_h]).sum(axis=1).astype(np.uint8)
    H = np.minimum(H, P.N_HOUSEHOLD_STATES - 1)
    E = np.zeros(n, dtype=np.uint8)
    Pl = np.zeros(n, dtype=np.uint8)
    h_before = H.copy()  # households' concerns last month (for onsets)
    e_before = E.copy()
    onset_families = onset_family_probabilities()
    h_before_h = H.copy()

    out: dict[str, list[np.ndarray]] = {k: [] for k in Events.__dataclass_fields__}
    latent = []
    for t in range(first_month, n_months):
        age_m = t - pop.birth_month
        alive = (age_m >= 0) & (age_m < P.AGE_OUT_MONTHS)
        age_y = np.where(alive, age_m // 12, P.N_AGE_YEARS - 1)
        h = H[hh]
        s = h | (E << 4) | (Pl << 5)
        if keep_latent and t >= 0:
            latent.append(np.where(alive, s, 255).astype(np.uint8))
        flat = child_rate_key(pop, group, age_y) * P.N_STATES + s
        ref, plan = _referrals(model, p_ref_flat[flat], s, age_y, t, rng, out)
        _contacts(con_flat[flat], s, t, rng, out)
        # A concern that has just begun brings the child to notice (see params).
        new_bits = (h & ~h_before[hh]) | ((E & ~e_before) << 4)
        _onsets(np.where(alive, new_bits, 0), s, age_y, onset_families, t, rng, out)
        h_before, e_before = H, E

        # Plan bit: open plans end with a fixed probability; this month's plans open.
        ends = np.flatnonzero((Pl == 1) & (rng_chain.random(n) < model.plan_end))
        Pl[ends] = 0
        Pl[ref[plan]] = 1
        out["plan_exit_child"].append(ends.astype(np.int32))
        out["plan_exit_month"].append(np.full(len(ends), t, dtype=np.int32))

        # Exploitation (uses this month's household state), then household concerns.
        p_e = model.exploitation_next[age_y, dec, h, E]
        E = (rng_chain.random(n) < p_e).astype(np.uint8)
        da_concern = (H & 2) > 0
        da_onset = da_concern & ((h_before_h & 2) == 0)
        h_before_h = H
        p_h = model.household_next[dec_h, H]  # (households, 4)
        H = ((rng_chain.random(p_h.shape) < p_h) * bitw).sum(axis=1).astype(np.uint8)
        _incidents(da_concern, da_onset, t, rng_da, out)

    arrays = {
        k: np.concatenate(v) if v else np.zeros(0, dtype=np.int32)
        for k, v in out.items()
        if k != "latent"
    }
    return Events(**arrays, latent=np.stack(latent) if keep_latent else None)


def _referrals(model: ChainModel, p_ref, s, age_y, t: int, rng, out) -> tuple:
    """This month's referrals (at most one a child) and what they lead to."""
    ref = np.flatnonzero(rng.random(len(s)) < p_ref)
    sr = s[ref]
    u = rng.random((len(ref), 4))
    assessed = u[:, 0] < model.p_assessed[sr]
    s47 = assessed & (u[:, 1] < model.p_s47[age_y[ref], sr])
    icpc = s47 & (u[:, 2] < model.p_icpc[sr])
    plan = icpc & (u[:, 3] < model.p_plan[sr])
    out["ref_child"].append(ref.astype(np.int32))
    out["ref_month"].append(np.full(len(ref), t, dtype=np.int32))
    out["ref_state"].append(sr.astype(np.uint8))
    out["ref_assessed"].append(assessed)
    out["ref_s47"].append(s47)
    out["ref_icpc"].append(icpc)
    out["ref_plan"].append(plan)
    return ref, plan


def _contacts(rate, s, t: int, rng, out) -> None:
    """Contacts that do not become referrals."""
    counts = rng.poisson(rate)
    cidx = np.flatnonzero(counts)
    out["contact_child"].append(cidx.astype(np.int32))
    out["contact_month"].append(np.full(len(cidx), t, dtype=np.int32))
    out["contact_state"].append(s[cidx].astype(np.uint8))
    out["contact_count"].append(counts[cidx].astype(np.int32))


def _onsets(new_bits, s, age_y, onset_families, t: int, rng, out) -> None:
    """Contacts that come with a concern that has just begun (one per new concern, at most)."""
    cand = np.flatnonzero(new_bits)
    if not len(cand):
        return
    nb = ((new_bits[cand, None] >> np.arange(5)) & 1).astype(bool)
    hit = nb & (rng.random(nb.shape) < P.ONSET_CONTACT_PROB)
    rows, bit = np.nonzero(hit)
    probs = onset_families[bit, age_y[cand[rows]]]
    fam = (rng.random(len(rows))[:, None] >= np.cumsum(probs, axis=1)).sum(axis=1)
    out["onset_child"].append(cand[rows].astype(np.int32))
    out["onset_month"].append(np.full(len(rows), t, dtype=np.int32))
    out["onset_family"].append(np.minimum(fam, len(P.FAMILIES) - 1).astype(np.int8))
    out["onset_concern"].append(bit.astype(np.int8))
    out["onset_state"].append(s[cand[rows]].astype(np.uint8))


def _incidents(da_concern, da_onset, t: int, rng_da, out) -> None:
    """Police-reported domestic-abuse incidents in each household this month."""
    lam = np.where(da_concern, P.DA_INCIDENTS_WITH_CONCERN, P.DA_INCIDENTS_BACKGROUND)
    n_inc = rng_da.poisson(lam) + (da_onset & (rng_da.random(len(lam)) < P.ONSET_DA_INCIDENT_PROB))
    hidx = np.flatnonzero(n_inc)
    out["da_household"].append(hidx.astype(np.int32))
    out["da_month"].append(np.full(len(hidx), t, dtype=np.int32))
    out["da_count"].append(n_inc[hidx].astype(np.int32))
    out["da_concern"].append(da_concern[hidx])
