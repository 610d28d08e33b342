"""The files a training run keeps: predictions, metrics, splits, model card and plots.

Layout (relative to the run's artifact root): ``predictions/test_predictions.parquet``
(pseudonymised ids only), ``metrics/{metrics.parquet,metrics.csv,summary.csv,splits.csv}``,
``model_card/{scorecard_logistic.csv,bands.csv,global_importance.csv,feature_catalogue.md}``
and ``plots/{roc,precision_recall,calibration,shap_summary}.png``.
"""

from __future__ import annotations

from pathlib import Path

from frontdoor.features.catalogue import render_markdown
from frontdoor.models import plots
from frontdoor.models.explain import global_importance
from frontdoor.models.splits import folds_table
from frontdoor.models.train import Backtest, summary_table
from frontdoor.settings import Settings

PREDICTIONS_ARTIFACT = "predictions/test_predictions.parquet"
METRICS_ARTIFACT = "metrics/metrics.parquet"
# the deployed model's bands with the backtest's figures per band (``Backtest.band_table``)
BANDS_ARTIFACT = "model_card/bands.csv"
# every referral the run's models scored, labelled or not (models.train.scored_referrals)
SCORED_ARTIFACT = "predictions/scored_referrals.parquet"


def write_run_artifacts(result: Backtest, folder: Path, settings: Settings) -> None:
    """Everything a run keeps as files, written under ``folder`` (then logged as artifacts)."""
    (folder / "predictions").mkdir()
    (folder / "metrics").mkdir()
    (folder / "plots").mkdir()
    (folder / "model_card").mkdir()
    result.predictions.to_parquet(folder / PREDICTIONS_ARTIFACT, index=False)
    result.metrics.to_parquet(folder / METRICS_ARTIFACT, index=False)
    result.metrics.to_csv(folder / "metrics" / "metrics.csv", index=False)
    summary_table(result).to_csv(folder / "metrics" / "summary.csv", index=False)
    folds = [f.fold for f in result.folds]
    splits = folds_table([*folds, result.deployment])
    splits.to_csv(folder / "metrics" / "splits.csv", index=False)
    latest = result.folds[-1]
    scorecard = latest.models["logistic"].estimator.base.scorecard()
    scorecard.to_csv(folder / "model_card" / "scorecard_logistic.csv", index=False)
    if result.deployed.kind == "logistic":
        result.deployed.estimator.base.scorecard().to_csv(
            folder / "model_card" / "scorecard_deployed.csv", index=False
        )
    result.band_table().to_csv(folder / BANDS_ARTIFACT, index=False)
    (folder / "model_card" / "feature_catalogue.md").write_text(render_markdown(), encoding="utf-8")
    plots.roc_curves(result.predictions, folder / "plots" / "roc.png", result.has_oracle)
    plots.pr_curves(
        result.predictions, folder / "plots" / "precision_recall.png", result.has_oracle
    )
    plots.reliability(result.predictions, folder / "plots" / "calibration.png")
    test = result.explain_rows
    sample = test.sample(n=min(len(test), settings.models.explain_sample), random_state=0)
    X = result.deployed.inputs(sample)
    contrib, _ = result.deployed.estimator.contributions(X)
    global_importance(contrib, list(X.columns)).to_csv(
        folder / "model_card" / "global_importance.csv", index=False
    )
    plots.shap_beeswarm(contrib, X, folder / "plots" / "shap_summary.png")
