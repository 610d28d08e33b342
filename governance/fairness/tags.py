"""The MLflow tag keys of a fairness audit (set by `fairness.tracking.log_audit`).

Apart from the tracking module so that promotion reads a version's verdict without importing
MLflow (`governance.promotion`, start-up time)."""

TAG_GATE = "fairness.gate"  # "pass" or "fail"
TAG_SUMMARY = "fairness.gate_summary"
TAG_RULE = "fairness.gate_rule"
TAG_AUDITED_AT = "fairness.audited_at"
TAG_AUDIT_RUN = "fairness.audit_run_id"
TAG_THRESHOLD = "fairness.threshold"
