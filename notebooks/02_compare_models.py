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
# # Comparing models and calibration
#
# The logistic scorecard, monotone LightGBM, the current-practice rule ("two or more
# referrals in the last 12 months") and the oracle, on the same test folds, with bootstrap 95%
# confidence intervals. Then isotonic against Platt calibration, and how far the features
# themselves can go (the "feature ceiling").
#
# *This flag is a prompt for professional review, not a decision.*

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from frontdoor.features.build import build_feature_table
from frontdoor.settings import load_settings
from frontdoor.settings.base import merge_section
from frontdoor.models.stats import reliability_table
from frontdoor.models.train import backtest, summary_table
from frontdoor.synth.council import generate

settings = load_settings()
label = settings.models.primary_label
council = generate(settings)
table = build_feature_table(
    council.tables, settings.synth.end_date, settings, truth=council.ground_truth
)
result = backtest(table, label, settings)
summary_table(result)

# %% [markdown]
# ## Every metric, every scorer (pooled test folds)

# %%
overall = result.metrics[result.metrics.fold == "overall"]
overall.pivot(index="metric", columns="scorer", values="value").round(3)

# %%
auc = overall[(overall.metric == "auc") & ~overall.scorer.str.startswith("gap:")]
fig, ax = plt.subplots(figsize=(6, 3))
ax.errorbar(
    auc["value"],
    range(len(auc)),
    xerr=[auc["value"] - auc["ci_low"], auc["ci_high"] - auc["value"]],
    fmt="o",
)
ax.set_yticks(range(len(auc)), auc["scorer"])
ax.set_xlabel("ROC AUC (95% bootstrap CI)")
plt.show()

# %% [markdown]
# ## Calibration: isotonic against Platt, fitted on a later window than training

# %%
platt = settings.model_copy(
    update={"models": merge_section(settings.models, calibration_method="sigmoid")}
)
result_platt = backtest(table, label, platt)
pred = {"isotonic": result.predictions, "sigmoid (Platt)": result_platt.predictions}
fig, ax = plt.subplots(figsize=(5, 5))
for name, p in pred.items():
    t = reliability_table(p["y"].to_numpy(float), p["probability"].to_numpy(float))
    ax.plot(t["predicted"], t["observed"], marker="o", label=name)
ax.plot([0, 1], [0, 1], ls=":", c="grey")
ax.set(xlabel="predicted", ylabel="observed", title="Reliability, pooled test folds")
ax.legend()
plt.show()
pd.DataFrame(
    {
        name: r.metrics[(r.metrics.fold == "overall") & (r.metrics.scorer == "lightgbm")]
        .set_index("metric")["value"]
        for name, r in (("isotonic", result), ("sigmoid", result_platt))
    }
).round(4)

# %% [markdown]
# ## The feature ceiling
# How well could *any* model on these features do? Regress the oracle's probability on the
# features (5-fold cross-validation on all labelled rows) and score the outcomes with it.
# The gap between this and the oracle is information the features do not hold; the gap between
# LightGBM and this is what better learning could still win.

# %%
import lightgbm as lgb  # noqa: E402
from sklearn.model_selection import KFold, cross_val_predict  # noqa: E402

from frontdoor.models.stats import roc_auc  # noqa: E402

rows = table[table[label].notna()]
X = rows[result.columns].astype(float)
ceiling = cross_val_predict(
    lgb.LGBMRegressor(n_estimators=200, num_leaves=15, verbose=-1, n_jobs=1),
    X,
    rows[f"truth_{label}"],
    cv=KFold(5, shuffle=True, random_state=0),
)
y = rows[label].to_numpy(float)
pd.Series(
    {
        "oracle (true probability)": roc_auc(y, rows[f"truth_{label}"].to_numpy(float)),
        "feature ceiling (features -> truth)": roc_auc(y, ceiling),
        "LightGBM, test folds": result.metric("lightgbm", "auc")["value"],
    },
    name="ROC AUC",
).round(3)

# %% [markdown]
# ## At the review capacity
# Precision, recall and flag rate when managers review `review_capacity_per_week` referrals
# a week, and the lift over the rule (precision at the rule's own workload).

# %%
cap = overall[overall.metric.str.endswith("capacity") | (overall.metric == "lift_over_rule")]
table_cap = cap.pivot(index="scorer", columns="metric", values="value").round(3)
assert np.isfinite(table_cap.loc["lightgbm", "precision_at_capacity"])
table_cap
