"""From simulated events to the canonical tables (raw council ids), plus the oracle's inputs.

Days within a month are uniform; delays are drawn from the distributions the oracle assumes
(``synth.params``). Records are made for every simulated month (burn-in included) and then
cut to the extract's window, as a council's extract would be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from frontdoor.records.contract import conform
from frontdoor.synth import params as P
from frontdoor.synth.chain import STATE_BITS, ChainModel
from frontdoor.synth.factors import draw_factors, factor_probabilities
from frontdoor.synth.population import ETHNICITY_CODES, Population
from frontdoor.synth.presenting import cause_weights, draw_cause, draw_presenting_concerns
from frontdoor.synth.simulate import Events, child_rate_key
from frontdoor.synth.sources import choose_family, source_codes
from frontdoor.synth.truth import month_first_day

CATEGORIES = np.array(["NEG", "PHY", "SAB", "EMO", "MUL"], dtype=object)
# Initial category of a plan by the dominant concern (rows: neglect, domestic abuse,
# exploitation, parental mental health or substance misuse, none of these).
CATEGORY_PROBS = np.array(
    [
        [0.82, 0.04, 0.02, 0.08, 0.04],
        [0.10, 0.12, 0.03, 0.70, 0.05],
        [0.05, 0.25, 0.35, 0.30, 0.05],
        [0.55, 0.08, 0.04, 0.28, 0.05],
        [0.05, 0.40, 0.25, 0.25, 0.05],
    ]
)
DASH_CODES = np.array(["standard", "medium", "high"], dtype=object)


@dataclass(frozen=True)
class Window:
    first_month: np.datetime64  # datetime64[M] of month 0
    start_day: int  # days since epoch, inclusive
    end_day: int  # inclusive

    def first_day(self, month: np.ndarray) -> np.ndarray:
        return month_first_day(np.asarray(month), self.first_month)

    def days_in(self, month: np.ndarray) -> np.ndarray:
        month = np.asarray(month)
        return self.first_day(month + 1) - self.first_day(month)

    def uniform_day(self, month: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A uniformly random day (days since epoch) in each month."""
        return self.first_day(month) + np.floor(
            rng.random(len(month)) * self.days_in(month)
        ).astype(np.int64)


def _dates(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="int64").astype("datetime64[D]").astype("datetime64[ns]")


def _nullable_dates(days: np.ndarray, present: np.ndarray) -> np.ndarray:
    out = _dates(np.where(present, days, 0))
    out[~present] = np.datetime64("NaT")
    return out


def record_ids(prefix: str, n: int, width: int = 7) -> np.ndarray:
    if n == 0:
        return np.empty(0, dtype=object)
    numbers = np.arange(1, n + 1).astype(np.str_)
    return np.strings.add(prefix, np.strings.zfill(numbers, width)).astype(object)


def _uniform_int(lo_hi: tuple[int, int], n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(lo_hi[0], lo_hi[1] + 1, size=n)


def scheduled_escalation(child: np.ndarray, day: np.ndarray, events) -> np.ndarray:
    """Referrals after which an earlier referral's Section 47 or plan is still to start.

    ``events`` holds (day of the event, whether the referral has one) pairs, aligned with the
    referrals. Such events start at most ~35 days after their referral, and a child has at
    most one referral a month, so only the next three referrals of the child can be affected.
    """
    n = len(child)
    order = np.lexsort((day, child))
    pending = np.zeros(n, dtype=bool)
    for event_day, has in events:
        for step in (1, 2, 3):
            if step >= n:
                break
            src, nxt = order[:-step], order[step:]
            hit = has[src] & (child[nxt] == child[src]) & (day[nxt] < event_day[src])
            pending[nxt[hit]] = True
    return pending


@dataclass
class Built:
    tables: dict[str, pd.DataFrame]
    truth_inputs: dict[str, np.ndarray]  # for the referrals kept, in table order


@dataclass(frozen=True)
class Draws:
    """The four random streams, each drawn from in a fixed order (same seed, same tables)."""

    dates: np.random.Generator
    details: np.random.Generator
    recording: np.random.Generator
    early_help: np.random.Generator


@dataclass
class ReferralEvents:
    """Every simulated referral (burn-in included) and the days of what follows it."""

    child: np.ndarray
    month: np.ndarray
    state: np.ndarray
    age_months: np.ndarray
    age_years: np.ndarray
    day: np.ndarray
    family: np.ndarray
    source: np.ndarray
    assessment_start: np.ndarray
    s47_start: np.ndarray
    icpc_day: np.ndarray
    authorised_day: np.ndarray
    escalation_pending: np.ndarray
    rate_key: np.ndarray  # each child's referral-rate row at age 0


@dataclass
class AssessmentEvents:
    index: np.ndarray  # the referrals assessed
    factors: np.ndarray
    outcome: np.ndarray  # per referral


@dataclass
class PlanEvents:
    child: np.ndarray
    start: np.ndarray
    end: np.ndarray
    ended: np.ndarray  # whether the plan's child exits it (else still open)
    category: np.ndarray


@dataclass
class ContactEvents:
    child: np.ndarray
    month: np.ndarray
    state: np.ndarray
    family: np.ndarray
    source: np.ndarray
    day: np.ndarray
    onsets: int  # the last ``onsets`` contacts came with the onset of a concern


@dataclass
class Presenting:
    contacts: np.ndarray
    referrals: np.ndarray
    referral_contact_day: np.ndarray


@dataclass
class NotificationEvents:
    child: np.ndarray  # one row per child of the household
    incident: np.ndarray  # the incident of each row
    day: np.ndarray  # per incident
    dash: np.ndarray
    marac: np.ndarray


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values(by, kind="stable").reset_index(drop=True)


def build_tables(
    pop: Population,
    ev: Events,
    model: ChainModel,
    window: Window,
    surveillance_group: np.ndarray,
    recording_rate: np.ndarray,
    rng_dates: np.random.Generator,
    rng_details: np.random.Generator,
    rng_recording: np.random.Generator,
    rng_early_help: np.random.Generator,
) -> Built:
    """Every canonical table of the window, and per kept referral what the oracle needs.

    The events are drawn first, in an order that fixes every random stream, then cut to the
    window table by table."""
    draws = Draws(rng_dates, rng_details, rng_recording, rng_early_help)
    group = surveillance_group.astype(np.int64)
    ref = referral_events(pop, ev, model, window, group, draws)
    assessed = assessment_events(pop, ev, ref, recording_rate, draws)
    planned = plan_events(ev, ref, window, draws)
    contacted = contact_events(pop, ev, model, ref.rate_key, window, draws)
    presenting = presenting_concerns(pop, ev, ref, contacted, recording_rate, draws)
    notified = notification_events(pop, ev, window, draws)
    helped = early_help_events(ev, ref, assessed, contacted, draws)

    lo, hi = window.start_day, window.end_day
    referrals = referrals_table(ev, ref, lo, hi)
    tables = {
        "contacts": contacts_table(ref, contacted, presenting, lo, hi),
        "referrals": referrals,
        "assessments": assessments_table(ref, assessed, lo, hi),
        "section47_enquiries": s47_table(ev, ref, lo, hi),
        "cp_plans": plans_table(planned, lo, hi),
        "domestic_abuse_notifications": notifications_table(notified, lo, hi),
        "early_help_episodes": early_help_table(helped, lo, hi),
    }
    return Built(
        tables=with_children(tables, pop, window),
        truth_inputs=truth_inputs(pop, ref, group, referrals),
    )


def _inside(days: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return (days >= lo) & (days <= hi)


# ---- the events, in the order they draw from the random streams ------------------------------


def referral_events(
    pop: Population, ev: Events, model: ChainModel, window: Window, group: np.ndarray, draws: Draws
) -> ReferralEvents:
    """Each referral's day, concern family and source, and the days of its assessment,
    Section 47 enquiry, conference and authorisation."""
    rng_dates, rng_details = draws.dates, draws.details
    rc, rt, rs = ev.ref_child.astype(np.int64), ev.ref_month, ev.ref_state
    age_m = rt - pop.birth_month[rc]
    age_y = age_m // 12
    ref_day = window.uniform_day(rt, rng_dates)
    key = child_rate_key(pop, group, np.full(pop.n_children, 0))  # age 0 key, offset below
    rate_rows = model.referral_rates.reshape(-1, P.N_STATES, len(P.FAMILIES))
    k_ref = key[rc] + age_y * (P.N_DECILES * 4)
    ref_family = choose_family(rate_rows[k_ref, rs], rng_details)
    ref_source = source_codes(ref_family, age_y, rng_details)
    n_ref = len(rc)
    asmt_start = ref_day + _uniform_int(P.ASSESSMENT_DELAY_DAYS, n_ref, rng_dates)
    s47_start = asmt_start + _uniform_int(P.S47_DELAY_DAYS, n_ref, rng_dates)
    icpc_day = s47_start + _uniform_int(P.ICPC_DELAY_DAYS, n_ref, rng_dates)
    auth_day = asmt_start + 5 + np.round(rng_dates.gamma(2.0, 14.0, n_ref)).astype(np.int64)
    auth_day = np.maximum(auth_day, np.where(ev.ref_s47, s47_start, asmt_start))
    pending = scheduled_escalation(rc, ref_day, ((s47_start, ev.ref_s47), (icpc_day, ev.ref_plan)))
    return ReferralEvents(
        child=rc,
        month=rt,
        state=rs,
        age_months=age_m,
        age_years=age_y,
        day=ref_day,
        family=ref_family,
        source=ref_source,
        assessment_start=asmt_start,
        s47_start=s47_start,
        icpc_day=icpc_day,
        authorised_day=auth_day,
        escalation_pending=pending,
        rate_key=key,
    )


def assessment_events(
    pop: Population, ev: Events, ref: ReferralEvents, recording_rate: np.ndarray, draws: Draws
) -> AssessmentEvents:
    """The factors recorded at each assessment, and each referral's assessment outcome."""
    rc, rs = ref.child, ref.state
    a_idx = np.flatnonzero(ev.ref_assessed)
    concern = STATE_BITS[rs][:, :5].any(axis=1)
    hh_of_ref = pop.household[rc]
    factors = draw_factors(
        factor_probabilities(
            rs[a_idx],
            ref.age_years[a_idx],
            pop.disability[rc[a_idx]],
            pop.household_alcohol[hh_of_ref[a_idx]],
            recording_rate[rc[a_idx]],
        ),
        draws.recording,
    )
    u_out = draws.details.random(len(rc))
    other_outcome = np.where(
        concern,
        np.select([u_out < 0.55, u_out < 0.75], ["cin_support", "early_help"], "nfa"),
        np.select([u_out < 0.15, u_out < 0.40], ["cin_support", "early_help"], "nfa"),
    ).astype(object)
    outcome = np.where(ev.ref_s47, "strategy_s47", other_outcome).astype(object)
    return AssessmentEvents(a_idx, factors, outcome)


def plan_events(ev: Events, ref: ReferralEvents, window: Window, draws: Draws) -> PlanEvents:
    """Child protection plans: the initial category by the dominant concern; the plan ends in
    the month its plan bit switches off (the next exit of that child)."""
    p_idx = np.flatnonzero(ev.ref_plan)
    pb = STATE_BITS[ref.state][p_idx]
    dominant = np.select(
        [pb[:, P.NEGLECT], pb[:, P.DOMESTIC_ABUSE], pb[:, P.EXPLOITATION], pb[:, 2] | pb[:, 3]],
        [0, 1, 2, 3],
        4,
    )
    cum = np.cumsum(CATEGORY_PROBS[dominant], axis=1)
    u = draws.details.random(len(p_idx))
    category = CATEGORIES[(u[:, None] >= cum).sum(axis=1).clip(0, 4)]
    plan_start = ref.icpc_day[p_idx]
    plan_child = ref.child[p_idx]
    exit_key = ev.plan_exit_child.astype(np.int64) * 10_000 + ev.plan_exit_month + 5_000
    exit_order = np.argsort(exit_key, kind="stable")
    exit_key_sorted = exit_key[exit_order]
    plan_key = plan_child * 10_000 + ref.month[p_idx] + 5_000
    pos = np.searchsorted(exit_key_sorted, plan_key, side="right")
    found = pos < len(exit_key_sorted)
    pos_c = np.minimum(pos, max(len(exit_key_sorted) - 1, 0))
    if len(exit_key_sorted):
        found &= (exit_key_sorted[pos_c] // 10_000) == plan_child
        exit_month = ev.plan_exit_month[exit_order][pos_c]
    else:
        exit_month = np.zeros(len(p_idx), dtype=np.int64)
    plan_end = window.uniform_day(exit_month, draws.dates)
    plan_end = np.maximum(plan_end, plan_start + 7 + draws.dates.integers(0, 21, len(p_idx)))
    return PlanEvents(plan_child, plan_start, plan_end, found, category)


def contact_events(
    pop: Population,
    ev: Events,
    model: ChainModel,
    rate_key: np.ndarray,
    window: Window,
    draws: Draws,
) -> ContactEvents:
    """Contacts that did not become referrals, then those that come with the onset of a
    concern (their family chosen in the simulation); each with its source and day."""
    cc = np.repeat(ev.contact_child.astype(np.int64), ev.contact_count)
    ct = np.repeat(ev.contact_month, ev.contact_count)
    cs = np.repeat(ev.contact_state, ev.contact_count)
    c_age_y = (ct - pop.birth_month[cc]) // 12
    con_rows = model.contact_rates.reshape(-1, P.N_STATES, len(P.FAMILIES))
    c_family = choose_family(
        con_rows[rate_key[cc] + c_age_y * (P.N_DECILES * 4), cs], draws.details
    )
    oc = ev.onset_child.astype(np.int64)
    ot = ev.onset_month.astype(ct.dtype)
    cc, ct = np.concatenate([cc, oc]), np.concatenate([ct, ot])
    cs = np.concatenate([cs, ev.onset_state.astype(cs.dtype)])
    c_family = np.concatenate([c_family, ev.onset_family.astype(c_family.dtype)])
    c_age_y = (ct - pop.birth_month[cc]) // 12
    c_source = source_codes(c_family, c_age_y, draws.details)
    c_day = window.uniform_day(ct, draws.dates)
    return ContactEvents(cc, ct, cs, c_family, c_source, c_day, len(oc))


def presenting_concerns(
    pop: Population,
    ev: Events,
    ref: ReferralEvents,
    con: ContactEvents,
    recording_rate: np.ndarray,
    draws: Draws,
) -> Presenting:
    """The presenting concerns of every contact and of the contact behind each referral
    (drawn after the factors: same seed, same ones), and that contact's day."""
    rng = draws.recording
    cc, cs = con.child, con.state
    n_plain = len(cc) - con.onsets
    c_cause = np.concatenate(
        [
            draw_cause(
                cause_weights(
                    con.family[:n_plain],
                    cs[:n_plain],
                    pop.decile[cc[:n_plain]],
                    pop.disability[cc[:n_plain]],
                    P.CONTACT_BACKGROUND_RATIO,
                    P.CONTACT_CONCERN_RATIO,
                ),
                rng,
            ),
            ev.onset_concern.astype(np.int64),
        ]
    )
    presenting = draw_presenting_concerns(
        c_cause, cs, recording_rate[cc], pop.household_alcohol[pop.household[cc]], rng
    )
    rc, rs = ref.child, ref.state
    ref_cause = draw_cause(
        cause_weights(ref.family, rs, pop.decile[rc], pop.disability[rc], 1.0, 1.0), rng
    )
    ref_presenting = draw_presenting_concerns(
        ref_cause, rs, recording_rate[rc], pop.household_alcohol[pop.household[rc]], rng
    )
    screening = np.searchsorted(
        np.cumsum(P.SCREENING_DAYS_PROBS), rng.random(len(rc)), side="right"
    )
    contact_day = ref.day - np.minimum(screening, len(P.SCREENING_DAYS_PROBS) - 1)
    return Presenting(presenting, ref_presenting, contact_day)


def notification_events(
    pop: Population, ev: Events, window: Window, draws: Draws
) -> NotificationEvents:
    """Police domestic-abuse incidents (DASH risk, MARAC referral), one notification per
    child of the household living there at the time."""
    inc_h = np.repeat(ev.da_household.astype(np.int64), ev.da_count)
    inc_t = np.repeat(ev.da_month, ev.da_count)
    inc_concern = np.repeat(ev.da_concern, ev.da_count)
    inc_day = window.uniform_day(inc_t, draws.dates)
    probs = np.where(inc_concern[:, None], P.DASH_PROBS_CONCERN, P.DASH_PROBS_BACKGROUND)
    dash = (draws.details.random(len(inc_h))[:, None] >= np.cumsum(probs, axis=1)).sum(axis=1)
    dash = dash.clip(0, 2)
    marac = draws.details.random(len(inc_h)) < P.MARAC_BY_DASH[dash]
    hh_start = np.searchsorted(pop.household, np.arange(pop.n_households))
    hh_size = np.diff(np.append(hh_start, pop.n_children))
    reps = hh_size[inc_h]
    inc_of_row = np.repeat(np.arange(len(inc_h)), reps)
    within = np.arange(len(inc_of_row)) - np.repeat(np.cumsum(reps) - reps, reps)
    da_child = hh_start[inc_h][inc_of_row] + within
    da_age = inc_t[inc_of_row] - pop.birth_month[da_child]
    alive = (da_age >= 0) & (da_age < P.AGE_OUT_MONTHS)
    return NotificationEvents(da_child[alive], inc_of_row[alive], inc_day, dash, marac)


def early_help_events(
    ev: Events,
    ref: ReferralEvents,
    assessed: AssessmentEvents,
    con: ContactEvents,
    draws: Draws,
) -> pd.DataFrame:
    """Early help episodes after an assessment, an unassessed referral or a contact; a child's
    episodes never overlap (columns c: child, s: start day, e: end day)."""
    rng = draws.early_help
    eh_from_asmt = ev.ref_assessed & (assessed.outcome == "early_help")
    nfa_ref = ~ev.ref_assessed & (rng.random(len(ref.child)) < 0.25)
    c_concern = STATE_BITS[con.state][:, :5].any(axis=1)
    from_contact = rng.random(len(con.child)) < np.where(c_concern, 0.08, 0.02)
    eh_child = np.concatenate(
        [ref.child[eh_from_asmt], ref.child[nfa_ref], con.child[from_contact]]
    )
    eh_start = np.concatenate(
        [
            ref.authorised_day[eh_from_asmt] + rng.integers(1, 15, int(eh_from_asmt.sum())),
            ref.day[nfa_ref] + rng.integers(2, 22, int(nfa_ref.sum())),
            con.day[from_contact] + rng.integers(3, 29, int(from_contact.sum())),
        ]
    )
    eh_end = eh_start + 60 + np.round(rng.gamma(2.0, 60.0, len(eh_start))).astype(np.int64)
    eh = pd.DataFrame({"c": eh_child, "s": eh_start, "e": eh_end})
    eh = eh.sort_values(["c", "s"], kind="stable").drop_duplicates(["c", "s"])
    prev_end = eh.groupby("c")["e"].cummax().groupby(eh["c"]).shift(1)
    return eh[prev_end.isna() | (eh["s"] > prev_end)]


# ---- the tables, cut to the window (``_c``: the child's index; ``_i``: the referral's) -------


def referrals_table(ev: Events, ref: ReferralEvents, lo: int, hi: int) -> pd.DataFrame:
    keep = _inside(ref.day, lo, hi)
    referrals = pd.DataFrame(
        {
            "_i": np.flatnonzero(keep),
            "_c": ref.child[keep],
            "referral_date": ref.day[keep],
            "source": ref.source[keep],
            "outcome": np.where(ev.ref_assessed[keep], "assessment", "nfa").astype(object),
        }
    )
    referrals = _sorted(referrals, ["referral_date", "_c"])
    referrals["referral_id"] = record_ids("R", len(referrals))
    return referrals


def contacts_table(
    ref: ReferralEvents, con: ContactEvents, presenting: Presenting, lo: int, hi: int
) -> pd.DataFrame:
    """The contacts that did not become referrals, and the contact behind each referral
    (received up to three days before the front door accepts it as a referral)."""
    contacts = pd.DataFrame(
        {
            "_c": np.concatenate([con.child, ref.child]),
            "contact_date": np.concatenate([con.day, presenting.referral_contact_day]),
            "source": np.concatenate([con.source, ref.source]),
            "presenting_concerns": np.concatenate([presenting.contacts, presenting.referrals]),
        }
    )
    contacts = contacts[_inside(contacts["contact_date"].to_numpy(), lo, hi)]
    contacts = _sorted(
        contacts.drop_duplicates(["_c", "contact_date", "source"]), ["contact_date", "_c"]
    )
    contacts["contact_id"] = record_ids("K", len(contacts))
    return contacts


def assessments_table(
    ref: ReferralEvents, assessed: AssessmentEvents, lo: int, hi: int
) -> pd.DataFrame:
    keep = _inside(ref.assessment_start[assessed.index], lo, hi)
    ai = assessed.index[keep]
    authorised = ref.authorised_day[ai] <= hi
    assessments = pd.DataFrame(
        {
            "_c": ref.child[ai],
            "start_date": ref.assessment_start[ai],
            "authorisation_date": _nullable_dates(ref.authorised_day[ai], authorised),
            "factors": assessed.factors[keep],
            "outcome": np.where(authorised, assessed.outcome[ai], None),
        }
    )
    assessments = _sorted(assessments.drop_duplicates(["_c", "start_date"]), ["start_date", "_c"])
    assessments["assessment_id"] = record_ids("A", len(assessments))
    return assessments


def s47_table(ev: Events, ref: ReferralEvents, lo: int, hi: int) -> pd.DataFrame:
    si = np.flatnonzero(ev.ref_s47 & _inside(ref.s47_start, lo, hi))
    held = ev.ref_icpc[si] & (ref.icpc_day[si] <= hi)
    outcome = np.where(
        ev.ref_plan[si], "icpc_plan", np.where(ev.ref_icpc[si], "icpc_no_plan", "no_icpc")
    )
    outcome = np.where(ev.ref_icpc[si] & ~held, None, outcome).astype(object)
    s47 = pd.DataFrame(
        {
            "_c": ref.child[si],
            "start_date": ref.s47_start[si],
            "icpc_date": _nullable_dates(ref.icpc_day[si], held),
            "outcome": outcome,
        }
    )
    s47 = _sorted(s47.drop_duplicates(["_c", "start_date"]), ["start_date", "_c"])
    s47["s47_id"] = record_ids("S", len(s47))
    return s47


def plans_table(planned: PlanEvents, lo: int, hi: int) -> pd.DataFrame:
    closed = planned.ended & (planned.end <= hi)
    keep = (planned.start <= hi) & (~closed | (planned.end >= lo))
    plans = pd.DataFrame(
        {
            "_c": planned.child[keep],
            "start_date": planned.start[keep],
            "end_date": _nullable_dates(planned.end[keep], closed[keep]),
            "initial_category": planned.category[keep],
        }
    )
    plans = _sorted(plans.drop_duplicates(["_c", "start_date"]), ["start_date", "_c"])
    plans["plan_id"] = record_ids("P", len(plans))
    return plans


def notifications_table(notified: NotificationEvents, lo: int, hi: int) -> pd.DataFrame:
    """One notification per child and day (the highest DASH risk of that day's incidents)."""
    row = notified.incident
    da = pd.DataFrame(
        {
            "_c": notified.child,
            "notification_date": notified.day[row],
            "dash_risk": DASH_CODES[notified.dash[row]],
            "marac_referral": notified.marac[row],
        }
    )
    da = da[_inside(da["notification_date"].to_numpy(), lo, hi)]
    da = da.sort_values(["_c", "notification_date", "dash_risk"], kind="stable")
    da = _sorted(
        da.drop_duplicates(["_c", "notification_date"], keep="last"), ["notification_date", "_c"]
    )
    da["notification_id"] = record_ids("D", len(da))
    return da


def early_help_table(eh: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    eh_s, eh_e = eh["s"].to_numpy(), eh["e"].to_numpy()
    keep = (eh_s <= hi) & (eh_e >= lo)
    early = pd.DataFrame(
        {
            "_c": eh["c"].to_numpy()[keep],
            "start_date": eh_s[keep],
            "end_date": _nullable_dates(eh_e[keep], eh_e[keep] <= hi),
        }
    )
    early = _sorted(early, ["start_date", "_c"])
    early["episode_id"] = record_ids("E", len(early))
    return early


def with_children(
    tables: dict[str, pd.DataFrame], pop: Population, window: Window
) -> dict[str, pd.DataFrame]:
    """The event tables with council child ids and dates, and the children and household
    memberships of every child they name, each conformed to the contract."""
    width = max(7, len(str(pop.n_children)))
    child_ids = record_ids("C", pop.n_children, width)
    household_ids = record_ids("H", pop.n_households, max(6, len(str(pop.n_households))))
    known = np.unique(np.concatenate([t["_c"].to_numpy() for t in tables.values()]))
    tables = dict(tables)
    for name, frame in tables.items():
        frame["child_id"] = child_ids[frame["_c"].to_numpy()]
        for col in frame.columns:
            if col.endswith("_date") and frame[col].dtype.kind in "iu":
                frame[col] = _dates(frame[col].to_numpy())
        tables[name] = frame.drop(columns=[c for c in frame.columns if c.startswith("_")])
    children = pd.DataFrame(
        {
            "child_id": child_ids[known],
            "sex": pop.sex[known],
            "ethnicity": np.asarray(ETHNICITY_CODES, dtype=object)[pop.ethnicity[known]],
            "birth_month": _dates(window.first_day(pop.birth_month[known])),
            "disability": pop.disability[known],
            "household_id": household_ids[pop.household[known]],
            "idaci_decile": pop.decile[known].astype(np.int64) + 1,
        }
    )
    # Households do not change in this generator: each child is a member from its month of
    # birth, with no end (a council's extract would show moves as ended memberships).
    memberships = pd.DataFrame(
        {
            "membership_id": record_ids("M", len(known)),
            "child_id": child_ids[known],
            "household_id": household_ids[pop.household[known]],
            "start_date": _dates(window.first_day(pop.birth_month[known])),
            "end_date": pd.NaT,
        }
    )
    everything = {"children": children, **tables, "household_memberships": memberships}
    return {name: conform(frame, name) for name, frame in everything.items()}


def truth_inputs(
    pop: Population, ref: ReferralEvents, group: np.ndarray, referrals: pd.DataFrame
) -> dict[str, np.ndarray]:
    """What the oracle needs per referral kept, in the referrals table's order."""
    ri = referrals["_i"].to_numpy()
    rc = ref.child
    return {
        "state": ref.state[ri].astype(np.int64),
        "age_months": ref.age_months[ri].astype(np.int64),
        "decile": pop.decile[rc[ri]].astype(np.int64),
        "group": group[rc[ri]],
        "disability": pop.disability[rc[ri]].astype(np.int64),
        "ref_day": ref.day[ri],
        "ref_month": ref.month[ri].astype(np.int64),
        "escalation_pending": ref.escalation_pending[ri],
        "referral_id": referrals["referral_id"].to_numpy(),
    }
