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
# # Exploring the council's tables and features
#
# The project's own outputs, as `frontdoor demo` (or `frontdoor ingest` then
# `frontdoor features build`) left them: the pseudonymised canonical tables, the point-in-time
# feature table, the labels and their censoring, and the temporal folds the models are trained
# and tested on. Nothing is regenerated here. Settings come from `frontdoor.yaml` /
# `FRONTDOOR_*`, as for the CLI (CI runs this on a small demo's output).
#
# *This flag is a prompt for professional review, not a decision.*

# %%
import matplotlib.pyplot as plt
import pandas as pd

from frontdoor.features.build import label_summary
from frontdoor.features.declarations import describe, families, model_input_columns
from frontdoor.models.splits import deployment_fold, folds_table, make_folds
from frontdoor.models.train import labelled
from frontdoor.records import store
from frontdoor.records.feature_table import default_feature_path, read_feature_table
from frontdoor.settings import load_settings

settings = load_settings()
canonical = settings.resolve(settings.paths.canonical)
features_path = default_feature_path(settings)
if not features_path.exists():
    raise FileNotFoundError(
        f"no feature table at {features_path}: run `frontdoor demo` (or `frontdoor ingest` and "
        "`frontdoor features build`) with the same configuration first"
    )
tables = store.read_tables(canonical)
table = read_feature_table(features_path)
print(f"canonical tables in {canonical} (reference date {store.reference_date(canonical)})")
pd.Series({name: len(frame) for name, frame in tables.items()}, name="rows")

# %% [markdown]
# ## Records per month, per table (by each record's event date)

# %%
from frontdoor.records.contract import TABLES  # noqa: E402

monthly = pd.DataFrame(
    {
        name: pd.to_datetime(frame[TABLES[name].event_date]).dt.to_period("M").value_counts()
        for name, frame in tables.items()
        if TABLES[name].event_date and len(frame)
    }
).sort_index()
fig, ax = plt.subplots(figsize=(8, 4))
monthly.plot(ax=ax, lw=1)
ax.set(xlabel="month", ylabel="records", title="Records per month")
ax.legend(fontsize=7, ncol=2)
plt.show()

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
top = association.sort_values("spearman_with_label", ascending=False).head(12)
fig, ax = plt.subplots(figsize=(6, 4))
top["spearman_with_label"].iloc[::-1].plot.barh(ax=ax)
ax.set(xlabel=f"Spearman correlation with {settings.models.primary_label}", title="Top features")
plt.show()
top

# %%
pd.Series({family: len(names) for family, names in families().items()}, name="features")

# %%
example = rows.iloc[0]
[describe(name, example[name]) for name in columns[:6]]

# %% [markdown]
# ## The truth behind the synthetic council
# The oracle's probabilities, against what happened.

# %%
truth_column = f"truth_{settings.models.primary_label}"
if truth_column in rows:  # only a synthetic council has a truth
    truth = rows[truth_column]
    calib = rows.groupby(pd.qcut(truth, 5, duplicates="drop"), observed=True)[
        settings.models.primary_label
    ].agg(["mean", "size"])
else:
    calib = "no ground truth: this is not a synthetic council"
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
