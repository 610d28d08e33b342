"""The run's plots: ROC, precision-recall, reliability diagram and the SHAP beeswarm (PNG)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from frontdoor.models.stats import reliability_table  # noqa: E402

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


def roc_curves(pred: pd.DataFrame, path: Path, with_oracle: bool = True) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for column, name in _scorers(pred, with_oracle):
        fpr, tpr, _ = roc_curve(pred["y"], pred[column])
        ax.plot(fpr, tpr, label=name, lw=1.5)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC, test folds")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def pr_curves(pred: pd.DataFrame, path: Path, with_oracle: bool = True) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for column, name in _scorers(pred, with_oracle):
        precision, recall, _ = precision_recall_curve(pred["y"], pred[column])
        ax.plot(recall, precision, label=name, lw=1.5)
    ax.axhline(pred["y"].mean(), ls=":", c="grey", label="base rate")
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall, test folds")
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)


def reliability(pred: pd.DataFrame, path: Path, bins: int = 10) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    top = 0.0
    for column in ("probability_lightgbm", "probability_logistic", "oracle_probability"):
        if column in pred.columns:
            t = reliability_table(pred["y"].to_numpy(float), pred[column].to_numpy(float), bins)
            ax.plot(t["predicted"], t["observed"], marker="o", label=SCORERS[column], lw=1.2)
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
    return _save(fig, path)


def shap_beeswarm(contributions: np.ndarray, X: pd.DataFrame, path: Path, top: int = 20) -> Path:
    import shap

    plt.figure()
    shap.summary_plot(
        contributions, X, max_display=top, show=False, plot_size=(8, 0.35 * top + 1.5)
    )
    fig = plt.gcf()
    fig.suptitle("Contributions to the log-odds (SHAP), newest test window", fontsize=10)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
