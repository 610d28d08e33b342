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
# # Exploring the synthetic council and its features
#
# A synthetic local authority (`synth`), its point-in-time feature table (`features`), the
# labels and their censoring, and the temporal folds the models are trained and tested on.
# Settings come from `frontdoor.yaml` / `FRONTDOOR_*` (CI runs this on a small council).
#
# *This flag is a prompt for professional review, not a decision.*

# %%
import matplotlib.pyplot as plt
import pandas as pd

from frontdoor.features.build import build_feature_table, label_summary
from frontdoor.features.declarations import model_input_columns
from frontdoor.features.declarations import describe, families
from frontdoor.settings import load_settings
from frontdoor.models.splits import deployment_fold, folds_table, make_folds
from frontdoor.models.train import labelled
from frontdoor.synth.council import generate

settings = load_settings()
council = generate(settings)
table = build_feature_table(
    council.tables, settings.synth.end_date, settings, truth=council.ground_truth
)
{name: len(frame) for name, frame in council.tables.items()}

# %% [markdown]
# ## Decisions, labels and censoring
# A decision's label needs 12 months of hindsight: decisions in the last year are censored.

# %%
summary = label_summary(table)
assert summary["decisions"] == len(table) and summary["censored"] > 0
pd.Series(summary)

# %%
by_month = table.set_index("decision_date").resample("QE")[
    ["escalation_12m", "rereferral_12m"]
].mean()
ax = by_month.plot(marker="o", title="Label rate by quarter (censored quarters are empty)")
ax.set_ylabel("share of decisions")
plt.show()

# %% [markdown]
# ## Features by family, and how each relates to the outcome

# %%
columns = model_input_columns(settings)
rows = labelled(table, settings.models.primary_label)
association = (
    rows[columns]
    .corrwith(rows[settings.models.primary_label].astype(float), method="spearman")
    .rename("spearman_with_label")
    .to_frame()
)
association["nonzero_share"] = (rows[columns].fillna(0) != 0).mean()
association.sort_values("spearman_with_label", ascending=False).head(12)

# %%
pd.Series({family: len(names) for family, names in families().items()}, name="features")

# %%
example = rows.iloc[0]
[describe(name, example[name]) for name in columns[:6]]

# %% [markdown]
# ## The truth behind the synthetic council
# The oracle's probabilities, against what happened.

# %%
truth = rows[f"truth_{settings.models.primary_label}"]
calib = rows.groupby(pd.qcut(truth, 5, duplicates="drop"), observed=True)[
    settings.models.primary_label
].agg(["mean", "size"])
calib

# %% [markdown]
# ## Sensitive characteristics (beside the features, not inside them)

# %%
rows.groupby("ethnicity_group")[settings.models.primary_label].agg(["mean", "size"])

# %% [markdown]
# ## Temporal folds: train, calibrate, wait a label window, test

# %%
folds = [*make_folds(rows["decision_date"], settings), deployment_fold(rows["decision_date"], settings)]
splits = folds_table(folds, rows["decision_date"])
assert (splits["gap_days"] >= settings.features.label_window_days).all()
splits
