"""Training over temporal folds: fit, calibrate on a later slice, band, predict the test window.

Plain functions over a feature table (one row per decision); MLflow logging lives in
``models.tracking``. ``backtest`` = ``fit_fold`` on each fold (independent, so the pipelines
run them in parallel) + ``combine_folds`` (pooled metrics, the deployable model). For each fold both models are fitted on the training window and
calibrated on the calibration window; the test window is scored by both, by the
current-practice rule and (on synthetic data) by the oracle. The deployable model is trained
the same way on the newest window whose labels are complete (``splits.deployment_fold``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from frontdoor.features.declarations import model_input_columns
from frontdoor.models.bands import Bands, backtest_outcomes
from frontdoor.models.bundle import FrontDoorModel
from frontdoor.models.calibration import CalibratedModel
from frontdoor.models.encoding import InputEncoder
from frontdoor.models.estimators import CurrentPracticeRule, MonotoneLightGBM, ScorecardLogistic
from frontdoor.models.evaluate import capacity_flags, evaluate_scorers
from frontdoor.models.splits import Fold, deployment_fold, make_folds
from frontdoor.records import codes
from frontdoor.settings import Settings

ESTIMATORS = ("lightgbm", "logistic")


def feature_columns(table: pd.DataFrame, settings: Settings) -> list[str]:
    """The model's input columns, as the features room declares them (``model_input_columns``)."""
    columns = list(model_input_columns(settings))
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"The feature table lacks model input columns: {missing}")
    return columns


def truth_column(label: str) -> str:
    return f"truth_{label}"


def make_estimator(kind: str, settings: Settings):
    cfg = settings.models
    if kind == "lightgbm":
        params = cfg.lightgbm.model_dump()
        return MonotoneLightGBM(**params, random_state=cfg.seed, n_jobs=cfg.n_jobs)
    if kind == "logistic":
        return ScorecardLogistic(
            C=cfg.logistic.C,
            max_iter=cfg.logistic.max_iter,
            sign_constrained=cfg.logistic.sign_constrained,
            random_state=cfg.seed,
        )
    raise ValueError(f"Unknown estimator {kind!r}; use one of {ESTIMATORS}")


def make_rule(settings: Settings) -> CurrentPracticeRule:
    cfg = settings.models
    return CurrentPracticeRule(
        feature=cfg.current_practice_rule_feature,
        min_count=cfg.current_practice_rule_min_referrals_12m,
    )


IDENTIFIERS = ("decision_id", "child_id")


def canonical_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by decision date, kind, then a rank of their content (every column but the
    pseudonyms): the same records give the same order, and so the same model (LightGBM's
    bagging reads rows in order), whatever the pseudonym key. Rows equal in every column but the
    pseudonyms are interchangeable to every model."""
    content = rows.drop(columns=[c for c in rows.columns if c in IDENTIFIERS or c.endswith("_id")])
    rank = pd.util.hash_pandas_object(content, index=False).to_numpy()
    keys = pd.DataFrame(
        {
            "date": pd.to_datetime(rows["decision_date"]).to_numpy(),
            "kind": rows["decision_kind"].astype(str).to_numpy()
            if "decision_kind" in rows.columns
            else "",
            "rank": rank,
        }
    )
    order = keys.sort_values(["date", "kind", "rank"], kind="mergesort").index.to_numpy()
    return rows.iloc[order].reset_index(drop=True)


def labelled(table: pd.DataFrame, label: str) -> pd.DataFrame:
    """Rows whose label is known (not censored), in the canonical order (``canonical_order``)."""
    if label not in table.columns:
        raise ValueError(f"The feature table has no label column {label!r}")
    rows = table[table[label].notna()].copy()
    rows["decision_date"] = pd.to_datetime(rows["decision_date"])
    return canonical_order(rows)


def child_parts(children: pd.Series, k: int) -> np.ndarray:
    """Part 0..k-1 of each row: children numbered in order of first appearance, round robin.
    All of a child's rows share a part; the parts do not depend on the pseudonyms' values."""
    return pd.factorize(pd.Series(np.asarray(children)), sort=False)[0] % k


def cross_fitted_margins(
    kind: str, X: pd.DataFrame, y: pd.Series, children: pd.Series, settings: Settings
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold margins of the training window, for a calibration sample several times
    larger than the calibration window alone (~1,100 referrals on the default council, whose
    observed rate wanders by +-0.02 from quarter to quarter around a flat true rate).

    Children, not rows, are split (numbered in order of first appearance, so the split does
    not depend on the pseudonym key): a child's other referrals never inform its own margin.
    Every label here matured before the calibration window ends, so nothing is seen that the
    calibration window could not see."""
    k = settings.models.calibration_folds
    if k < 2:
        raise ValueError(f"models.calibration_folds must be at least 2, not {k}")
    group = child_parts(children, k)
    margin = np.empty(len(y), dtype=float)
    y_values = y.to_numpy()
    for part in range(k):
        held = group == part
        if len(np.unique(y_values[~held])) < 2:
            raise ValueError(f"Cross-fitting part {part} holds one outcome class.")
        model = make_estimator(kind, settings).fit(X[~held], y[~held])
        margin[held] = model.decision_function(X[held])
    return margin, y_values.astype(float)


def fit_model(
    kind: str,
    train: pd.DataFrame,
    calibration: pd.DataFrame,
    label: str,
    columns: list[str],
    settings: Settings,
) -> FrontDoorModel:
    """Fit on the training window, calibrate on the later window, fix the bands on training."""
    cfg = settings.models
    encoder = InputEncoder().fit(train[columns])
    X = encoder.transform(train[columns])
    y = train[label].astype(int)
    base = make_estimator(kind, settings).fit(X, y)
    extra_margin = extra_y = None
    if cfg.calibration_sample == "cross_fitted":
        extra_margin, extra_y = cross_fitted_margins(kind, X, y, train["child_id"], settings)
        months = cfg.calibration_history_months
        if months is not None:
            dates = pd.to_datetime(train["decision_date"])
            recent = (dates >= dates.max() - pd.DateOffset(months=months)).to_numpy()
            extra_margin, extra_y = extra_margin[recent], extra_y[recent]
    elif cfg.calibration_sample != "window":
        raise ValueError(
            f"Unknown models.calibration_sample {cfg.calibration_sample!r}; "
            "use 'window' or 'cross_fitted'"
        )
    estimator = CalibratedModel(
        base, method=cfg.calibration_method, knots=cfg.calibration_knots
    ).fit(
        encoder.transform(calibration[columns]),
        calibration[label].astype(int),
        extra_margin=extra_margin,
        extra_y=extra_y,
    )
    bands = Bands(quantiles=tuple(cfg.band_edges), names=tuple(cfg.band_names)).fit(
        estimator.decision_function(X)
    )
    return FrontDoorModel(
        label,
        kind,
        estimator,
        bands,
        top_reasons=cfg.top_reasons,
        encoder=encoder if encoder.categories_ else None,
    )


@dataclass
class FoldResult:
    fold: Fold
    models: dict[str, FrontDoorModel]
    predictions: pd.DataFrame  # one row per test decision
    metrics: pd.DataFrame  # scorer x metric with CIs
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Backtest:
    label: str
    columns: list[str]
    folds: list[FoldResult]
    overall: pd.DataFrame  # pooled test rows of every fold
    deployed: FrontDoorModel
    deployment: Fold
    has_oracle: bool
    explain_rows: pd.DataFrame  # the newest test window's rows (features), for explanations
    seconds: dict[str, float] = field(default_factory=dict)
    # per band, on the pooled test folds, each fold's rows in its own model's bands
    # (`bands.backtest_outcomes`)
    band_outcomes: pd.DataFrame = field(default_factory=pd.DataFrame)

    def band_table(self) -> pd.DataFrame:
        """The deployed model's bands (margin and probability ranges, fixed on its training
        window) with what happened to the backtest's test referrals in each band."""
        table = self.deployed.band_table()
        if self.band_outcomes.empty:
            return table
        return table.merge(self.band_outcomes, on="band", how="left", validate="one_to_one")

    @property
    def predictions(self) -> pd.DataFrame:
        return pd.concat([f.predictions for f in self.folds], ignore_index=True)

    @property
    def metrics(self) -> pd.DataFrame:
        parts = [f.metrics.assign(fold=str(f.fold.fold)) for f in self.folds]
        parts.append(self.overall.assign(fold="overall"))
        return pd.concat(parts, ignore_index=True)

    def metric(self, scorer: str, metric: str, fold: str = "overall") -> dict[str, float]:
        m = self.metrics
        row = m[(m.scorer == scorer) & (m.metric == metric) & (m.fold == fold)]
        if row.empty:
            raise KeyError((scorer, metric, fold))
        return row.iloc[0][["value", "ci_low", "ci_high"]].to_dict()


def _weeks(fold: Fold) -> float:
    return (fold.test_end - fold.test_start).days / 7.0


def _evaluate(pred: pd.DataFrame, k: int, settings: Settings, has_oracle: bool, seed: int):
    cfg = settings.models
    scores = {kind: pred[f"probability_{kind}"].to_numpy() for kind in ESTIMATORS}
    scores["rule"] = pred["rule_flag"].to_numpy()
    if has_oracle:
        scores["oracle"] = pred["oracle_probability"].to_numpy()
    return evaluate_scorers(
        pred["y"].to_numpy(),
        scores,
        k=k,
        threshold=cfg.flag_threshold,
        bootstrap=cfg.bootstrap_samples,
        seed=seed,
        oracle="oracle" if has_oracle else None,
        clusters=pred["child_id"].to_numpy(),
    )


@dataclass
class TrainingData:
    """The labelled rows of one label and what every fold shares: cheap to rebuild anywhere
    (a Dask worker rebuilds it from the feature table), so only a fold's index travels."""

    label: str
    rows: pd.DataFrame  # labelled, in the canonical order
    columns: list[str]
    folds: list[Fold]
    rule: CurrentPracticeRule
    has_oracle: bool
    sensitive: list[str]


def training_data(table: pd.DataFrame, label: str, settings: Settings) -> TrainingData:
    """Labelled rows, model inputs, temporal folds and the fitted current-practice rule."""
    rows = labelled(table, label)
    columns = feature_columns(rows, settings)
    truth = truth_column(label)
    has_oracle = truth in rows.columns and rows[truth].notna().all()
    folds = make_folds(rows["decision_date"], settings)
    rule = make_rule(settings)
    rule.fit(rows[[c for c in columns if c == rule.feature]])
    # The sensitive characteristics travel beside the features into the test predictions, for the
    # fairness audit; the features room declares which they are.
    sensitive = [c for c in codes.AUDIT_CHARACTERISTICS if c in rows.columns]
    return TrainingData(label, rows, columns, folds, rule, has_oracle, sensitive)


def fit_fold(data: TrainingData, fold: Fold | int, settings: Settings) -> FoldResult:
    """One fold: fit both models on its training window, calibrate, band, score its test window
    (with the rule and the oracle) and evaluate. Independent of every other fold."""
    cfg = settings.models
    fold = data.folds[fold] if isinstance(fold, int) else fold
    rows, label, rule = data.rows, data.label, data.rule
    masks = fold.masks(rows["decision_date"])
    train, cal, test = (rows[masks[w]] for w in ("train", "calibration", "test"))
    for name, part in (("training", train), ("calibration", cal), ("test", test)):
        if part[label].nunique() < 2:
            raise ValueError(f"Fold {fold.fold}: the {name} window holds one outcome class.")
    seconds: dict[str, float] = {}
    models: dict[str, FrontDoorModel] = {}
    pred = test[["decision_id", "child_id", "decision_date", *data.sensitive]].copy()
    pred.insert(0, "fold", fold.fold)
    pred["label"] = label
    pred["y"] = test[label].astype(int).to_numpy()
    for kind in ESTIMATORS:
        t0 = time.perf_counter()
        models[kind] = fit_model(kind, train, cal, label, data.columns, settings)
        seconds[f"fit_{kind}"] = time.perf_counter() - t0
        pred[f"probability_{kind}"] = models[kind].predict_proba(test)
    chosen = models[cfg.registered_estimator]
    pred["probability"] = pred[f"probability_{cfg.registered_estimator}"]
    pred["band"] = chosen.band(test)
    pred["rule_flag"] = rule.flags(test[[rule.feature]])
    if data.has_oracle:
        pred["oracle_probability"] = test[truth_column(label)].astype(float).to_numpy()
    k = capacity_flags(_weeks(fold), cfg.review_capacity_per_week, len(test))
    pred["flag_at_capacity"] = False
    if cfg.flag_threshold is None:
        top = np.argsort(-pred["probability"].to_numpy(), kind="mergesort")[:k]
        pred.iloc[top, pred.columns.get_loc("flag_at_capacity")] = True
    else:
        pred["flag_at_capacity"] = pred["probability"] >= cfg.flag_threshold
    t0 = time.perf_counter()
    metrics = _evaluate(pred, k, settings, data.has_oracle, seed=cfg.seed + fold.fold)
    seconds["evaluate"] = time.perf_counter() - t0
    return FoldResult(fold, models, pred.reset_index(drop=True), metrics, seconds)


def combine_folds(data: TrainingData, results: list[FoldResult], settings: Settings) -> Backtest:
    """Pool the folds' test rows (metrics with paired bootstrap CIs over all of them) and train
    the deployable model on the newest labels: what ``backtest`` returns."""
    results = sorted(results, key=lambda r: r.fold.fold)
    if [r.fold for r in results] != data.folds:
        got = [r.fold.fold for r in results]
        raise ValueError(
            f"{data.label}: fold results {got} do not match the folds of this feature table "
            f"({[f.fold for f in data.folds]}); fit every fold on the same table and settings."
        )
    cfg = settings.models
    rows = data.rows
    started = time.perf_counter()
    pooled = pd.concat([r.predictions for r in results], ignore_index=True)
    k_all = sum(
        capacity_flags(_weeks(r.fold), cfg.review_capacity_per_week, len(r.predictions))
        for r in results
    )
    overall = _evaluate(pooled, k_all, settings, data.has_oracle, seed=cfg.seed + 1000)
    deploy = deployment_fold(rows["decision_date"], settings)
    dmask = deploy.masks(rows["decision_date"])
    t0 = time.perf_counter()
    deployed = fit_model(
        cfg.registered_estimator,
        rows[dmask["train"]],
        rows[dmask["calibration"]],
        data.label,
        data.columns,
        settings,
    )
    seconds = {"fit_deployed": time.perf_counter() - t0}
    # work done, fold by fold and here (``backtest`` replaces it by its wall-clock time)
    seconds["total"] = sum(sum(r.seconds.values()) for r in results) + (
        time.perf_counter() - started
    )
    explain_rows = rows[data.folds[-1].masks(rows["decision_date"])["test"]].reset_index(drop=True)
    outcomes = backtest_outcomes(
        pooled, cfg.band_names, samples=cfg.bootstrap_samples, seed=cfg.seed + 2000
    )
    return Backtest(
        data.label,
        data.columns,
        results,
        overall,
        deployed,
        deploy,
        data.has_oracle,
        explain_rows,
        seconds,
        band_outcomes=outcomes,
    )


def backtest(table: pd.DataFrame, label: str, settings: Settings) -> Backtest:
    """Fit, calibrate and evaluate both models on every fold; train the deployable model.

    The composition of ``fit_fold`` (one per fold; the pipelines run them in parallel) and
    ``combine_folds``."""
    started = time.perf_counter()
    data = training_data(table, label, settings)
    result = combine_folds(data, [fit_fold(data, f, settings) for f in data.folds], settings)
    result.seconds["total"] = time.perf_counter() - started
    return result


def summary_table(result: Backtest) -> pd.DataFrame:
    """One row per fold (and overall): rows, AUCs with CIs, oracle gap, calibration, capacity.

    Gap, calibration and capacity columns are those of the registered estimator.
    """
    chosen = result.deployed.kind
    rows = []
    m = result.metrics
    for fold in [*(str(f.fold.fold) for f in result.folds), "overall"]:
        sub = m[m.fold == fold]

        def cell(scorer: str, metric: str, digits: int = 3, sub=sub) -> str:
            r = sub[(sub.scorer == scorer) & (sub.metric == metric)]
            if r.empty or pd.isna(r.iloc[0]["value"]):
                return "-"
            r = r.iloc[0]
            return f"{r.value:.{digits}f} ({r.ci_low:.{digits}f}-{r.ci_high:.{digits}f})"

        n = (
            len(result.predictions)
            if fold == "overall"
            else len(result.folds[int(fold)].predictions)
        )
        row = {"fold": fold, "test_rows": n}
        for kind in ESTIMATORS:
            row[f"{kind}_auc"] = cell(kind, "auc")
        row["rule_auc"] = cell("rule", "auc")
        if result.has_oracle:
            row["oracle_auc"] = cell("oracle", "auc")
            row[f"gap_{chosen}"] = cell(f"gap:{chosen}", "auc")
        row[f"{chosen}_ece"] = cell(chosen, "ece")
        row["precision_at_capacity"] = cell(chosen, "precision_at_capacity", 2)
        row["lift_over_rule"] = cell(chosen, "lift_over_rule", 2)
        rows.append(row)
    return pd.DataFrame(rows)


def scored_referrals(table: pd.DataFrame, result: Backtest, settings: Settings) -> pd.DataFrame:
    """Every referral of the feature table the run's models score, labelled or not: what a
    selection (flag-rate) audit reads, since a flag rate needs no outcome.

    One row per referral and scorer: each fold's registered estimator on every referral of its
    test window (``scorer`` "fold", ``window`` "test"), and the deployed model on every referral
    of the table (``scorer`` "deployed", ``window`` "train", "calibration" (in sample: it was
    fitted or calibrated on them), "after" (decided after its newest label: labels not matured,
    out of sample) or "before" (older than its training window)). ``y`` is the outcome, NaN
    where the label has not matured. Pseudonymised ids only, like the test predictions.

    The deployed rows also carry ``probability_cross_fitted``: on its training window, the
    probability from a model of the same kind fitted without the referral's child (children
    split in ``models.calibration_folds`` parts, `cross_fitted_margins`) through the deployed
    calibration map; elsewhere the deployed probability. In-sample scores are pulled towards
    the outcomes the model was fitted on, so a disparity in who is flagged that the labels do
    not share looks smaller on them (measured: docs/fairness.md)."""
    cfg = settings.models
    rows = table.copy()
    rows["decision_date"] = pd.to_datetime(rows["decision_date"])
    rows = canonical_order(rows)
    dates = rows["decision_date"]
    sensitive = [c for c in codes.AUDIT_CHARACTERISTICS if c in rows.columns]
    keep = ["decision_id", "child_id", "decision_date", *sensitive]

    def scored(part: pd.DataFrame, model: FrontDoorModel, scorer: str, fold: int, window):
        out = part[keep].copy()
        out.insert(0, "fold", fold)
        out.insert(1, "scorer", scorer)
        out["window"] = window
        out["label"] = result.label
        out["y"] = part[result.label].astype(float).to_numpy()
        out["probability"] = model.predict_proba(part) if len(part) else []
        return out

    parts = []
    for r in result.folds:
        test = rows[r.fold.masks(dates)["test"].to_numpy()]
        parts.append(scored(test, r.models[cfg.registered_estimator], "fold", r.fold.fold, "test"))
    masks = {k: v.to_numpy() for k, v in result.deployment.masks(dates).items()}
    window = np.select(
        [masks["train"], masks["calibration"], (dates >= result.deployment.calibration_end)],
        ["train", "calibration", "after"],
        "before",
    )
    deployed = scored(rows, result.deployed, "deployed", -1, window)
    deployed["probability_cross_fitted"] = deployed["probability"].to_numpy()
    train = (window == "train") & rows[result.label].notna().to_numpy()
    if train.any():
        part = rows[train]
        margin, _ = cross_fitted_margins(
            result.deployed.kind,
            result.deployed.inputs(part),
            part[result.label].astype(int),
            part["child_id"],
            settings,
        )
        calibrated = result.deployed.estimator.calibrator_.predict(margin)
        deployed.loc[train, "probability_cross_fitted"] = calibrated
    parts.append(deployed)
    return pd.concat(parts, ignore_index=True)
