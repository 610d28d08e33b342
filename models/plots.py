"""The run's plots: ROC, precision-recall, reliability diagram and the SHAP beeswarm.

Each plot is built as a ``matplotlib.figure.Figure`` without pyplot (``roc_figure``, ...), so
that drawing in a flow's worker thread needs no GUI backend and importing this module chooses
no backend: a notebook shows the same figures inline. ``roc_curves`` and friends write them as
PNG files for the run's artifacts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from frontdoor.models.stats import reliability_table

SCORERS = {
    "probability_lightgbm": "LightGBM",
    "probability_logistic": "Logistic scorecard",
    "rule_flag": "Current-practice rule",
    "oracle_probability": "Oracle (true probability)",
}


def _scorers(pred: pd.DataFrame, with_oracle: bool):
    for column, name in SCORERS.items():
        if column in pred.columns and (with_oracle or column != "oracle_probability"):
            yield column, name


def roc_figure(pred: pd.DataFrame, with_oracle: bool = True) -> Figure:
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    for column, name in _scorers(pred, with_oracle):
        fpr, tpr, _ = roc_curve(pred["y"], pred[column])
        ax.plot(fpr, tpr, label=name, lw=1.5)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC, test folds")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def pr_figure(pred: pd.DataFrame, with_oracle: bool = True) -> Figure:
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    for column, name in _scorers(pred, with_oracle):
        precision, recall, _ = precision_recall_curve(pred["y"], pred[column])
        ax.plot(recall, precision, label=name, lw=1.5)
    ax.axhline(pred["y"].mean(), ls=":", c="grey", label="base rate")
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall, test folds")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def reliability_figure(
    pred: pd.DataFrame, bins: int = 10, columns: dict[str, str] | None = None
) -> Figure:
    """Observed rate against mean predicted probability per decile of prediction.

    ``columns`` maps prediction columns to legend names (default: LightGBM, logistic, oracle).
    """
    columns = columns or {
        c: SCORERS[c]
        for c in ("probability_lightgbm", "probability_logistic", "oracle_probability")
    }
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    top = 0.0
    for column, name in columns.items():
        if column in pred.columns:
            t = reliability_table(pred["y"].to_numpy(float), pred[column].to_numpy(float), bins)
            ax.plot(t["predicted"], t["observed"], marker="o", label=name, lw=1.2)
            top = max(top, float(t[["predicted", "observed"]].to_numpy().max()))
    top = min(1.0, top * 1.05 + 0.01)
    ax.plot([0, top], [0, top], ls=":", c="grey", label="perfect calibration")
    ax.set(
        xlabel="Mean predicted probability",
        ylabel="Observed rate",
        title="Reliability (deciles of prediction), test folds",
        xlim=(0, top),
        ylim=(0, top),
    )
    ax.legend(loc="upper left", fontsize=8)
    return fig


def shap_beeswarm_figure(contributions: np.ndarray, X: pd.DataFrame, top: int = 20) -> Figure:
    """shap's beeswarm (it draws on pyplot's current figure, so pyplot is needed here)."""
    import shap

    plt = _pyplot()
    plt.figure()
    shap.summary_plot(
        contributions, X, max_display=top, show=False, plot_size=(8, 0.35 * top + 1.5)
    )
    fig = plt.gcf()
    fig.suptitle("Contributions to the log-odds (SHAP), newest test window", fontsize=10)
    fig.tight_layout()
    plt.close(fig)  # handed back, not left open in pyplot's list (a notebook displays it)
    return fig


def roc_curves(pred: pd.DataFrame, path: Path, with_oracle: bool = True) -> Path:
    return _save(roc_figure(pred, with_oracle), path)


def pr_curves(pred: pd.DataFrame, path: Path, with_oracle: bool = True) -> Path:
    return _save(pr_figure(pred, with_oracle), path)


def reliability(pred: pd.DataFrame, path: Path, bins: int = 10) -> Path:
    return _save(reliability_figure(pred, bins), path)


def shap_beeswarm(contributions: np.ndarray, X: pd.DataFrame, path: Path, top: int = 20) -> Path:
    return _save(shap_beeswarm_figure(contributions, X, top), path)


def _pyplot():
    """pyplot, for shap. Outside IPython (the CLI, flows, workers) Agg is chosen first, so no
    GUI window is ever opened from a worker thread; a notebook keeps its inline backend."""
    import matplotlib

    if "IPython" not in sys.modules and "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def learning_curve_figure(
    curve: pd.DataFrame, rule_auc: float | None = None, ceiling_auc: float | None = None
) -> Figure:
    """AUC on the same test rows against the number of training decisions
    (``models.oracle_gap.learning_curve``), with the oracle, the floor and the rule."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    x = curve["decisions"].to_numpy()
    if "model_auc_low" in curve:
        err = [
            curve["model_auc"] - curve["model_auc_low"],
            curve["model_auc_high"] - curve["model_auc"],
        ]
        ax.errorbar(
            x,
            curve["model_auc"],
            yerr=err,
            fmt="o-",
            capsize=3,
            lw=1.8,
            label="the model (LightGBM), 95% interval",
        )
    else:
        ax.plot(x, curve["model_auc"], "o-", label="the model (LightGBM)", lw=1.8)
    if "floor_auc" in curve:
        ax.plot(x, curve["floor_auc"], "s--", label="floor: the model given the true state")
    if "oracle_auc" in curve:
        ax.axhline(curve["oracle_auc"].iloc[0], c="k", lw=1, label="oracle (true probability)")
    if ceiling_auc is not None:
        ax.axhline(ceiling_auc, c="tab:purple", ls="-.", lw=1, label="ceiling of the records")
    if rule_auc is not None:
        ax.axhline(rule_auc, c="grey", ls=":", label="current-practice rule")
    ax.set_xscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{v:,.0f}" for v in x], fontsize=8)
    ax.minorticks_off()
    ax.set(
        xlabel="training decisions per test period",
        ylabel="AUC on the same test periods",
        title="Learning curve",
    )
    ax.legend(loc="lower right", fontsize=7)
    return fig
