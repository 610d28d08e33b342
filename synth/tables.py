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
    """Every canonical table of the window, and per kept referral what the oracle needs."""
    width = max(7, len(str(pop.n_children)))
    child_ids = record_ids("C", pop.n_children, width)
    household_ids = record_ids("H", pop.n_households, max(6, len(str(pop.n_households))))
    group = surveillance_group.astype(np.int64)

    # ---- referrals and what follows them -----------------------------------------------------
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

    # ---- assessments -----------------------------------------------------------------------
    a_idx = np.flatnonzero(ev.ref_assessed)
    bits = STATE_BITS[rs]
    concern = bits[:, :5].any(axis=1)
    hh_of_ref = pop.household[rc]
    factors = draw_factors(
        factor_probabilities(
            rs[a_idx],
            age_y[a_idx],
            pop.disability[rc[a_idx]],
            pop.household_alcohol[hh_of_ref[a_idx]],
            recording_rate[rc[a_idx]],
        ),
        rng_recording,
    )
    u_out = rng_details.random(n_ref)
    other_outcome = np.where(
        concern,
        np.select([u_out < 0.55, u_out < 0.75], ["cin_support", "early_help"], "nfa"),
        np.select([u_out < 0.15, u_out < 0.40], ["cin_support", "early_help"], "nfa"),
    ).astype(object)
    asmt_outcome = np.where(ev.ref_s47, "strategy_s47", other_outcome).astype(object)

    # ---- child protection plans ------------------------------------------------------------
    p_idx = np.flatnonzero(ev.ref_plan)
    pb = bits[p_idx]
    dominant = np.select(
        [pb[:, P.NEGLECT], pb[:, P.DOMESTIC_ABUSE], pb[:, P.EXPLOITATION], pb[:, 2] | pb[:, 3]],
        [0, 1, 2, 3],
        4,
    )
    cum = np.cumsum(CATEGORY_PROBS[dominant], axis=1)
    category = CATEGORIES[(rng_details.random(len(p_idx))[:, None] >= cum).sum(axis=1).clip(0, 4)]
    plan_start = icpc_day[p_idx]
    plan_child = rc[p_idx]
    # The plan ends in the month its plan bit switches off (the next exit of that child).
    exit_key = ev.plan_exit_child.astype(np.int64) * 10_000 + ev.plan_exit_month + 5_000
    exit_order = np.argsort(exit_key, kind="stable")
    exit_key_sorted = exit_key[exit_order]
    plan_key = plan_child * 10_000 + rt[p_idx] + 5_000
    pos = np.searchsorted(exit_key_sorted, plan_key, side="right")
    found = pos < len(exit_key_sorted)
    pos_c = np.minimum(pos, max(len(exit_key_sorted) - 1, 0))
    if len(exit_key_sorted):
        found &= (exit_key_sorted[pos_c] // 10_000) == plan_child
        exit_month = ev.plan_exit_month[exit_order][pos_c]
    else:
        exit_month = np.zeros(len(p_idx), dtype=np.int64)
    plan_end = window.uniform_day(exit_month, rng_dates)
    plan_end = np.maximum(plan_end, plan_start + 7 + rng_dates.integers(0, 21, len(p_idx)))

    # ---- contacts -----------------------------------------------------------------------------
    cc = np.repeat(ev.contact_child.astype(np.int64), ev.contact_count)
    ct = np.repeat(ev.contact_month, ev.contact_count)
    cs = np.repeat(ev.contact_state, ev.contact_count)
    c_age_y = (ct - pop.birth_month[cc]) // 12
    con_rows = model.contact_rates.reshape(-1, P.N_STATES, len(P.FAMILIES))
    c_family = choose_family(con_rows[key[cc] + c_age_y * (P.N_DECILES * 4), cs], rng_details)
    # ... and the contacts that come with the onset of a concern (family chosen in simulation).
    oc = ev.onset_child.astype(np.int64)
    ot = ev.onset_month.astype(ct.dtype)
    cc, ct = np.concatenate([cc, oc]), np.concatenate([ct, ot])
    cs = np.concatenate([cs, ev.onset_state.astype(cs.dtype)])
    c_family = np.concatenate([c_family, ev.onset_family.astype(c_family.dtype)])
    c_age_y = (ct - pop.birth_month[cc]) // 12
    c_source = source_codes(c_family, c_age_y, rng_details)
    c_day = window.uniform_day(ct, rng_dates)

    # ---- presenting concerns of every contact (drawn after the factors: same seed, same ones)
    n_plain = len(cc) - len(oc)
    c_cause = np.concatenate(
        [
            draw_cause(
                cause_weights(
                    c_family[:n_plain],
                    cs[:n_plain],
                    pop.decile[cc[:n_plain]],
                    pop.disability[cc[:n_plain]],
                    P.CONTACT_BACKGROUND_RATIO,
                    P.CONTACT_CONCERN_RATIO,
                ),
                rng_recording,
            ),
            ev.onset_concern.astype(np.int64),
        ]
    )
    presenting = draw_presenting_concerns(
        c_cause, cs, recording_rate[cc], pop.household_alcohol[pop.household[cc]], rng_recording
    )
    ref_cause = draw_cause(
        cause_weights(ref_family, rs, pop.decile[rc], pop.disability[rc], 1.0, 1.0),
        rng_recording,
    )
    ref_presenting = draw_presenting_concerns(
        ref_cause, rs, recording_rate[rc], pop.household_alcohol[pop.household[rc]], rng_recording
    )
    screening = np.searchsorted(
        np.cumsum(P.SCREENING_DAYS_PROBS), rng_recording.random(n_ref), side="right"
    )
    ref_contact_day = ref_day - np.minimum(screening, len(P.SCREENING_DAYS_PROBS) - 1)

    # ---- police domestic-abuse notifications (one per child of the household) ---------------
    inc_h = np.repeat(ev.da_household.astype(np.int64), ev.da_count)
    inc_t = np.repeat(ev.da_month, ev.da_count)
    inc_concern = np.repeat(ev.da_concern, ev.da_count)
    inc_day = window.uniform_day(inc_t, rng_dates)
    probs = np.where(inc_concern[:, None], P.DASH_PROBS_CONCERN, P.DASH_PROBS_BACKGROUND)
    dash = (rng_details.random(len(inc_h))[:, None] >= np.cumsum(probs, axis=1)).sum(axis=1)
    dash = dash.clip(0, 2)
    marac = rng_details.random(len(inc_h)) < P.MARAC_BY_DASH[dash]
    hh_start = np.searchsorted(pop.household, np.arange(pop.n_households))
    hh_size = np.diff(np.append(hh_start, pop.n_children))
    reps = hh_size[inc_h]
    inc_of_row = np.repeat(np.arange(len(inc_h)), reps)
    within = np.arange(len(inc_of_row)) - np.repeat(np.cumsum(reps) - reps, reps)
    da_child = hh_start[inc_h][inc_of_row] + within
    da_age = inc_t[inc_of_row] - pop.birth_month[da_child]
    alive = (da_age >= 0) & (da_age < P.AGE_OUT_MONTHS)
    da_child, inc_of_row = da_child[alive], inc_of_row[alive]

    # ---- early help ---------------------------------------------------------------------------
    eh_from_asmt = ev.ref_assessed & (asmt_outcome == "early_help")
    nfa_ref = ~ev.ref_assessed & (rng_early_help.random(n_ref) < 0.25)
    c_concern = STATE_BITS[cs][:, :5].any(axis=1)
    from_contact = rng_early_help.random(len(cc)) < np.where(c_concern, 0.08, 0.02)
    eh_child = np.concatenate([rc[eh_from_asmt], rc[nfa_ref], cc[from_contact]])
    eh_start = np.concatenate(
        [
            auth_day[eh_from_asmt] + rng_early_help.integers(1, 15, int(eh_from_asmt.sum())),
            ref_day[nfa_ref] + rng_early_help.integers(2, 22, int(nfa_ref.sum())),
            c_day[from_contact] + rng_early_help.integers(3, 29, int(from_contact.sum())),
        ]
    )
    eh_end = (
        eh_start + 60 + np.round(rng_early_help.gamma(2.0, 60.0, len(eh_start))).astype(np.int64)
    )
    eh = pd.DataFrame({"c": eh_child, "s": eh_start, "e": eh_end})
    eh = eh.sort_values(["c", "s"], kind="stable").drop_duplicates(["c", "s"])
    prev_end = eh.groupby("c")["e"].cummax().groupby(eh["c"]).shift(1)
    eh = eh[prev_end.isna() | (eh["s"] > prev_end)]

    # ---- cut to the window ----------------------------------------------------------------
    lo, hi = window.start_day, window.end_day

    def inside(days):
        return (days >= lo) & (days <= hi)

    tables: dict[str, pd.DataFrame] = {}
    keep_ref = inside(ref_day)
    referrals = pd.DataFrame(
        {
            "_i": np.flatnonzero(keep_ref),
            "_c": rc[keep_ref],
            "referral_date": ref_day[keep_ref],
            "source": ref_source[keep_ref],
            "outcome": np.where(ev.ref_assessed[keep_ref], "assessment", "nfa").astype(object),
        }
    )
    referrals = _sorted(referrals, ["referral_date", "_c"])
    referrals["referral_id"] = record_ids("R", len(referrals))
    ri = referrals["_i"].to_numpy()

    # Contacts: the ones that did not become referrals, and the contact behind each referral
    # (received up to three days before the front door accepts it as a referral).
    contacts = pd.DataFrame(
        {
            "_c": np.concatenate([cc, rc]),
            "contact_date": np.concatenate([c_day, ref_contact_day]),
            "source": np.concatenate([c_source, ref_source]),
            "presenting_concerns": np.concatenate([presenting, ref_presenting]),
        }
    )
    contacts = contacts[inside(contacts["contact_date"].to_numpy())]
    contacts = _sorted(
        contacts.drop_duplicates(["_c", "contact_date", "source"]), ["contact_date", "_c"]
    )
    contacts["contact_id"] = record_ids("K", len(contacts))

    keep_a = inside(asmt_start[a_idx])
    ai = a_idx[keep_a]
    authorised = auth_day[ai] <= hi
    assessments = pd.DataFrame(
        {
            "_c": rc[ai],
            "start_date": asmt_start[ai],
            "authorisation_date": _nullable_dates(auth_day[ai], authorised),
            "factors": factors[keep_a],
            "outcome": np.where(authorised, asmt_outcome[ai], None),
        }
    )
    assessments = _sorted(assessments.drop_duplicates(["_c", "start_date"]), ["start_date", "_c"])
    assessments["assessment_id"] = record_ids("A", len(assessments))

    si = np.flatnonzero(ev.ref_s47 & inside(s47_start))
    held = ev.ref_icpc[si] & (icpc_day[si] <= hi)
    s47_outcome = np.where(
        ev.ref_plan[si], "icpc_plan", np.where(ev.ref_icpc[si], "icpc_no_plan", "no_icpc")
    )
    s47_outcome = np.where(ev.ref_icpc[si] & ~held, None, s47_outcome).astype(object)
    s47 = pd.DataFrame(
        {
            "_c": rc[si],
            "start_date": s47_start[si],
            "icpc_date": _nullable_dates(icpc_day[si], held),
            "outcome": s47_outcome,
        }
    )
    s47 = _sorted(s47.drop_duplicates(["_c", "start_date"]), ["start_date", "_c"])
    s47["s47_id"] = record_ids("S", len(s47))

    plan_closed = found & (plan_end <= hi)
    keep_p = (plan_start <= hi) & (~plan_closed | (plan_end >= lo))
    plans = pd.DataFrame(
        {
            "_c": plan_child[keep_p],
            "start_date": plan_start[keep_p],
            "end_date": _nullable_dates(plan_end[keep_p], plan_closed[keep_p]),
            "initial_category": category[keep_p],
        }
    )
    plans = _sorted(plans.drop_duplicates(["_c", "start_date"]), ["start_date", "_c"])
    plans["plan_id"] = record_ids("P", len(plans))

    da = pd.DataFrame(
        {
            "_c": da_child,
            "notification_date": inc_day[inc_of_row],
            "dash_risk": DASH_CODES[dash[inc_of_row]],
            "marac_referral": marac[inc_of_row],
        }
    )
    da = da[inside(da["notification_date"].to_numpy())]
    da = da.sort_values(["_c", "notification_date", "dash_risk"], kind="stable")
    da = _sorted(
        da.drop_duplicates(["_c", "notification_date"], keep="last"), ["notification_date", "_c"]
    )
    da["notification_id"] = record_ids("D", len(da))

    eh_s, eh_e = eh["s"].to_numpy(), eh["e"].to_numpy()
    keep_eh = (eh_s <= hi) & (eh_e >= lo)
    early = pd.DataFrame(
        {
            "_c": eh["c"].to_numpy()[keep_eh],
            "start_date": eh_s[keep_eh],
            "end_date": _nullable_dates(eh_e[keep_eh], eh_e[keep_eh] <= hi),
        }
    )
    early = _sorted(early, ["start_date", "_c"])
    early["episode_id"] = record_ids("E", len(early))

    tables = {
        "contacts": contacts,
        "referrals": referrals,
        "assessments": assessments,
        "section47_enquiries": s47,
        "cp_plans": plans,
        "domestic_abuse_notifications": da,
        "early_help_episodes": early,
    }
    known = np.unique(np.concatenate([t["_c"].to_numpy() for t in tables.values()]))
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
    tables = {
        name: conform(frame, name)
        for name, frame in {
            "children": children,
            **tables,
            "household_memberships": memberships,
        }.items()
    }

    truth_inputs = {
        "state": rs[ri].astype(np.int64),
        "age_months": age_m[ri].astype(np.int64),
        "decile": pop.decile[rc[ri]].astype(np.int64),
        "group": group[rc[ri]],
        "disability": pop.disability[rc[ri]].astype(np.int64),
        "ref_day": ref_day[ri],
        "ref_month": rt[ri].astype(np.int64),
        "escalation_pending": pending[ri],
        "referral_id": referrals["referral_id"].to_numpy(),
    }
    return Built(tables=tables, truth_inputs=truth_inputs)
