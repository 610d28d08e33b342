# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Comparing model versions and calibration
#
# Reads the MLflow runs that `frontdoor demo` / `frontdoor train` logged and the model versions
# they registered: every version's test-fold metrics side by side (with bootstrap 95% confidence
# intervals), then the newest version's logistic scorecard, monotone LightGBM, the
# current-practice rule ("two or more referrals in the last 12 months") and, on a synthetic
# council, the oracle: ROC, precision-recall and reliability. Then Platt against isotonic
# calibration (the other method refitted on the same feature table).
#
# *This flag is a prompt for professional review, not a decision.*

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from frontdoor.models import plots, registry, tracking
from frontdoor.records.feature_table import default_feature_path, read_feature_table
from frontdoor.settings import load_settings
from frontdoor.settings.base import merge_section
from frontdoor.models.stats import reliability_table

settings = load_settings()
label = settings.models.primary_label
versions = registry.list_versions(settings, label)
if not versions:
    raise LookupError(
        f"no registered version of {registry.model_name(settings, label)} in "
        f"{settings.tracking.tracking_uri}: run `frontdoor demo` or `frontdoor train` first"
    )
aliases = {v.version: ", ".join(v.aliases) for v in versions}
pd.DataFrame(
    {
        "version": [v.version for v in versions],
        "aliases": [aliases[v.version] for v in versions],
        "fairness audit": [v.tags.get("fairness_audit", "") for v in versions],
        "run": [v.run_id[:8] for v in versions],
    }
).set_index("version")

# %% [markdown]
# ## Every version, every scorer (pooled test folds, 95% CIs)

# %%
metrics = pd.concat(
    [registry.run_metrics(settings, v.run_id).assign(version=f"v{v.version}") for v in versions]
)
overall = metrics[(metrics.fold == "overall") & ~metrics.scorer.str.startswith("gap:")]
wide = overall.pivot_table(index=["metric", "scorer"], columns="version", values="value")
wide.round(3)

# %%
auc = overall[overall.metric == "auc"].reset_index(drop=True)
fig, ax = plt.subplots(figsize=(7, 0.35 * len(auc) + 1))
ax.errorbar(
    auc["value"],
    range(len(auc)),
    xerr=[auc["value"] - auc["ci_low"], auc["ci_high"] - auc["value"]],
    fmt="o",
)
ax.set_yticks(range(len(auc)), auc["version"] + "  " + auc["scorer"])
ax.set(xlabel="ROC AUC (95% bootstrap CI)", title="ROC AUC by version and scorer")
plt.show()

# %% [markdown]
# ## The newest version: ROC, precision-recall and reliability (pooled test folds)

# %%
newest = versions[-1]
pred = registry.test_predictions(settings, newest.run_id)
plots.roc_figure(pred)

# %%
plots.pr_figure(pred)

# %%
plots.reliability_figure(pred)

# %% [markdown]
# ## Calibration: the configured map against another, fitted on later (or held-out) margins
# The registered run used `models.calibration_method` as it was configured then (logged as a
# parameter: the monotone spline by default, docs/models.md). Platt (or, when Platt was
# configured, isotonic) is refitted here on the same feature table, the same folds and
# the same seed, so the two differ only in the calibrator.

# %%
from frontdoor.models.train import backtest  # noqa: E402

run = tracking.client(settings).get_run(newest.run_id)
logged = run.data.params.get("models.calibration_method", settings.models.calibration_method)
other = "isotonic" if logged == "sigmoid" else "sigmoid"
table = read_feature_table(default_feature_path(settings))
refit = backtest(
    table,
    label,
    settings.model_copy(
        update={"models": merge_section(settings.models, calibration_method=other)}
    ),
)
names = {"sigmoid": "Platt (sigmoid)", "isotonic": "isotonic", "spline": "monotone spline"}
by_method = {names[logged]: pred, names[other]: refit.predictions}
assert not np.allclose(
    np.sort(pred["probability"].to_numpy(float)),
    np.sort(refit.predictions["probability"].to_numpy(float)),
), "the two calibrations gave the same probabilities"
fig, ax = plt.subplots(figsize=(5, 5))
for name, p in by_method.items():
    t = reliability_table(p["y"].to_numpy(float), p["probability"].to_numpy(float))
    ax.plot(t["predicted"], t["observed"], marker="o", label=name)
top = max(ax.get_xlim()[1], ax.get_ylim()[1])
ax.plot([0, top], [0, top], ls=":", c="grey")
ax.set(xlabel="predicted", ylabel="observed", title="Reliability of the deployed kind, test folds")
ax.legend()
plt.show()
refit_overall = refit.metrics[
    (refit.metrics.fold == "overall") & (refit.metrics.scorer == refit.deployed.kind)
]
logged_overall = overall[
    (overall.version == f"v{newest.version}") & (overall.scorer == refit.deployed.kind)
]
pd.DataFrame(
    {
        names[logged]: logged_overall.set_index("metric")["value"],
        names[other]: refit_overall.set_index("metric")["value"],
    }
).loc[lambda d: d.index.isin(["auc", "average_precision", "brier", "ece"])].round(4)

# %% [markdown]
# ## The feature ceiling (synthetic councils only)
# How well could *any* model on these features do? Regress the oracle's probability on the
# features (5-fold cross-validation on all labelled rows) and score the outcomes with it.
# The gap between this and the oracle is information the features do not hold; the gap between
# LightGBM and this is what better learning could still win.

# %%
from frontdoor.models.oracle_gap import ceiling_scores  # noqa: E402
from frontdoor.models.stats import roc_auc  # noqa: E402

rows = table[table[label].notna()]
if f"truth_{label}" in rows:
    ceiling = ceiling_scores(
        rows[refit.columns].to_numpy(float), rows[f"truth_{label}"].to_numpy(float)
    )
    y = rows[label].to_numpy(float)
    shown = pd.Series(
        {
            "oracle (true probability)": roc_auc(y, rows[f"truth_{label}"].to_numpy(float)),
            "feature ceiling (features -> truth)": roc_auc(y, ceiling),
            "LightGBM, test folds": refit.metric("lightgbm", "auc")["value"],
        },
        name="ROC AUC",
    ).round(3)
else:
    shown = "no ground truth: this is not a synthetic council"
shown

# %% [markdown]
# ## At the review capacity
# Precision, recall and flag rate when managers review `review_capacity_per_week` referrals
# a week, and the lift over the rule (precision at the rule's own workload), per version.

# %%
cap = overall[overall.metric.str.endswith("capacity") | (overall.metric == "lift_over_rule")]
table_cap = cap.pivot_table(index=["version", "scorer"], columns="metric", values="value").round(3)
assert np.isfinite(table_cap.loc[(f"v{newest.version}", "lightgbm"), "precision_at_capacity"])
table_cap

# %% [markdown]
# ## Learning curve
# Does the council have enough history for a model to be worth using? The registered estimator
# is refitted, by the backtest's own protocol, on a share of each test period's children
# (training and calibration windows alike) and scored on the same gapped test referrals: at
# 100% it is the backtest's model. On a synthetic council the oracle and the floor (the same
# protocol given the generator's true state: perfect information) are drawn beside it; the
# distance from the floor to the oracle is what the number of decisions alone costs.
# `frontdoor oracle-gap` logs the same curve to MLflow for the governance report.

# %%
from frontdoor.models.oracle_gap import (  # noqa: E402
    enough_history,
    latent_at_decisions,
    learning_curve,
)

states = None
if f"truth_{label}" in table:  # the generator's state, regenerated from the same settings
    states = latent_at_decisions(table, settings, settings.resolve(settings.paths.truth))
curve = learning_curve(table, label, settings, sizes=(0.25, 0.5, 1.0), states=states)
rule_auc = refit.metric("rule", "auc")["value"]
print(enough_history(curve, rule_auc))
curve.round(3)

# %%
plots.learning_curve_figure(curve, rule_auc)
