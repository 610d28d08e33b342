"""Training, calibration, bands and evaluation."""

from pydantic import Field

from frontdoor.settings.section import Section


class LightGBMParams(Section):
    n_estimators: int = 500
    learning_rate: float = 0.02
    num_leaves: int = 7  # small trees: ~4k training decisions per fold on the default council
    min_child_samples: int = 30
    subsample: float = 0.8
    subsample_freq: int = 1
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    min_split_gain: float = 0.0  # LightGBM's default: any split that lowers the loss
    monotone: bool = True  # more history of harm never lowers the risk


class LogisticParams(Section):
    C: float = 0.1  # inverse L2 strength on standardised features
    max_iter: int = 2000
    sign_constrained: bool = True  # each coefficient on its feature's declared side


class SplitSettings(Section):
    train_years: int = 4  # clipped at the first decision: in effect an expanding window
    test_months: int = 6
    calibration_months: int = 6
    folds: int = 3
    gap_days: int = 365  # as long as the label window


class ModelSettings(Section):
    labels: list[str] = Field(default_factory=lambda: ["escalation_12m", "rereferral_12m"])
    primary_label: str = "escalation_12m"
    seed: int = 7
    lightgbm: LightGBMParams = Field(default_factory=LightGBMParams)
    logistic: LogisticParams = Field(default_factory=LogisticParams)
    splits: SplitSettings = Field(default_factory=SplitSettings)
    # "spline" (default): the outcome's log-odds piecewise linear and strictly increasing in the
    # margin, with calibration_knots interior knots at equal-mass quantiles of the calibration
    # margins (the true map is steep over the lowest third and flat above: Platt cannot follow
    # it); "sigmoid": Platt; "isotonic" (steps tie scores, reach 0 and 1)
    calibration_method: str = "spline"
    calibration_knots: int = 2
    # "window": the calibrator sees the calibration window's margins only (~1,100 referrals on
    # the default council); "cross_fitted" (default): also the training window's out-of-fold
    # margins (children split into calibration_folds groups), a sample several times larger
    calibration_sample: str = "cross_fitted"
    calibration_folds: int = 5
    # with "cross_fitted": only the training window's newest months join the sample (None: all);
    # older margins map to outcomes differently ("all history" features grow with the extract)
    calibration_history_months: int | None = 12
    review_capacity_per_week: int = 10  # ~1 in 4 of the default council's ~44 referrals a week
    bootstrap_samples: int = 200
    band_edges: list[float] = Field(default_factory=lambda: [0.5, 0.8, 0.95])  # training quantiles
    band_names: list[str] = Field(default_factory=lambda: ["low", "medium", "high", "very high"])
    current_practice_rule_min_referrals_12m: int = 2
    current_practice_rule_feature: str = "referrals_365d"  # the count the rule reads
    flag_threshold: float | None = None  # None: flag as many as the review capacity allows
    registered_estimator: str = "lightgbm"  # or "logistic": the model logged and registered
    top_reasons: int = 3  # reasons that raise, and reasons that lower, per score
    explain_sample: int = 2000  # test rows behind the global SHAP summary and beeswarm
    n_jobs: int = 1  # LightGBM threads; 2 threads on a busy 2-core machine spin (100x slower)
