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
# # Explanations and fairness: why a referral is flagged for review, and for whom
#
# The registered `champion` (else the newest version) as MLflow holds it, applied to the
# council's own feature table: SHAP values (TreeExplainer) for LightGBM, exact linear terms for
# the logistic scorecard, both on the log-odds scale (contributions plus the base value equal
# the model's margin; the monotone calibrator maps that margin to the probability shown). Then
# the version's fairness by group, on its test-fold predictions, with 95% confidence intervals.
#
# *This flag is a prompt for professional review, not a decision.*

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd

from frontdoor.models import plots, registry, tracking
from frontdoor.models.explain import global_importance, reasons_for_row
from frontdoor.models.train import labelled
from frontdoor.records.feature_table import default_feature_path, read_feature_table
from frontdoor.settings import load_settings

settings = load_settings()
label = settings.models.primary_label
versions = registry.list_versions(settings, label)
if not versions:
    raise LookupError(
        f"no registered version of {registry.model_name(settings, label)}: "
        "run `frontdoor demo` or `frontdoor train` first"
    )
chosen = next((v for v in versions if "champion" in v.aliases), versions[-1])
model = registry.load_native(settings, label, chosen.version)
table = read_feature_table(default_feature_path(settings))
rows = table.sort_values("decision_date").tail(min(len(table), settings.models.explain_sample))
X = model.inputs(rows)
contrib, base = model.contributions(rows)
print(f"{chosen.name} version {chosen.version} ({model.kind}), {len(rows):,} newest decisions")

# %% [markdown]
# ## Contributions add up to the margin

# %%
gap = np.abs(contrib.sum(axis=1) + base - model.margin(rows)).max()
assert gap < 1e-6
f"largest |contributions + base - margin| = {gap:.2e}; base value {base:.3f} (log-odds)"

# %% [markdown]
# ## Global: mean |contribution| per feature and the beeswarm

# %%
importance = global_importance(contrib, list(X.columns))
fig, ax = plt.subplots(figsize=(6, 4))
importance.head(15).set_index("feature")["mean_abs_contribution"].iloc[::-1].plot.barh(ax=ax)
ax.set(xlabel="mean |contribution| (log-odds)", ylabel="", title="Global importance")
plt.show()

# %%
plots.shap_beeswarm_figure(contrib, X)

# %% [markdown]
# ## One referral, its probability, band and reasons

# %%
scores = model.score_frame(rows)
flagged = scores.sort_values("probability", ascending=False).index[0]
position = rows.index.get_loc(flagged)
reasons = reasons_for_row(contrib[position], X.iloc[position].to_numpy(), list(X.columns), top_k=3)
print(f"probability {scores.loc[flagged, 'probability']:.2f}, band {scores.loc[flagged, 'band']}")
for r in reasons:
    print(f"  {r.contribution:+.3f}  {r.sentence}")

# %% [markdown]
# ## The logistic scorecard of the newest fold: coefficients read as odds ratios
# (logged by the training run as `model_card/scorecard_logistic.csv`)

# %%
tracking.client(settings)
with tempfile.TemporaryDirectory() as tmp:
    scorecard = pd.read_csv(
        mlflow.artifacts.download_artifacts(
            run_id=chosen.run_id, artifact_path="model_card/scorecard_logistic.csv", dst_path=tmp
        )
    )
scorecard[["feature", "family", "odds_ratio_per_sd", "odds_ratio_per_unit", "direction"]].head(12)

# %% [markdown]
# ## Bands, fixed on the training distribution

# %%
bands = scores["band"].value_counts().reindex(model.band_table()["band"]).fillna(0)
fig, ax = plt.subplots(figsize=(5, 3))
bands.plot.bar(ax=ax)
ax.set(xlabel="band", ylabel="decisions", title="Newest decisions by band")
plt.show()
model.band_table()

# %% [markdown]
# ## Fairness by group (the version's test folds, 95% CIs)
# The same audit as `frontdoor audit --model-version N` (the gate's flags: at the review
# capacity, or the top share of scores), computed here without logging anything.

# %%
from frontdoor.governance.promotion import audit_predictions  # noqa: E402

predictions = registry.test_predictions(settings, chosen.run_id)
audit, gate = audit_predictions(
    predictions, settings, registry.scored_referrals(settings, chosen.run_id)
)
print(f"gate {'PASSED' if gate.passed else 'FAILED'}; flags: {audit.flag_rule}")
shown = [
    c for c in ("ethnicity_group", "sex", "age_band", "disability") if c in audit.characteristics
]
shown = shown or audit.characteristics[:4]
fig, axes = plt.subplots(1, len(shown), figsize=(4 * len(shown), 3.5), squeeze=False)
for ax, characteristic in zip(axes[0], shown, strict=True):
    groups = [g for g in audit.for_characteristic(characteristic) if g.assessable]
    names = [g.group for g in groups]
    for offset, metric in ((-0.15, "flag_rate"), (0.15, "fnr")):
        est = [g.metrics.get(metric) for g in groups]
        value = np.array([e.value if e else np.nan for e in est])
        lo = np.array([e.lo if e else np.nan for e in est])
        hi = np.array([e.hi if e else np.nan for e in est])
        ax.errorbar(
            np.arange(len(groups)) + offset,
            value,
            yerr=[value - lo, hi - value],
            fmt="o",
            label=metric,
        )
    ax.set_xticks(range(len(groups)), names, rotation=30, ha="right", fontsize=8)
    ax.set_title(characteristic)
axes[0][0].legend(fontsize=8)
fig.suptitle("Flag rate and false negative rate by group (95% CI)")
fig.tight_layout()
plt.show()

# %%
pd.DataFrame(
    [
        {
            "characteristic": g.characteristic,
            "group": g.group,
            **{m: round(e.value, 3) for m, e in g.metrics.items()},
        }
        for g in audit.groups
        if g.assessable
    ]
).set_index(["characteristic", "group"])

# %%
labelled_rows = labelled(table, label)
assert len(labelled_rows) > 0 and Path(default_feature_path(settings)).exists()
