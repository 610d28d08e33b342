"""The generative model's numbers, in one place (documented in docs/synthetic-council.md).

Rates are per child (or household) per month. The user-facing knobs (size, seed, bias knobs)
live in ``frontdoor.settings.synth``; these are the model's structure, tuned so that the
council's achieved rates match England's (``synth.rates.TARGETS``).
"""

from __future__ import annotations

import numpy as np

# ---- latent state ---------------------------------------------------------------------------
# A child's state is 6 bits: 4 household concerns shared by siblings, the child's own
# exploitation, and whether the child is on a child protection plan: 64 states.
CONCERNS = ("neglect", "domestic_abuse", "mental_health", "substance")
NEGLECT, DOMESTIC_ABUSE, MENTAL_HEALTH, SUBSTANCE, EXPLOITATION, ON_PLAN = range(6)
N_HOUSEHOLD_STATES = 16
N_STATES = 64
AGE_OUT_MONTHS = 216  # 18th birthday: no more events
N_AGE_YEARS = 19  # ages 0..17, and 18 = aged out (every rate is zero)
N_DECILES = 10

# Household concerns: monthly onset in a middle decile, mean duration in months.
CONCERN_ONSET = np.array([0.00050, 0.00080, 0.00100, 0.0003])
CONCERN_DURATION = np.array([30.0, 15.0, 20.0, 26.0])
# CO_OCCURRENCE[i, j] multiplies the onset of concern i while concern j is present
# (substance misuse and mental health feed neglect; substance misuse feeds domestic abuse).
CO_OCCURRENCE = np.array(
    [
        [1.0, 1.6, 2.2, 3.0],
        [1.0, 1.0, 1.5, 2.5],
        [1.0, 2.0, 1.0, 1.8],
        [1.0, 1.8, 1.8, 1.0],
    ]
)
# Deprivation: onset multiplied by exp(slope * (5.5 - decile)); decile 1 about x2.6, 10 about x0.4.
DEPRIVATION_SLOPE = 0.21
# Concerns last longer in deprived homes: duration multiplied by exp(slope * (5.5 - decile)).
DEPRIVATION_DURATION_SLOPE = 0.04

# Child criminal / sexual exploitation (child-level, from age 10).
EXPLOITATION_ONSET_BY_AGE = np.array(
    [0.0] * 10 + [0.0002, 0.0004, 0.0008, 0.0011, 0.0013, 0.0013, 0.0011, 0.0008, 0.0]
)
EXPLOITATION_HOUSEHOLD_MULT = {NEGLECT: 1.8, SUBSTANCE: 1.5, DOMESTIC_ABUSE: 1.3}
EXPLOITATION_DURATION = 10.0

# Child protection plans: mean length in months (monthly ending probability 1/length).
PLAN_DURATION = 9.0

# ---- contacts and referrals -----------------------------------------------------------------
FAMILIES = ("police", "school", "health", "council", "individual", "anonymous", "other")
# Referral hazard (contacts that become referrals), by source family: a background rate for a
# child with no concern, plus one term per present concern (rows: N, D, M, S, E).
REFERRAL_BACKGROUND = np.array([0.00008, 0.00022, 0.00034, 0.00016, 0.00020, 0.00005, 0.00012])
REFERRAL_BY_CONCERN = np.array(
    [
        # police  school  health  council  indiv.  anon.   other
        [0.0012, 0.0080, 0.0055, 0.0030, 0.0020, 0.0012, 0.0004],  # neglect
        [0.0190, 0.0030, 0.0030, 0.0012, 0.0018, 0.0006, 0.0010],  # domestic abuse
        [0.0035, 0.0025, 0.0080, 0.0020, 0.0020, 0.0005, 0.0004],  # parental mental health
        [0.0060, 0.0020, 0.0045, 0.0012, 0.0020, 0.0010, 0.0004],  # substance misuse
        [0.0240, 0.0080, 0.0030, 0.0040, 0.0020, 0.0005, 0.0010],  # exploitation
    ]
)
# Contacts that do not become referrals: background and per concern, as multiples of the above.
CONTACT_BACKGROUND_RATIO = 2.6
CONTACT_CONCERN_RATIO = 8.0
REFERRAL_CONCERN_SCALE = 1.55  # multiplies every per-concern referral and contact rate
# When a concern begins (a household bit or the child's exploitation switches on), each child
# of the household comes to notice: a contact from the concern's usual sources in the first
# month of the new state, with this probability; a new domestic-abuse concern also brings a
# police-reported incident. (A function of the transition only, so it tells nothing about the
# future that the state does not: the oracle stays the best possible predictor.)
ONSET_CONTACT_PROB = 0.95
ONSET_DA_INCIDENT_PROB = 0.9
# On a plan the child is open to a social worker: new referrals are rare.
ON_PLAN_REFERRAL_MULT = 0.08
ON_PLAN_CONTACT_MULT = 0.4
# Background referrals are a little higher in deprived homes (exp(slope * (5.5 - decile))).
BACKGROUND_DEPRIVATION_SLOPE = 0.06
DISABILITY_MULT = 1.8  # health and council background contacts about disabled children


def family_age_profile() -> np.ndarray:
    """Multiplier of each source family by age in years (0..18): shape (19, 7)."""
    prof = np.ones((N_AGE_YEARS, len(FAMILIES)))
    ages = np.arange(N_AGE_YEARS)
    school = FAMILIES.index("school")
    prof[:, school] = np.where((ages >= 4) & (ages <= 16), 1.0, np.where(ages == 17, 0.5, 0.1))
    prof[ages == 3, school] = 0.4
    health = FAMILIES.index("health")
    prof[:, health] = np.where(ages == 0, 2.2, np.where(ages < 5, 1.3, 1.0))
    police = FAMILIES.index("police")
    prof[:, police] = np.where(ages >= 12, 1.5, np.where(ages < 5, 0.8, 1.0))
    prof[N_AGE_YEARS - 1] = 0.0  # aged out
    return prof


# ---- what follows a referral ----------------------------------------------------------------
ASSESSED_NO_CONCERN = 0.80
ASSESSED_CONCERN = 0.94
ASSESSED_ON_PLAN = 0.55
# Section 47 given assessment, by number of present concerns (0, 1, 2, 3+), plus extras.
S47_BY_N_CONCERNS = np.array([0.06, 0.36, 0.50, 0.60])
S47_NEGLECT_EXTRA = 0.06
S47_EXPLOITATION_EXTRA = 0.06
S47_YOUNG_EXTRA = 0.05  # under 5
ICPC_NO_CONCERN = 0.15
ICPC_CONCERN = 0.36
ICPC_NEGLECT_EXTRA = 0.15
PLAN_GIVEN_ICPC = 0.82
# Delays (days): referral to assessment start, assessment start to Section 47 start.
ASSESSMENT_DELAY_DAYS = (0, 3)
S47_DELAY_DAYS = (1, 10)
ICPC_DELAY_DAYS = (10, 21)

# ---- police domestic-abuse notifications (household incidents) -------------------------------
DA_INCIDENTS_WITH_CONCERN = 0.25
DA_INCIDENTS_BACKGROUND = 0.0010
DASH_PROBS_CONCERN = np.array([0.52, 0.34, 0.14])  # standard, medium, high
DASH_PROBS_BACKGROUND = np.array([0.85, 0.13, 0.02])
MARAC_BY_DASH = np.array([0.01, 0.06, 0.85])

# ---- assessment factors ---------------------------------------------------------------------
RECORDING_RATE = 0.85  # share of true concerns recorded at assessment (knob: under-recording)

# ---- presenting concerns recorded on contacts (synth.presenting) -------------------------
# The cause of a contact is recorded with the child's recording rate; each other concern
# present with this share of it (what the caller also mentions); a concern not present is
# recorded by mistake at a small rate (scaled by the recording ratio).
PRESENTING_CO_RECORD = 0.5
PRESENTING_BACKGROUND = 0.01
PRESENTING_SEXUAL_EXPLOITATION_SHARE = 0.35  # exploitation recorded as 11A, else 24A
# Days from receiving the contact behind a referral to accepting it as a referral (the MASH's
# screening time; the front door aims to decide within one working day): P(0, 1, 2, 3 days).
SCREENING_DAYS_PROBS = np.array([0.25, 0.45, 0.20, 0.10])
