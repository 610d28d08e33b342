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
# # Explanations: why a referral is flagged for review
#
# SHAP values (TreeExplainer) for LightGBM and exact linear terms for the logistic scorecard,
# both on the log-odds scale: contributions plus the base value equal the model's margin,
# and the calibrator (monotone) maps that margin to the probability shown.
#
# *This flag is a prompt for professional review, not a decision.*

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from frontdoor.features.build import build_feature_table
from frontdoor.settings import load_settings
from frontdoor.models.explain import global_importance, reasons_for_row
from frontdoor.models.plots import shap_beeswarm
from frontdoor.models.train import backtest, labelled
from frontdoor.synth.council import generate

settings = load_settings()
label = settings.models.primary_label
council = generate(settings)
table = build_feature_table(
    council.tables, settings.synth.end_date, settings, truth=council.ground_truth
)
result = backtest(table, label, settings)
model = result.deployed
rows = result.explain_rows
X = model.inputs(rows)
contrib, base = model.contributions(rows)

# %% [markdown]
# ## Contributions add up to the margin

# %%
gap = np.abs(contrib.sum(axis=1) + base - model.margin(rows)).max()
assert gap < 1e-6
f"largest |contributions + base - margin| = {gap:.2e}; base value {base:.3f} (log-odds)"

# %% [markdown]
# ## Global: mean |SHAP| per feature and the beeswarm

# %%
importance = global_importance(contrib, list(X.columns))
importance.head(15)

# %%
from pathlib import Path  # noqa: E402
import tempfile  # noqa: E402

png = shap_beeswarm(contrib, X, Path(tempfile.mkdtemp()) / "beeswarm.png")
plt.imshow(plt.imread(png))
plt.axis("off")
plt.show()

# %% [markdown]
# ## One referral, its probability, band and reasons

# %%
scores = model.score_frame(rows.head(200))
flagged = scores.sort_values("probability", ascending=False).index[0]
one = X.loc[[flagged]]
reasons = reasons_for_row(contrib[flagged], one.to_numpy()[0], list(X.columns), top_k=3)
print(f"probability {scores.loc[flagged, 'probability']:.2f}, band {scores.loc[flagged, 'band']}")
for r in reasons:
    print(f"  {r.contribution:+.3f}  {r.sentence}")

# %% [markdown]
# ## The logistic scorecard: coefficients read as odds ratios

# %%
scorecard = result.folds[-1].models["logistic"].estimator.base.scorecard()
scorecard[["feature", "family", "odds_ratio_per_sd", "odds_ratio_per_unit", "direction"]].head(12)

# %%
logistic = result.folds[-1].models["logistic"]
lc, lbase = logistic.contributions(one)
pd.DataFrame(
    {"lightgbm_shap": contrib[flagged], "logistic_term": lc[0]}, index=X.columns
).loc[lambda d: d.abs().max(axis=1) > 0.05].sort_values("lightgbm_shap")

# %% [markdown]
# ## Bands, fixed on the training distribution

# %%
model.band_table()

# %%
labelled_rows = labelled(table, label)
assert len(labelled_rows) > 0
scores["band"].value_counts()
