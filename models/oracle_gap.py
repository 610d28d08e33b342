"""The gap to the oracle, decomposed, and the learning curve (issue 15), on a synthetic council.

The oracle (the generator's true probability) is the best any model could do. On the same
pooled, gapped test rows as the backtest, four AUCs tell a reader where the model's gap comes
from:

- **oracle**: the true probability;
- **ceiling of the records**: the oracle regressed on the features alone (cross-fitted over
  every labelled decision): what the records could give with unlimited data, so
  *oracle - ceiling* is information the records do not hold;
- **floor of estimation**: the model trained on the labels exactly as the backtest trains it,
  but given the generator's true state as its only inputs: *oracle - floor* is what the number
  of decisions alone costs, even with perfect information;
- **model**: the backtest's model, so *ceiling - model* is mostly too little data.

The learning curve fits the registered estimator on nested subsets of each fold's children
(training and calibration windows alike) and scores the same test rows; at fraction 1 it is
the backtest's model exactly. ``benchmarks/oracle_gap.py`` prints the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from frontdoor.models.evaluate import evaluate_scorers
from frontdoor.models.stats import cluster_counts, percentile_interval, replicate_auc, roc_auc
from frontdoor.models.train import (
    TrainingData,
    fit_model,
    training_data,
    truth_column,
)
from frontdoor.records.pseudonymise import load_key, pseudonymise_series
from frontdoor.settings import Settings
from frontdoor.synth.council import generate, window_of

STATE_BITS = ("neglect", "domestic_abuse", "mental_health", "substance", "exploitation", "plan")
STATE_COLUMNS = [*(f"state_{n}" for n in STATE_BITS), "state_n_concerns"]
SIZES = (0.125, 0.25, 0.5, 1.0)
COMPONENTS = ("oracle", "ceiling", "floor", "model")


def latent_at_decisions(table: pd.DataFrame, settings: Settings, root: Path) -> pd.DataFrame:
    """The generator's state (6 bits and the number of concerns) of each decision's child in
    the decision's month. Regenerates the council with ``settings`` (cached in ``root``), so
    the settings must be the ones that generated the records."""
    path = Path(root) / "latent.npy"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, generate(settings, keep_latent=True).latent)
    latent = np.load(path)  # (months from the window's first, children)
    raw = pd.Series([f"C{i + 1:07d}" for i in range(latent.shape[1])])
    index = pd.Series(
        np.arange(latent.shape[1]), index=pseudonymise_series(load_key(settings), raw)
    )
    start, _ = window_of(settings.synth.end_date, settings.synth.years)
    when = pd.to_datetime(table["decision_date"])
    month = ((when.dt.year - start.year) * 12 + when.dt.month - start.month).to_numpy()
    child = table["child_id"].map(index)
    if child.isna().any():
        raise ValueError(
            "decisions whose child is not in the generator's population: the records were not "
            "generated with these synth settings (children, seed, pseudonym key)"
        )
    state = latent[month, child.to_numpy(dtype=int)].astype(int)
    bits = {f"state_{name}": (state >> k) & 1 for k, name in enumerate(STATE_BITS)}
    bits["state_n_concerns"] = sum(bits[f"state_{n}"] for n in STATE_BITS[:5])
    return pd.DataFrame(bits, index=table.index)


def floor_inputs_of(rows: pd.DataFrame) -> list[str]:
    return [c for c in STATE_COLUMNS if c in rows]


def floor_inputs(settings: Settings) -> list[str]:
    """The floor's only inputs: the true state, the child's age and the rule's count."""
    return [*STATE_COLUMNS, "age_at_decision", settings.models.current_practice_rule_feature]


def ceiling_scores(X: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """The oracle regressed on X, cross-fitted (5 folds: each row predicted by a model that did
    not see it): what the records X could give with unlimited data."""
    import lightgbm as lgb
    from sklearn.model_selection import KFold

    fitted = np.zeros(len(X))
    for train, test in KFold(5, shuffle=True, random_state=0).split(X):
        model = lgb.LGBMRegressor(
            n_estimators=400,
            learning_rate=0.03,
            num_leaves=15,
            min_child_samples=40,
            n_jobs=1,
            verbose=-1,
        )
        fitted[test] = model.fit(X[train], truth[train]).predict(X[test])
    return fitted


def ceiling(rows: pd.DataFrame, columns: list[str], truth, y, evaluate_on) -> float:
    """AUC on the ``evaluate_on`` rows of the cross-fitted regression of the oracle on
    ``columns``."""
    fitted = ceiling_scores(rows[columns].to_numpy(dtype=float), np.asarray(truth, dtype=float))
    return roc_auc(np.asarray(y)[evaluate_on], fitted[evaluate_on])


def _children_kept(children: pd.Series, fraction: float, seed: int) -> pd.Series:
    """Nested subsets of children (the same order for every fraction), chosen by a seeded
    permutation of the children in the rows' canonical order (never by pseudonym value)."""
    codes, uniques = pd.factorize(children, sort=False)
    rank = np.random.default_rng(seed).permutation(len(uniques))
    return pd.Series(rank[codes] < np.ceil(fraction * len(uniques)), index=children.index)


def curve_predictions(
    data: TrainingData, settings: Settings, sizes=SIZES, columns: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per fold and fraction of children: the registered estimator fitted on the kept
    children's training and calibration rows, scoring the fold's whole test window.

    Returns (the pooled test rows with one probability column per fraction, the number of
    training decisions per fold and fraction)."""
    cfg = settings.models
    columns = columns or data.columns
    rows, label = data.rows, data.label
    pooled, counts = [], []
    for fold in data.folds:
        masks = fold.masks(rows["decision_date"])
        train, cal, test = (rows[masks[w]] for w in ("train", "calibration", "test"))
        out = test[["decision_id", "child_id"]].copy()
        out["fold"] = fold.fold
        out["y"] = test[label].astype(int).to_numpy()
        if data.has_oracle:
            out["oracle"] = test[truth_column(label)].astype(float).to_numpy()
        for fraction in sizes:
            keep_t = _children_kept(train["child_id"], fraction, cfg.seed + fold.fold)
            keep_c = _children_kept(cal["child_id"], fraction, cfg.seed + fold.fold)
            t, c = (train, cal) if fraction >= 1 else (train[keep_t], cal[keep_c])
            counts.append({"fold": fold.fold, "fraction": fraction, "decisions": len(t) + len(c)})
            if t[label].nunique() < 2 or c[label].nunique() < 2:
                out[f"p_{fraction:g}"] = np.nan
                continue
            model = fit_model(cfg.registered_estimator, t, c, label, columns, settings)
            out[f"p_{fraction:g}"] = model.predict_proba(test)
        pooled.append(out)
    return pd.concat(pooled, ignore_index=True), pd.DataFrame(counts)


def with_states(data: TrainingData, table: pd.DataFrame, states: pd.DataFrame) -> TrainingData:
    """The floor's training data: the same rows in the same order, given the true state (joined
    by decision id after the canonical order, which reads every column: joining before would
    reorder the rows and change the model), with the floor's inputs as its only columns."""
    by_id = states.set_index(table.loc[states.index, "decision_id"].to_numpy())
    rows = data.rows.join(by_id, on="decision_id")
    return replace(data, rows=rows, columns=floor_inputs_of(rows))


def learning_curve(
    table: pd.DataFrame,
    label: str,
    settings: Settings,
    sizes=SIZES,
    states: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """AUC on the backtest's pooled test rows against the number of training decisions.

    One row per fraction of each fold's children: ``fraction``, ``decisions`` (training and
    calibration decisions, mean per fold), ``model_auc``, ``oracle_auc`` (synthetic data) and,
    with ``states`` (``latent_at_decisions``, aligned with the table), ``floor_auc``: the same
    protocol given perfect information. At fraction 1 ``model_auc`` is the backtest's."""
    data = training_data(table, label, settings)
    pred, counts = curve_predictions(data, settings, sizes)
    floor = None
    if states is not None:
        floor_data = replace(with_states(data, table, states), columns=floor_inputs(settings))
        floor, _ = curve_predictions(floor_data, settings, sizes)
    return _curve_rows(pred, floor, counts, sizes, settings)


@dataclass
class OracleGap:
    """The decomposition (one row per component, with paired 95% intervals) and the curve."""

    label: str
    decomposition: pd.DataFrame  # component, auc, auc_low, auc_high, gap, gap_low, gap_high
    curve: pd.DataFrame  # learning_curve's rows
    rule_auc: float

    def auc(self, component: str) -> float:
        return float(self.decomposition.set_index("component").loc[component, "auc"])

    def metrics(self) -> dict[str, float]:
        """The few figures logged as MLflow metrics."""
        d = self.decomposition.set_index("component")
        out = {f"oracle_gap/{c}_auc": float(d.loc[c, "auc"]) for c in COMPONENTS}
        out["oracle_gap/missing_information"] = self.auc("oracle") - self.auc("ceiling")
        out["oracle_gap/too_little_data"] = self.auc("ceiling") - self.auc("model")
        out["oracle_gap/total"] = self.auc("oracle") - self.auc("model")
        return out


def decompose(
    table: pd.DataFrame,
    label: str,
    settings: Settings,
    states: pd.DataFrame,
    sizes=SIZES,
) -> OracleGap:
    """Oracle, ceiling, floor and model on the backtest's pooled test rows, with paired
    bootstrap 95% intervals resampling children (``models.bootstrap_samples``), and the
    learning curve (model and floor) on the same rows. ``states``: ``latent_at_decisions``."""
    data = training_data(table, label, settings)
    if not data.has_oracle:
        raise ValueError(f"{label}: no true probability in the table (synthetic councils only)")
    columns = data.columns
    pred, counts = curve_predictions(data, settings, sizes)
    floor_data = replace(with_states(data, table, states), columns=floor_inputs(settings))
    floor, _ = curve_predictions(floor_data, settings, sizes)
    rows = data.rows
    tested = rows["decision_id"].isin(pred["decision_id"]).to_numpy()
    fitted = ceiling_scores(
        rows[columns].to_numpy(dtype=float), rows[truth_column(label)].to_numpy(dtype=float)
    )
    by_id = pd.Series(fitted, index=rows["decision_id"].to_numpy())[tested]
    full_key = f"p_{max(sizes):g}"
    scores = {
        "oracle": pred["oracle"].to_numpy(),
        "ceiling": by_id.loc[pred["decision_id"]].to_numpy(),
        "floor": floor[full_key].to_numpy(),
        "model": pred[full_key].to_numpy(),
        "rule": data.rule.flags(
            rows.set_index("decision_id").loc[pred["decision_id"], [data.rule.feature]]
        ),
    }
    cfg = settings.models
    m = evaluate_scorers(
        pred["y"].to_numpy(),
        scores,
        k=max(1, len(pred) // 10),
        bootstrap=cfg.bootstrap_samples,
        seed=cfg.seed + 2000,
        clusters=pred["child_id"].to_numpy(),
    )
    auc = m[m.metric == "auc"].set_index("scorer")
    out = []
    for c in COMPONENTS:
        gap = auc.loc[f"gap:{c}"] if f"gap:{c}" in auc.index else None
        out.append(
            {
                "component": c,
                "auc": auc.loc[c, "value"],
                "auc_low": auc.loc[c, "ci_low"],
                "auc_high": auc.loc[c, "ci_high"],
                "gap": 0.0 if gap is None else gap["value"],
                "gap_low": 0.0 if gap is None else gap["ci_low"],
                "gap_high": 0.0 if gap is None else gap["ci_high"],
            }
        )
    curve = _curve_rows(pred, floor, counts, sizes, settings)
    return OracleGap(label, pd.DataFrame(out), curve, float(auc.loc["rule", "value"]))


def _curve_rows(pred, floor, counts, sizes, settings: Settings) -> pd.DataFrame:
    """One row per size; the model's AUC with its 95% interval and the gain over the previous
    size with its paired interval (the same resamples of children for every size)."""
    y = pred["y"].to_numpy()
    keys = [f"p_{f:g}" for f in sizes]
    reps: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    rng = np.random.default_rng(settings.models.seed + 3000)
    samples, clusters = settings.models.bootstrap_samples, pred["child_id"].to_numpy()
    for block in cluster_counts(len(y), samples, rng, clusters):
        for k in keys:
            reps[k].append(replicate_auc(block, y, pred[k].to_numpy()))
    rows = []
    for i, (f, k) in enumerate(zip(sizes, keys, strict=True)):
        auc = np.concatenate(reps[k])
        row = {
            "fraction": f,
            "decisions": float(counts.loc[counts.fraction == f, "decisions"].mean()),
            "test_decisions": len(pred),
            "model_auc": roc_auc(y, pred[k].to_numpy()),
        }
        row["model_auc_low"], row["model_auc_high"] = percentile_interval(auc)
        if i:
            before = keys[i - 1]
            row["gain"] = row["model_auc"] - roc_auc(y, pred[before].to_numpy())
            row["gain_low"], row["gain_high"] = percentile_interval(
                auc - np.concatenate(reps[before])
            )
        if floor is not None:
            row["floor_auc"] = roc_auc(y, floor[k].to_numpy())
        if "oracle" in pred:
            row["oracle_auc"] = roc_auc(y, pred["oracle"].to_numpy())
        rows.append(row)
    return pd.DataFrame(rows)


def enough_history(curve: pd.DataFrame, rule_auc: float, margin: float = 0.02) -> str:
    """One sentence for the council: is there enough history for a model to be worth using?

    Worth using: at the council's full history the model beats the current-practice rule by
    ``margin`` AUC or more. Whether more history would help, from the last doubling's gain and
    its paired interval: still learning when the interval lies above 0; no help when it lies
    below 0; little to gain when it lies below 0.01; otherwise too few test decisions to tell."""
    curve = curve.sort_values("fraction")
    full = curve.iloc[-1]
    n = f"{full.decisions:,.0f}"
    if full.model_auc - rule_auc < margin:
        return (
            f"Not enough history for a model to be worth using yet: with {n} training decisions "
            f"it ranks referrals little better than the current rule (AUC {full.model_auc:.3f} "
            f"against {rule_auc:.3f})."
        )
    head = (
        f"Enough history for a model to be worth using: with {n} training decisions it ranks "
        f"referrals clearly better than the current rule (AUC {full.model_auc:.3f} against "
        f"{rule_auc:.3f})"
    )
    if len(curve) < 2 or "gain" not in curve or pd.isna(full.get("gain")):
        return head + "."
    gain = f"the last doubling of history changed AUC by {full.gain:+.3f}"
    interval = f"{gain} (95% interval {full.gain_low:+.3f} to {full.gain_high:+.3f})"
    if full.gain_low > 0:
        return f"{head}, and it is still learning: {interval}, so more history will improve it."
    if full.gain_high < 0:
        return (
            f"{head}, but more history does not help it: {interval}; the older records seem to "
            "describe today's referrals less well."
        )
    if full.gain_high < 0.01:
        return f"{head}, and more history would change little: {interval}."
    return (
        f"{head}; whether more history would improve it, these test periods are too small to "
        f"tell: {interval}."
    )


ARTIFACTS = {
    "decomposition": "oracle_gap/decomposition.json",
    "curve": "oracle_gap/learning_curve.json",
    "plot": "oracle_gap/learning_curve.png",
    "sentence": "oracle_gap/enough_history.txt",
}


def log_oracle_gap(settings: Settings, run_id: str, gap: OracleGap) -> dict[str, float]:
    """Log the decomposition to a model's MLflow run: a few metrics (``oracle_gap/...``), the
    decomposition and the curve as table artifacts, the curve's plot and its sentence."""
    import tempfile

    from frontdoor.models.plots import learning_curve_figure
    from frontdoor.models.tracking import client

    c = client(settings)
    metrics = gap.metrics()
    for key, value in metrics.items():
        c.log_metric(run_id, key, float(value))
    c.log_text(run_id, enough_history(gap.curve, gap.rule_auc), ARTIFACTS["sentence"])
    with tempfile.TemporaryDirectory() as tmp:
        # MLflow's table format ({"columns", "data"}), written whole: `log_table` would append
        # a re-run's rows to the old ones
        for key, frame in (("decomposition", gap.decomposition), ("curve", gap.curve)):
            path = Path(tmp) / Path(ARTIFACTS[key]).name
            path.write_text(frame.to_json(orient="split", index=False), encoding="utf-8")
            c.log_artifact(run_id, str(path), str(Path(ARTIFACTS[key]).parent))
        path = Path(tmp) / Path(ARTIFACTS["plot"]).name
        learning_curve_figure(gap.curve, gap.rule_auc, gap.auc("ceiling")).savefig(path, dpi=110)
        c.log_artifact(run_id, str(path), str(Path(ARTIFACTS["plot"]).parent))
    return metrics
