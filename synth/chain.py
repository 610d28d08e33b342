"""The latent Markov chain and every rate that depends on it, precomputed as lookup tables.

A child's monthly state (0..63) packs six bits: household neglect, domestic abuse, parental
mental health, substance misuse (shared by siblings), the child's exploitation, and whether
the child is on a child protection plan. Household bits move by a chain that depends only on
deprivation; exploitation by one that depends on age, deprivation and the household; the plan
bit switches on when a referral leads to a plan and off with a fixed monthly probability.

Everything the simulation and the oracle need is a table indexed by (age in years, IDACI
decile, surveillance group, disability, state), so both read the very same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frontdoor.synth import params as P

STATE_BITS = ((np.arange(P.N_STATES)[:, None] >> np.arange(6)[None, :]) & 1).astype(bool)


def decile_multiplier(slope: float) -> np.ndarray:
    """exp(slope * (5.5 - decile)) for deciles 1..10 (index 0..9)."""
    return np.exp(slope * (5.5 - np.arange(1, P.N_DECILES + 1)))


@dataclass(frozen=True)
class ChainModel:
    """Lookup tables of the generator (see module docstring). Shapes in comments."""

    household_next: np.ndarray  # (10, 16, 4): P(concern bit = 1 next month | decile, household)
    household_matrix: np.ndarray  # (10, 16, 16)
    household_stationary: np.ndarray  # (10, 16)
    exploitation_next: np.ndarray  # (19, 10, 16, 2): P(E = 1 next | age, decile, household, E)
    plan_end: float
    transition: np.ndarray  # (19, 10, 64, 64) without a new plan this month
    transition_plan: np.ndarray  # (19, 10, 64, 64) when this month's referral led to a plan
    referral_rates: np.ndarray  # (19, 10, 2, 2, 64, 7) by source family
    contact_rates: np.ndarray  # (19, 10, 2, 2, 64, 7) contacts not becoming referrals
    p_assessed: np.ndarray  # (64,)
    p_s47: np.ndarray  # (19, 64) given assessment
    p_icpc: np.ndarray  # (64,) given Section 47
    p_plan: np.ndarray  # (64,) given ICPC

    @property
    def referral_total(self) -> np.ndarray:  # (19, 10, 2, 2, 64)
        return self.referral_rates.sum(axis=-1)

    @property
    def p_referral(self) -> np.ndarray:
        """P(at least one referral in a month) = 1 - exp(-hazard): (19, 10, 2, 2, 64)."""
        return -np.expm1(-self.referral_total)

    @property
    def p_s47_given_referral(self) -> np.ndarray:  # (19, 64)
        return self.p_assessed[None, :] * self.p_s47

    @property
    def p_plan_given_referral(self) -> np.ndarray:  # (19, 64)
        return self.p_s47_given_referral * (self.p_icpc * self.p_plan)[None, :]


def _household_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    hbits = STATE_BITS[: P.N_HOUSEHOLD_STATES, :4]  # (16, 4)
    onset_mult = decile_multiplier(P.DEPRIVATION_SLOPE)  # (10,)
    duration_mult = decile_multiplier(P.DEPRIVATION_DURATION_SLOPE)
    co = np.prod(np.where(hbits[:, None, :], P.CO_OCCURRENCE[None, :, :], 1.0), axis=2)  # (16, 4)
    onset = P.CONCERN_ONSET[None, None, :] * onset_mult[:, None, None] * co[None, :, :]
    resolve = 1.0 / (P.CONCERN_DURATION[None, None, :] * duration_mult[:, None, None])
    nxt = np.where(hbits[None, :, :], 1.0 - resolve, np.minimum(onset, 0.5))  # (10, 16, 4)
    # Full matrix: product over bits of P(bit' | household).
    to_bits = hbits[None, None, :, :]  # h' bits
    per_bit = np.where(to_bits, nxt[:, :, None, :], 1.0 - nxt[:, :, None, :])  # (10, 16, 16, 4)
    matrix = per_bit.prod(axis=-1)
    stationary = np.full((P.N_DECILES, P.N_HOUSEHOLD_STATES), 1.0 / P.N_HOUSEHOLD_STATES)
    power = np.linalg.matrix_power(matrix, 2048)
    stationary = power[:, 0, :]
    return nxt, matrix, stationary / stationary.sum(axis=1, keepdims=True)


def _exploitation_next() -> np.ndarray:
    hbits = STATE_BITS[: P.N_HOUSEHOLD_STATES, :4]
    mult = np.ones(P.N_HOUSEHOLD_STATES)
    for bit, m in P.EXPLOITATION_HOUSEHOLD_MULT.items():
        mult = mult * np.where(hbits[:, bit], m, 1.0)
    dep = decile_multiplier(P.DEPRIVATION_SLOPE)
    onset = P.EXPLOITATION_ONSET_BY_AGE[:, None, None] * dep[None, :, None] * mult[None, None, :]
    stay = np.where(P.EXPLOITATION_ONSET_BY_AGE > 0, 1.0 - 1.0 / P.EXPLOITATION_DURATION, 0.0)
    stay = np.broadcast_to(stay[:, None, None], onset.shape)
    return np.stack([np.minimum(onset, 0.5), stay], axis=-1)  # (19, 10, 16, 2)


def _transitions(household_matrix, exploitation_next, plan_end) -> tuple[np.ndarray, np.ndarray]:
    s = np.arange(P.N_STATES)
    h, e, p = s & 15, (s >> 4) & 1, (s >> 5) & 1
    mh = household_matrix[:, h[:, None], h[None, :]]  # (10, 64, 64)
    p_e1 = exploitation_next[:, :, h, e]  # (19, 10, 64) from-state
    me = np.where(e[None, None, None, :] == 1, p_e1[..., None], 1.0 - p_e1[..., None])
    # Plan bit without a new plan: 0 stays 0; 1 ends with probability plan_end.
    mp = np.where(
        p[:, None] == 0,
        (p[None, :] == 0).astype(float),
        np.where(p[None, :] == 0, plan_end, 1.0 - plan_end),
    )
    mp_plan = np.broadcast_to((p[None, :] == 1).astype(float), (P.N_STATES, P.N_STATES))
    base = mh[None, :, :, :] * me
    return base * mp[None, None], base * mp_plan[None, None]


def _rates(surveillance_family: int | None, surveillance_mult: float) -> tuple[np.ndarray, ...]:
    prof = P.family_age_profile()  # (19, 7)
    dep = decile_multiplier(P.BACKGROUND_DEPRIVATION_SLOPE)  # (10,)
    dis = np.ones((2, len(P.FAMILIES)))
    for fam in ("health", "council"):
        dis[1, P.FAMILIES.index(fam)] = P.DISABILITY_MULT
    background = (
        P.REFERRAL_BACKGROUND[None, None, None, :]
        * prof[:, None, None, :]
        * dep[None, :, None, None]
        * dis[None, None, :, :]
    )  # (19, 10, 2dis, 7)
    concern_bits = STATE_BITS[:, :5].astype(float)  # (64, 5)
    concern = concern_bits @ (P.REFERRAL_BY_CONCERN * P.REFERRAL_CONCERN_SCALE)  # (64, 7)
    concern = concern[None, :, :] * prof[:, None, :]  # (19, 64, 7)
    on_plan = STATE_BITS[:, P.ON_PLAN]
    ref = background[:, :, :, None, :] + concern[:, None, None, :, :]  # (19, 10, 2, 64, 7)
    con = (
        P.CONTACT_BACKGROUND_RATIO * background[:, :, :, None, :]
        + P.CONTACT_CONCERN_RATIO * concern[:, None, None, :, :]
    )
    ref = ref * np.where(on_plan, P.ON_PLAN_REFERRAL_MULT, 1.0)[None, None, None, :, None]
    con = con * np.where(on_plan, P.ON_PLAN_CONTACT_MULT, 1.0)[None, None, None, :, None]
    group = np.ones((2, len(P.FAMILIES)))
    if surveillance_family is not None:
        group[1, surveillance_family] = surveillance_mult
    ref = ref[:, :, None] * group[None, None, :, None, None, :]  # (19, 10, 2grp, 2dis, 64, 7)
    con = con[:, :, None] * group[None, None, :, None, None, :]
    return np.ascontiguousarray(ref), np.ascontiguousarray(con)


def _pipeline() -> tuple[np.ndarray, ...]:
    bits = STATE_BITS
    n_concerns = bits[:, :5].sum(axis=1)
    on_plan = bits[:, P.ON_PLAN]
    assessed = np.where(n_concerns > 0, P.ASSESSED_CONCERN, P.ASSESSED_NO_CONCERN)
    assessed = np.where(on_plan, P.ASSESSED_ON_PLAN, assessed)
    s47 = P.S47_BY_N_CONCERNS[np.minimum(n_concerns, 3)]
    s47 = s47 + P.S47_NEGLECT_EXTRA * bits[:, P.NEGLECT] + P.S47_EXPLOITATION_EXTRA * bits[:, 4]
    young = (np.arange(P.N_AGE_YEARS) < 5)[:, None]
    s47 = s47[None, :] + young * P.S47_YOUNG_EXTRA * (n_concerns > 0)[None, :]
    s47 = np.where(on_plan[None, :], 0.0, np.minimum(s47, 0.9))  # no new enquiry while on a plan
    icpc = np.where(n_concerns > 0, P.ICPC_CONCERN, P.ICPC_NO_CONCERN)
    icpc = icpc + P.ICPC_NEGLECT_EXTRA * bits[:, P.NEGLECT]
    plan = np.full(P.N_STATES, P.PLAN_GIVEN_ICPC)
    return assessed, s47, icpc, plan


def build_model(
    surveillance_family: str | None = None, surveillance_mult: float = 1.0
) -> ChainModel:
    """All lookup tables; ``surveillance_family`` multiplies one source for group 1 only."""
    fam = None if surveillance_family is None else P.FAMILIES.index(surveillance_family)
    household_next, household_matrix, stationary = _household_tables()
    exploitation_next = _exploitation_next()
    plan_end = 1.0 / P.PLAN_DURATION
    transition, transition_plan = _transitions(household_matrix, exploitation_next, plan_end)
    ref, con = _rates(fam, surveillance_mult)
    assessed, s47, icpc, plan = _pipeline()
    return ChainModel(
        household_next=household_next,
        household_matrix=household_matrix,
        household_stationary=stationary,
        exploitation_next=exploitation_next,
        plan_end=plan_end,
        transition=transition,
        transition_plan=transition_plan,
        referral_rates=ref,
        contact_rates=con,
        p_assessed=assessed,
        p_s47=s47,
        p_icpc=icpc,
        p_plan=plan,
    )
