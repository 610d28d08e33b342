"""The fairness audit and the promotion gate: configured here, in one place.

The gate rule (docs/fairness.md): for every assessable group (at least ``min_group_size`` rows)
and every gated metric, the ratio to the reference group fails when its point estimate lies
outside [ratio_lower, ratio_upper] *and* its interval excludes 1; the difference between a
group's calibration gap (observed - predicted) and the reference's fails when its point estimate
exceeds ``max_calibration_gap`` in size *and* its interval excludes 0. With
``multiplicity="bonferroni"`` the gate's intervals are widened for the number of checks, so that
with no disparity at all the chance of any false failure is at most ``family_error_rate``.
"""

from typing import Literal

from pydantic import Field

from frontdoor.settings.section import Section


class FairnessSettings(Section):
    min_group_size: int = 30  # smaller groups show "too few to assess"
    reference_group: str = "largest"  # or a group's name
    # Per characteristic, e.g. {"ethnicity": "White"}; overrides reference_group.
    reference_groups: dict[str, str] = Field(default_factory=dict)
    ratio_lower: float = 0.8  # four-fifths rule (as aequitas)
    ratio_upper: float = 1.25
    # Error-rate ratios (judged against the labels) and the selection (flag-rate) ratio, which
    # needs no label: labels biased like the flags cannot hide a disparity in who is flagged.
    gated_metrics: list[str] = ["fnr", "fpr", "flag_rate"]
    # Characteristics the gate judges; every audited one is reported with the same rule.
    # Age band and deprivation are reported, not gated, by default: need truly differs by age
    # and deprivation, and a calibrated model cannot have equal error rates across groups whose
    # base rates differ (docs/fairness.md). Add them here to gate them too.
    gated_characteristics: list[str] = Field(
        default_factory=lambda: ["ethnicity", "sex", "disability", "ethnicity_x_sex"]
    )
    multiplicity: Literal["bonferroni", "none"] = "bonferroni"
    family_error_rate: float = 0.05  # with bonferroni: chance of any false failure, no disparity
    # A pre-declared small family: the selection (flag-rate) ratios of these characteristics
    # (the primary ones, not their intersections) share ``selection_share`` of the family error
    # rate among themselves; every other gated check shares the rest. Labels biased like the
    # flags hide a disparity from the error rates, so only these checks can see it, and a few
    # checks judged at 0.025/7 each see far more than ~80 at 0.05/80 (docs/fairness.md).
    # The two shares add up to family_error_rate, so a fair model still fails at most that often.
    selection_characteristics: list[str] = Field(
        default_factory=lambda: ["ethnicity", "sex", "disability"]
    )
    selection_share: float = Field(default=0.5, ge=0.0, le=1.0)
    # Where the selection family is judged (a flag rate needs no outcome; docs/fairness.md):
    # "cross_fitted": the deployed model's flags on every referral of the extract's newest
    # selection_months months (None: all), several times the labelled test rows, those of its
    # training window scored by models fitted without the referral's child (in-sample scores
    # shrink a disparity the labels do not share); "deployed": the same, in sample;
    # "out_of_sample": the fold models' flags on every referral of their test windows and the
    # deployed model's after its newest label; "labelled": the labelled test rows, like the
    # error rates. Flags at the review capacity in each models.splits.test_months period. The
    # error-rate checks always use the labelled rows. "labelled" by default: on seven 50k
    # councils the scored designs failed knobs-off councils on real differences in need (2 of 7
    # at 72 months), and 24 months had less power than the labelled rows (docs/fairness.md).
    selection_rows: Literal["cross_fitted", "deployed", "out_of_sample", "labelled"] = "labelled"
    selection_months: int | None = Field(default=72, ge=1)
    # Which referrals count as flagged when auditing our models' test predictions: "capacity"
    # uses the run's flags at the review capacity; when those flag more than max_capacity_share
    # of the test rows (capacity above the referral volume: error rates say nothing) or with
    # "share", the top flag_share of scores in each test period is used instead.
    flag_rule: Literal["capacity", "share"] = "capacity"
    flag_share: float = 0.2
    max_capacity_share: float = 0.8
    max_calibration_gap: float = 0.05  # largest |observed - predicted| gap between groups
    check_calibration: bool = True
    bootstrap_samples: int = 200
    # Resample whole children (their referrals share outcomes) when the audited frame holds
    # this column; None, or a frame without it, resamples rows.
    cluster_column: str | None = "child_id"
    seed: int = 11
