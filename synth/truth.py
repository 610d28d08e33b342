"""The oracle: for each referral, the exact probability of each label under the generator.

Labels (fixed for the whole product):
- ``rereferral_12m``: another referral of the same child 1..365 days after this one;
- ``escalation_12m``: a Section 47 enquiry or child protection plan starting 1..365 days after.

Given the child's latent state ``s`` in the referral's month ``t``, the chain is Markov with
transitions ``M_k`` (age at month t+k, decile) and per-state monthly event probabilities
``q_k`` (a referral; or a referral leading to a Section 47 enquiry). With ``D_k = I - diag(q_k)``,

    P(no event in months t+1..t+12) = pi' D_1 M_1 ... D_10 M_10 (I - f11 Q_11) M_11 (1 - f12 q_12)

where ``pi`` is the distribution of the state in month t+1 (the row of ``M_0`` for ``s``, with
the plan bit set if this referral leads to a plan) and ``f11``, ``f12`` are the probabilities
that an event in months t+11 and t+12 still falls inside the 365-day window (the day of a
referral is uniform in its month; a Section 47 starts a known random number of days after its
referral). Expanding the bilinear term, four vectors per (age in months, decile, group,
disability) are precomputed by backward matrix-vector products and looked up per referral.
The current referral's own outcome is averaged over exactly: it leads to a Section 47 with
probability ``e(s)`` (escalation is then certain) and to a plan with probability ``pp(s)``.
An escalation event already scheduled by an earlier referral (a Section 47 or a plan starting
after this referral) makes escalation certain. No approximation is made.
"""

from __future__ import annotations

import numpy as np

from synth import params as P
from synth.chain import ChainModel


def s47_delay_pmf() -> tuple[np.ndarray, np.ndarray]:
    """Days from a referral to its Section 47 start: assessment delay + enquiry delay."""
    a = np.arange(P.ASSESSMENT_DELAY_DAYS[0], P.ASSESSMENT_DELAY_DAYS[1] + 1)
    b = np.arange(P.S47_DELAY_DAYS[0], P.S47_DELAY_DAYS[1] + 1)
    total = (a[:, None] + b[None, :]).ravel()
    values, counts = np.unique(total, return_counts=True)
    return values, counts / counts.sum()


def _age_years(age_months: np.ndarray) -> np.ndarray:
    return np.minimum(age_months // 12, P.N_AGE_YEARS - 1)


def oracle_tables(model: ChainModel) -> np.ndarray:
    """Vectors G[age_m, decile, group, disability, state, outcome, label, j] (see module doc).

    outcome 0: this referral leads to no plan, 1: to a plan; label 0: re-referral,
    1: escalation; j = 0..3 the four terms of the expanded window-edge product.
    """
    q_rr = model.p_referral  # (19, 10, 2, 2, 64)
    q_esc = q_rr * model.p_s47_given_referral[:, None, None, None, :]
    q = np.stack([q_rr, q_esc], axis=-1)  # (19, 10, 2, 2, 64, 2)
    ages = np.arange(P.AGE_OUT_MONTHS)

    def q_at(k):  # (216, 10, 2, 2, 64, 2)
        return q[_age_years(ages + k)]

    def m_at(k, plan=False):  # (216, 10, 64, 64)
        table = model.transition_plan if plan else model.transition
        return table[_age_years(ages + k)]

    def apply(m, v):  # v: (216, 10, 2, 2, 64, L, J) -> same
        shape = v.shape
        vv = np.moveaxis(v, 4, -1).reshape(shape[0], shape[1], -1, P.N_STATES)  # (a,d,X,64)
        out = np.matmul(vv, np.swapaxes(m, -1, -2))  # (a,d,X,64) = v @ M^T
        return np.moveaxis(out.reshape(*shape[:4], *shape[5:], P.N_STATES), -1, 4)

    q12, q11 = q_at(12), q_at(11)
    c1 = apply(m_at(11), q12[..., None])[..., 0]  # M_11 q_12
    ones = np.ones_like(q12)
    v = np.stack([ones, c1, q11, q11 * c1], axis=-1)  # (216, 10, 2, 2, 64, 2, 4)
    for k in range(10, 0, -1):
        v = apply(m_at(k), v) * (1.0 - q_at(k))[..., None]
    g_noplan = apply(m_at(0), v)
    g_plan = apply(m_at(0, plan=True), v)
    return np.stack([g_noplan, g_plan], axis=5)  # (216, 10, 2, 2, 64, 2, 2, 4)


def month_first_day(month: np.ndarray, first_month: np.datetime64) -> np.ndarray:
    """Day number (days since 1970-01-01) of the first day of a month index."""
    return (first_month + month.astype(np.int64)).astype("datetime64[D]").astype(np.int64)


def window_fractions(ref_day: np.ndarray, ref_month: np.ndarray, first_month: np.datetime64):
    """f12 for re-referral; f11 and f12 for escalation (see module docstring)."""
    end = ref_day + 365
    starts = {k: month_first_day(ref_month + k, first_month) for k in (11, 12, 13)}
    days = {k: starts[k + 1] - starts[k] for k in (11, 12)}
    f12_rr = np.clip((end - starts[12] + 1) / days[12], 0.0, 1.0)
    delays, pmf = s47_delay_pmf()

    def frac(k):
        x = (end[:, None] - delays[None, :] - starts[k][:, None] + 1) / days[k][:, None]
        return np.clip(x, 0.0, 1.0) @ pmf

    return f12_rr, frac(11), frac(12)


def ground_truth(
    model: ChainModel,
    g: np.ndarray,
    state: np.ndarray,
    age_months: np.ndarray,
    decile: np.ndarray,
    group: np.ndarray,
    disability: np.ndarray,
    ref_day: np.ndarray,
    ref_month: np.ndarray,
    first_month: np.datetime64,
    escalation_pending: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """P(rereferral_12m), P(escalation_12m) for each referral (arrays aligned with inputs)."""
    vec = g[age_months, decile, group.astype(np.int64), disability.astype(np.int64), state]
    # vec: (n, outcome, label, 4)
    f12_rr, f11_e, f12_e = window_fractions(ref_day, ref_month, first_month)

    def survive(v, f11, f12):
        return v[..., 0] - f12 * v[..., 1] - f11 * v[..., 2] + f11 * f12 * v[..., 3]

    ay = _age_years(age_months)
    pp = model.p_plan_given_referral[ay, state]
    e = model.p_s47_given_referral[ay, state]
    no_rr = pp * survive(vec[:, 1, 0], 1.0, f12_rr) + (1 - pp) * survive(vec[:, 0, 0], 1.0, f12_rr)
    no_esc = (1 - e) * survive(vec[:, 0, 1], f11_e, f12_e)
    p_rr = np.clip(1.0 - no_rr, 0.0, 1.0)
    p_esc = np.where(escalation_pending, 1.0, np.clip(1.0 - no_esc, 0.0, 1.0))
    return p_rr, p_esc
