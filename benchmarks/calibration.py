"""Benchmark: can a manager read the probabilities literally? Calibration on the default council.

Prints, per label and per candidate (``--variants``), on the pooled test folds and per fold:
the registered model's expected calibration error against the oracle's on the same rows (with
the paired bootstrap interval of the difference), the calibration intercept and slope (logistic
recalibration of the outcomes on the model's log-odds) with 95% intervals resampling children,
the model's calibration slope minus the oracle's on the same rows (paired interval), the ECE
over 10 equal-mass bins beside the metric's 10 equal-width ones, and the observed outcome rate
per band. Run:

    PYTHONPATH=. .venv/bin/python benchmarks/calibration.py [--children 50000] [--cache DIR]
        [--variants current windowed visible ...] [--floor N] [--targets N] [--seed S]

Targets (issue 15): ECE within 0.005 of the oracle's; the intercept's interval covers 0 and the
slope's covers 1; observed rates rise strictly from band to band. Candidates:
- ``current``: the model as configured;
- ``platt_window``: Platt scaling on the calibration window (the default before the third
  session), whatever is configured;
- ``spline`` / ``spline_cross_fitted_12m``: the monotone linear spline of the margin
  (``models.calibration_method="spline"``, ``models.calibration_knots``) on the calibration
  window / on it plus the training window's newest 12 months of cross-fitted margins;
- ``windowed``: without the "all history" features (they grow with the age of the extract);
- ``visible``: with a feature for the length of history the extract can see at the decision;
- ``isotonic``: isotonic instead of Platt calibration;
- ``cross_fitted`` (``_isotonic``): Platt (or isotonic), the calibrator also fitted on the training window's
  out-of-fold margins (``models.calibration_sample="cross_fitted"``), Platt (or isotonic);
  ``cross_fitted_12m`` (``_isotonic``): only the training window's newest 12 months join;
- ``calibration_12m``: a 12-month calibration window (training ends 6 months earlier);
- ``trees_250``: LightGBM with 250 trees (issue 15's tuned peer picked 150-300 against 500);
- ``loose_scorecard``: the scorecard without sign constraints (what they cost in AUC);
- ``monotone_off``: LightGBM without monotone constraints (what they are worth in AUC);
- ``folds_10`` / ``folds_20``: the configured calibration with the training window's margins
  cross-fitted in 10 or 20 parts instead of ``models.calibration_folds`` (5).
Each also prints both models' AUC and the oracle's, per fold and pooled, and (after
``current``) the registered model's AUC minus the current one's on the same rows, with the
paired interval resampling children.
Each also prints the ECE against the oracle's probabilities on the same bins ("truth ECE": the
calibration error itself, without the outcomes' coin flips) and the oracle's own calibration
line on the test outcomes. With ``--floor N``, the noise floor of the excess ECE: outcomes
redrawn N times from the oracle's probabilities (independently per referral), the excess of
the model as it is and of a predictor calibrated by construction on the model's own ranking
(per fold, the oracle's probabilities smoothed on a cubic spline of the model's log-odds).
With ``--targets N``, how often issue 15's targets are met when the outcomes are redrawn N
times from the oracle's probabilities (independently per referral, seeded by the settings'
seed): for the oracle itself, the model and the predictor calibrated by construction, on the
pooled test folds, the share of redraws meeting each target (excess ECE <= 0.005; the
intercept's interval covering 0; the slope's covering 1; both; bands rising strictly) and all
four, with Wilson 95% intervals, and the slope's spread over the redraws. Each redraw's
intervals resample children ``--bootstrap`` times (200) with ``stats.calibration_summary``, one
set of resamples for all three predictors. For the oracle, the line's share is the coverage of
its own intervals (nominal 0.95 each); its ECE target is met by definition, and its bands are
its own probabilities cut into as many referrals per band as the model's. The model's bands
(edges on its margin) serve the predictor calibrated by construction too (it ranks as the
model). About 0.5 s a redraw at 3,200 test referrals. It also prints the within-child
correlation of the residuals (y - oracle) of the real outcomes and of the redraws: a child's
referrals share outcomes beyond the oracle's probabilities (their 12-month windows overlap, so
one later event labels both), which independent redraws lack. With ``--clustered`` a share of
children draw all their referrals' outcomes from one uniform (each referral keeps its own
probability), the share matching the real outcomes' correlation.
No timing is asserted; this prints figures.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

VARIANTS = (
    "current",
    "platt_window",
    "spline",
    "spline_cross_fitted_12m",
    "windowed",
    "visible",
    "isotonic",
    "cross_fitted",
    "cross_fitted_isotonic",
    "cross_fitted_12m",
    "cross_fitted_12m_isotonic",
    "calibration_12m",
    "trees_250",
    "loose_scorecard",
    "monotone_off",
    "folds_10",
    "folds_20",
)
CALIBRATION_VARIANTS = {v for v in VARIANTS if v.startswith(("platt", "spline", "cross", "iso"))}


def _with(settings, **models):
    return settings.model_copy(update={"models": settings.models.model_copy(update=models)})


def _run(table: pd.DataFrame, label: str, settings, variant: str):
    from frontdoor.models.train import combine_folds, fit_fold, training_data

    cfg = settings.models
    if variant in CALIBRATION_VARIANTS:
        # the calibration variants name their method and sample whatever the default is
        method = "spline" if variant.startswith("spline") else "sigmoid"
        settings = _with(
            settings,
            calibration_method=method,
            calibration_sample="window",
            calibration_history_months=None,
        )
    if variant == "spline_cross_fitted_12m":
        settings = _with(settings, calibration_sample="cross_fitted", calibration_history_months=12)
    if variant.endswith("isotonic"):
        settings = _with(settings, calibration_method="isotonic")
    if variant.startswith("cross_fitted"):
        months = 12 if variant.startswith("cross_fitted_12m") else None
        settings = _with(
            settings, calibration_sample="cross_fitted", calibration_history_months=months
        )
    elif variant == "calibration_12m":
        settings = _with(settings, splits=cfg.splits.model_copy(update={"calibration_months": 12}))
    elif variant == "loose_scorecard":
        settings = _with(
            settings, logistic=cfg.logistic.model_copy(update={"sign_constrained": False})
        )
    elif variant == "trees_250":
        settings = _with(settings, lightgbm=cfg.lightgbm.model_copy(update={"n_estimators": 250}))
    elif variant.startswith("folds_"):
        settings = _with(settings, calibration_folds=int(variant.removeprefix("folds_")))
    elif variant == "monotone_off":
        settings = _with(settings, lightgbm=cfg.lightgbm.model_copy(update={"monotone": False}))
    data = training_data(table, label, settings)
    if variant == "windowed":
        data = replace(data, columns=[c for c in data.columns if not c.endswith("_all")])
    elif variant == "visible":
        first = pd.to_datetime(table["decision_date"]).min()
        rows = data.rows.assign(
            visible_history_days=(data.rows["decision_date"] - first).dt.days.astype(float)
        )
        data = replace(data, rows=rows, columns=[*data.columns, "visible_history_days"])
    return combine_folds(data, [fit_fold(data, f, settings) for f in data.folds], settings)


def base_rate_lines(table: pd.DataFrame, label: str, settings) -> list[str]:
    """Per fold: the observed rate against the oracle's mean probability in the calibration
    and test windows. Is the base rate's move between them real (the oracle moves too) or
    sampling noise around a steady true rate (only the observed rate moves)?"""
    from frontdoor.models.train import training_data, truth_column

    data = training_data(table, label, settings)
    lines = []
    for fold in data.folds:
        masks = fold.masks(data.rows["decision_date"])
        cells = []
        for window in ("calibration", "test"):
            part = data.rows[masks[window]]
            y, p = part[label].astype(float), part[truth_column(label)].astype(float)
            z = (y.mean() - p.mean()) / np.sqrt((p * (1 - p)).sum() / len(p) ** 2)
            cells.append(
                f"{window} (n={len(part)}) observed {y.mean():.3f}, oracle {p.mean():.3f}, "
                f"z {z:+.1f}"
            )
        lines.append(f"base rate fold {fold.fold}: " + "; ".join(cells))
    return lines


def difference_lines(current: pd.DataFrame, pred: pd.DataFrame, samples: int, seed: int):
    """The registered model's AUC minus the current configuration's, pooled and per fold."""
    from frontdoor.models.tune import auc_difference

    parts = [("pooled", current, pred)] + [
        (f"fold {f}", current[current.fold == f], pred[pred.fold == f])
        for f in sorted(current.fold.unique())
    ]
    lines = []
    for name, a, b in parts:
        d = auc_difference(a.reset_index(drop=True), b.reset_index(drop=True), samples, seed)
        lines.append(
            f"AUC minus current, {name}: {_fmt(d['difference'], (d['ci_low'], d['ci_high']))}"
        )
    return lines


def _fmt(value: float, interval: tuple[float, float]) -> str:
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


def truth_ece(p: np.ndarray, oracle: np.ndarray, bins: int = 10) -> float:
    """ECE's bins (10 of equal width), with the oracle's mean probability in place of the
    observed rate: the calibration error itself, free of the outcomes' noise."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    gap = np.bincount(idx, weights=p - oracle, minlength=bins)
    return float(np.abs(gap).sum() / len(p))


def paired_lines(s: dict) -> list[str]:
    """From ``stats.calibration_summary`` with the oracle: the slope (and intercept) of the
    model's calibration line minus the oracle's on the same test rows (the slope's analogue of
    the excess ECE: what the test outcomes' own extremes do to the oracle they do to the model
    too), and the equal-mass ECE of both and its excess, with their 95% intervals."""
    return [
        f"model - oracle: slope {_fmt(s['slope_excess'], s['slope_excess_ci'])}; intercept "
        f"{_fmt(s['intercept_excess'], s['intercept_excess_ci'])}",
        f"equal-mass ECE model {_fmt(s['equal_mass_ece'], s['equal_mass_ece_ci'])}; oracle "
        f"{_fmt(s['oracle_equal_mass_ece'], s['oracle_equal_mass_ece_ci'])}; model - oracle "
        f"{_fmt(s['equal_mass_ece_excess'], s['equal_mass_ece_excess_ci'])}",
    ]


def calibrated_by_construction(pred: pd.DataFrame) -> np.ndarray:
    """Per fold, the oracle's probability smoothed on a cubic spline (6 knots) of the model's
    log-odds: E[oracle | the model's ranking], calibrated by construction and no sharper than
    the model (a soft-target logistic fit)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import SplineTransformer

    out = np.empty(len(pred))
    for fold in pred["fold"].unique():
        rows = (pred["fold"] == fold).to_numpy()
        p = pred["probability"].to_numpy(float)[rows]
        z = np.log(p / (1 - p)).reshape(-1, 1)
        o = pred["oracle_probability"].to_numpy(float)[rows]
        basis = SplineTransformer(n_knots=6, degree=3).fit(z)
        X = np.vstack([basis.transform(z)] * 2)
        target = np.r_[np.ones(len(o)), np.zeros(len(o))]
        fit = LogisticRegression(C=1e4, max_iter=5000).fit(X, target, sample_weight=np.r_[o, 1 - o])
        out[rows] = fit.predict_proba(basis.transform(z))[:, 1]
    return out


def floor_lines(pred: pd.DataFrame, draws: int, seed: int) -> list[str]:
    """The excess ECE's noise floor: outcomes redrawn from the oracle's probabilities."""
    from frontdoor.models.stats import calibration_line
    from frontdoor.models.stats import expected_calibration_error as ece

    oracle = pred["oracle_probability"].to_numpy(float)
    model = pred["probability"].to_numpy(float)
    ideal = calibrated_by_construction(pred)
    y = pred["y"].to_numpy(float)
    rng = np.random.default_rng(seed)
    lines = [
        f"calibrated by construction, on the real outcomes: truth ECE {truth_ece(ideal, oracle):.3f}, "
        f"excess ECE {ece(y, ideal) - ece(y, oracle):.3f}, line "
        + " / ".join(f"{v:.3f}" for v in calibration_line(y, ideal))
    ]
    for name, p in (("calibrated by construction", ideal), ("the model", model)):
        excess, slopes = [], []
        for _ in range(draws):
            redrawn = (rng.random(len(oracle)) < oracle).astype(float)
            excess.append(ece(redrawn, p) - ece(redrawn, oracle))
            slopes.append(calibration_line(redrawn, p)[1])
        e, b = np.array(excess), np.array(slopes)
        lo, hi = np.percentile(e, [2.5, 97.5])
        b_lo, b_hi = np.percentile(b, [2.5, 97.5])
        lines.append(
            f"{name}, outcomes redrawn {draws} times: excess ECE mean {e.mean():.3f} "
            f"(95% of draws {lo:.3f} to {hi:.3f}); P(excess <= 0.005) {np.mean(e <= 0.005):.2f}; "
            f"slope mean {b.mean():.3f} (95% of draws {b_lo:.3f} to {b_hi:.3f})"
        )
    return lines


def oracle_band_codes(oracle: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """The oracle's own bands on the same rows: its probabilities ranked and cut into as many
    referrals per band as the model's bands hold (``codes``: 0 = lowest band)."""
    counts = np.bincount(codes, minlength=k)
    out = np.empty(len(oracle), dtype=int)
    out[np.argsort(oracle, kind="stable")] = np.repeat(np.arange(k), counts)
    return out


def _rising(y: np.ndarray, codes: np.ndarray, k: int) -> bool:
    n = np.bincount(codes, minlength=k)
    rate = np.bincount(codes, weights=y, minlength=k) / np.maximum(n, 1)
    return bool(np.all(n > 0) and np.all(np.diff(rate) > 0))


def _share(hits: list[bool]) -> str:
    from benchmarks.gate_calibration import wilson

    k, n = int(np.sum(hits)), len(hits)
    lo, hi = wilson(k, n)
    return f"{k / n:.3f} [{lo:.3f}, {hi:.3f}]"


def target_draw(
    y, predictors: dict, oracle, children, codes: dict, k: int, samples: int, seed: int
):
    """Issue 15's four targets on one set of outcomes, for each predictor: excess ECE <= 0.005,
    the intercept's 95% interval covering 0 and the slope's covering 1 (children resampled,
    ``stats.calibration_summary``: the oracle's line from the first predictor's resamples),
    observed rates rising strictly band to band (``codes``: each predictor's bands)."""
    from frontdoor.models.stats import calibration_summary
    from frontdoor.models.stats import expected_calibration_error as ece

    out, truth = {}, ece(y, oracle)
    for i, (name, p) in enumerate(predictors.items()):
        s = calibration_summary(
            y, p, oracle if i == 0 else None, children, samples=samples, seed=seed
        )
        out[name] = (s, ece(y, p) - truth <= 0.005, _rising(y, codes[name], k))
        if i == 0:
            oracle_s = {m: s[f"oracle_{m}"] for m in ("intercept", "slope")}
            oracle_s |= {f"{m}_ci": s[f"oracle_{m}_ci"] for m in ("intercept", "slope")}
            out["the oracle"] = (oracle_s, True, _rising(y, codes["the oracle"], k))
    rows = {}
    for name, (s, ece_ok, rising) in out.items():
        lo_a, hi_a = s["intercept_ci"]
        lo_b, hi_b = s["slope_ci"]
        a_ok, b_ok = bool(lo_a <= 0 <= hi_a), bool(lo_b <= 1 <= hi_b)
        rows[name] = {
            "ece": ece_ok,
            "intercept": a_ok,
            "slope": b_ok,
            "line": a_ok and b_ok,
            "bands": rising,
            "all": ece_ok and a_ok and b_ok and rising,
            "slope_value": s["slope"],
        }
    return rows


def within_child_correlation(y: np.ndarray, oracle: np.ndarray, codes: np.ndarray) -> float:
    """The mean product of the Pearson residuals (y - oracle) / sd over pairs of referrals of
    the same child: 0 when outcomes are independent given the oracle's probabilities."""
    q = np.clip(oracle, 1e-6, 1 - 1e-6)
    r = (y - q) / np.sqrt(q * (1 - q))
    s, ss, n = (np.bincount(codes, weights=w) for w in (r, r * r, np.ones_like(r)))
    return float((s * s - ss).sum() / (n * (n - 1)).sum())


def redraw(rng: np.random.Generator, oracle: np.ndarray, codes: np.ndarray, shared: float):
    """Outcomes from the oracle's probabilities: independent per referral, except that with
    probability ``shared`` all of a child's referrals share one uniform draw (each still has
    its own probability, so its outcome's chance is unchanged, but they agree as far as their
    probabilities allow). With ``shared=0`` the stream is one uniform per referral."""
    u = rng.random(len(oracle))
    if shared > 0:
        k = int(codes.max()) + 1
        together = (rng.random(k) < shared)[codes]
        u = np.where(together, rng.random(k)[codes], u)
    return (u < oracle).astype(float)


def matched_sharing(y: np.ndarray, oracle: np.ndarray, codes: np.ndarray, seed: int) -> float:
    """The share of children whose referrals share a draw that gives redraws the real
    outcomes' within-child correlation (the correlation is linear in the share: the real one
    over that of redraws where every child shares, 20 of them), clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    full = np.mean(
        [
            within_child_correlation(redraw(rng, oracle, codes, 1.0), oracle, codes)
            for _ in range(20)
        ]
    )
    return float(np.clip(within_child_correlation(y, oracle, codes) / full, 0.0, 1.0))


def target_lines(
    pred: pd.DataFrame,
    band_names: list[str],
    draws: int,
    samples: int,
    seed: int,
    clustered: bool = False,
):
    """Issue 15's targets over ``draws`` outcome redraws from the oracle's probabilities
    (independent per referral; ``clustered``: a share of children's referrals drawn together,
    the share matching the real outcomes' within-child correlation), for the oracle itself,
    the model and the predictor calibrated by construction: the share of redraws meeting each
    target and all four, with Wilson 95% intervals. For the oracle, meeting the line target is
    the coverage of its own intercept's and slope's intervals (nominal 0.95 each)."""
    oracle = pred["oracle_probability"].to_numpy(float)
    y = pred["y"].to_numpy(float)
    predictors = {
        "the model": pred["probability"].to_numpy(float),
        "calibrated by construction": calibrated_by_construction(pred),
    }
    k = len(band_names)
    model_codes = pd.Categorical(pred["band"], categories=band_names).codes.astype(int)
    codes = {name: model_codes for name in predictors}  # both rank as the model's margin
    codes["the oracle"] = oracle_band_codes(oracle, model_codes, k)
    children = pred["child_id"].to_numpy()
    child_codes = pd.factorize(pd.Series(children), sort=False)[0]
    shared = matched_sharing(y, oracle, child_codes, seed) if clustered else 0.0
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    results: dict[str, list[dict]] = {}
    correlation = []
    for i in range(draws):
        redrawn = redraw(rng, oracle, child_codes, shared)
        correlation.append(within_child_correlation(redrawn, oracle, child_codes))
        rows = target_draw(redrawn, predictors, oracle, children, codes, k, samples, seed + 1 + i)
        for name, row in rows.items():
            results.setdefault(name, []).append(row)
    lines = [
        f"targets over {draws} redraws ({samples} resamples of children each, "
        f"{time.perf_counter() - t0:.0f} s): share meeting [Wilson 95%]",
        f"within-child correlation of the residuals: real outcomes "
        f"{within_child_correlation(y, oracle, child_codes):.3f}; redraws {np.mean(correlation):.3f} "
        f"(children drawing together: {shared:.2f})",
    ]
    for name in ("the oracle", *predictors):
        r = results[name]
        slopes = np.array([x["slope_value"] for x in r])
        cells = [
            f"{t} {_share([x[t] for x in r])}"
            for t in ("ece", "intercept", "slope", "line", "bands", "all")
        ]
        lines.append(
            f"{name}: " + "; ".join(cells) + f"; slope mean {np.nanmean(slopes):.3f} "
            f"(95% of draws {np.nanpercentile(slopes, 2.5):.3f} to "
            f"{np.nanpercentile(slopes, 97.5):.3f})"
        )
    return lines


def report(
    pred: pd.DataFrame, band_names: list[str], samples: int, seed: int, oracle_line: bool = False
) -> list[str]:
    """Pooled (or one fold's) calibration lines; with ``oracle_line``, last, the oracle's own
    line on the same rows (from the same resamples)."""
    from frontdoor.models.stats import calibration_summary

    s = calibration_summary(
        pred["y"].to_numpy(float),
        pred["probability"].to_numpy(float),
        pred["oracle_probability"].to_numpy(float),
        pred["child_id"].to_numpy(),
        samples=samples,
        seed=seed,
    )
    lines = [
        f"ECE model {_fmt(s['ece'], s['ece_ci'])}; oracle {_fmt(s['oracle_ece'], s['oracle_ece_ci'])}; "
        f"model - oracle {_fmt(s['ece_excess'], s['ece_excess_ci'])}; truth ECE "
        f"{truth_ece(pred['probability'].to_numpy(float), pred['oracle_probability'].to_numpy(float)):.3f}",
        f"intercept {_fmt(s['intercept'], s['intercept_ci'])}; slope {_fmt(s['slope'], s['slope_ci'])}; "
        f"mean predicted {pred['probability'].mean():.3f}, observed {pred['y'].mean():.3f}",
    ]
    lines += paired_lines(s)
    rates = pred.groupby("band")["y"].agg(["mean", "size"]).reindex(band_names)
    cells = [f"{b} {r['mean']:.3f} (n={int(r['size'])})" for b, r in rates.iterrows()]
    rising = bool(np.all(np.diff(rates["mean"].to_numpy()) > 0))
    lines.append("observed by band: " + "; ".join(cells) + f"; strictly rising: {rising}")
    if oracle_line:
        lines.append(
            f"the oracle's own line: intercept {_fmt(s['oracle_intercept'], s['oracle_intercept_ci'])}; "
            f"slope {_fmt(s['oracle_slope'], s['oracle_slope_ci'])}"
        )
    return lines


def auc_lines(result) -> list[str]:
    m = result.metrics
    auc = m[m.metric == "auc"]
    lines = []
    for fold in [*sorted(set(auc.fold) - {"overall"}), "overall"]:
        rows = auc[auc.fold == fold].set_index("scorer")
        cells = [
            f"{s} {_fmt(rows.loc[s].value, (rows.loc[s].ci_low, rows.loc[s].ci_high))}"
            for s in ("lightgbm", "logistic", "oracle", "gap:lightgbm")
            if s in rows.index
        ]
        n = (
            len(result.predictions)
            if fold == "overall"
            else len(result.folds[int(fold)].predictions)
        )
        lines.append(f"AUC fold {fold} (n={n}): " + "; ".join(cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--labels", nargs="*", default=None)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--floor", type=int, default=0, help="outcome redraws for the noise floor")
    parser.add_argument(
        "--targets", type=int, default=0, help="outcome redraws for issue 15's targets' odds"
    )
    parser.add_argument(
        "--clustered",
        action="store_true",
        help="--targets' redraws keep the real outcomes' within-child correlation",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="the council's seed (one cache each)"
    )
    args = parser.parse_args()

    from benchmarks.oracle_gap import council_table

    table, settings = council_table(args.children, args.cache, seed=args.seed)
    for label in args.labels or settings.models.labels:
        for line in base_rate_lines(table, label, settings):
            print(f"  {label} {line}")
        current = None
        for variant in args.variants:
            t0 = time.perf_counter()
            result = _run(table, label, settings, variant)
            pred = result.predictions
            print(f"\n== {label}, {variant} ({time.perf_counter() - t0:.0f} s)")
            for line in auc_lines(result):
                print(f"  {line}")
            if variant == "current":
                current = pred
            elif current is not None:
                for line in difference_lines(current, pred, args.bootstrap, settings.models.seed):
                    print(f"  {line}")
            bands = list(settings.models.band_names)
            seed = settings.models.seed
            own = current is pred or variant == args.variants[0]
            for line in report(pred, bands, args.bootstrap, seed, oracle_line=own):
                print(f"  pooled: {line}")
            if args.floor:
                for line in floor_lines(pred, args.floor, seed):
                    print(f"  floor: {line}")
            if args.targets:
                for line in target_lines(
                    pred, bands, args.targets, args.bootstrap, seed, args.clustered
                ):
                    print(f"  targets: {line}")
            for fold, part in pred.groupby("fold"):
                for line in report(part, bands, args.bootstrap, seed + int(fold)):
                    print(f"  fold {fold}: {line}")


if __name__ == "__main__":
    main()
