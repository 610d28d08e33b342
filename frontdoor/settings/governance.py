"""Promotion guards, the promotion log and the monitor's alert lines (the governance room).

A version becomes champion only when its fairness gate passed (or a recorded override), it is
non-inferior to the current champion on the primary metric over the same test rows (paired
bootstrap), and its bands are sane on the latest data. Every promotion, refusal and override is
a row of an append-only, keyed-hash-chained log.
"""

from pathlib import Path

from pydantic import SecretStr

from frontdoor.settings.section import Section


class GovernanceSettings(Section):
    primary_metric: str = "auc"  # the metric promotion compares (higher is better)
    # A challenger may be at most this much worse than the champion (the lower end of the
    # paired 95% interval of challenger - champion must lie above -margin).
    non_inferiority_margin: float = 0.01
    comparison_bootstrap_samples: int = 500  # paired bootstrap resamples (children, not rows)
    min_shared_test_rows: int = 200  # fewer shared rows: no comparison is possible, refused
    # Each band's share of the latest referrals must lie within this (absolute) distance of its
    # share of the training referrals, plus 1.96 standard errors of a share on that many rows
    # (e.g. "very high" trained at 5%, 400 referrals: 0% to 17% passes).
    band_share_tolerance: float = 0.10
    band_check_days: int = 90  # "the latest data": referrals in the last N days...
    min_band_check_rows: int = 100  # ...or the latest N referrals when those days hold fewer
    # The append-only promotion log (one JSON row per promotion, refusal and override).
    promotion_log: Path = Path("data/governance/promotion-log.jsonl")
    # Key of the log's hash chain (HMAC-SHA256). Outside demo mode it must be set; in demo mode
    # a local key is generated under paths.keys. Without the key no row can be forged.
    log_key: SecretStr | None = None
    # Monitor alert lines (the feature and score PSI line is pipelines.psi_alert).
    calibration_drift_alert: float = 0.05  # |observed - predicted| escalation rate, matured
    flag_rate_change_alert: float = 0.5  # a month's flag rate 50% above/below the training rate
    agreement_alert: float = 0.6  # managers agree with fewer than 60% of the flags
    min_alert_count: int = 30  # no alert on fewer decisions than this (noise)
