"""Benchmark: which map from margin to probability, fitted on which sample? (issue 15, third session)

Fits LightGBM once per label and fold of the default council (as ``models.train`` does: the same
rows, order, encoder and settings), keeps its margins on the training window (in-sample and
cross-fitted by child, ``models.train.cross_fitted_margins``), the calibration window and the
test window, and then tries many calibrators on those margins without refitting the model:

- maps: ``platt`` (the line), ``beta`` (beta calibration: a ln p - b ln(1 - p) + c, a, b >= 0),
  ``quadratic`` (a line plus a square in the margin), ``spline1..3`` (the monotone linear spline,
  ``MarginCalibrator("spline", knots=k)``), ``isotonic``, and two with a second input, the
  decision's visible-history length h in years (days since the extract's first decision):
  ``platt+h`` (a + b m + c h) and ``platt*h`` (a + b m + c h + d m h);
- samples: ``window`` (the calibration window), ``cf`` (+ every cross-fitted training margin),
  ``cf12`` and ``cf6`` (+ only the newest 12 or 6 months of them).

Prints per label, pooled over the test folds: ECE and the oracle's ECE on the same rows, the
excess, the ECE against the oracle's probabilities ("truth ECE": the calibration error itself,
free of the outcomes' noise), the calibration line on the outcomes and (noise-free) on the
oracle's probabilities, mean predicted and observed, and the excess per fold. Then the same maps
fitted to the oracle's probabilities instead of outcomes ("oracle-fitted": what each map and
sample could do with unlimited outcomes), including on the test rows themselves (the best a map
of that shape can do). Run:

    PYTHONPATH=. .venv/bin/python benchmarks/calibration_maps.py --cache DIR [--seed S]

With ``--fourth [NAME ...]`` (fourth session) it prints instead the designs of ``DESIGNS``: the
spline on samples weighted by recency (half-lives in months, ages counted back from the newest
calibration decision), on margins cross-fitted in 10 or 20 parts (``--extra-folds 10 20``), a
time-varying spline (intercept and slopes linear in the decision date, evaluated at the sample's
newest date or extrapolated to the test window's middle) and two-stage maps (the spline's shape
from a large sample, then an intercept and slope on its log-odds from the newest sample); per
label, pooled: excess ECE (equal-width and equal-mass bins), truth ECE, the slope on the
outcomes and minus the oracle's on the same rows, the line on the oracle's probabilities, the
slope per fold, and the same design fitted to the oracle's probabilities. ``--margins FILE``
keeps the fitted margins (read when the file exists), so the designs can be rerun without
fitting a model:

    PYTHONPATH=. .venv/bin/python benchmarks/calibration_maps.py --cache DIR [--seed S] \
        --margins FILE --extra-folds 10 20 --fourth

No intervals (``benchmarks/calibration.py`` prints them for the candidates kept); no timing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

MAPS = (
    "platt",
    "beta",
    "quadratic",
    "spline1",
    "spline2",
    "spline3",
    "isotonic",
    "platt+h",
    "platt*h",
)
SAMPLES = ("window", "cf", "cf12", "cf6")


def margins(table: pd.DataFrame, settings, extra_folds: tuple[int, ...] = ()) -> pd.DataFrame:
    """One row per decision of every label, fold and window (train, calibration, test): the
    margin (on the training window: cross-fitted, ``models.calibration_folds`` parts; and with
    ``extra_folds``, also cross-fitted with each of those numbers of parts, ``margin_cfK``)."""
    from frontdoor.models.encoding import InputEncoder
    from frontdoor.models.train import (
        cross_fitted_margins,
        make_estimator,
        training_data,
        truth_column,
    )

    first = pd.to_datetime(table["decision_date"]).min()
    parts = []
    for label in settings.models.labels:
        data = training_data(table, label, settings)
        for fold in data.folds:
            masks = fold.masks(data.rows["decision_date"])
            train, cal, test = (data.rows[masks[w]] for w in ("train", "calibration", "test"))
            encoder = InputEncoder().fit(train[data.columns])
            X, y = encoder.transform(train[data.columns]), train[label].astype(int)
            base = make_estimator("lightgbm", settings).fit(X, y)
            cf, _ = cross_fitted_margins("lightgbm", X, y, train["child_id"], settings)
            more = {}
            for k in extra_folds:
                other = settings.model_copy(
                    update={"models": settings.models.model_copy(update={"calibration_folds": k})}
                )
                more[k] = cross_fitted_margins("lightgbm", X, y, train["child_id"], other)[0]
            for window, part, m in (
                ("train", train, cf),
                ("calibration", cal, base.decision_function(encoder.transform(cal[data.columns]))),
                ("test", test, base.decision_function(encoder.transform(test[data.columns]))),
            ):
                dates = pd.to_datetime(part["decision_date"])
                parts.append(
                    pd.DataFrame(
                        {
                            "label": label,
                            "fold": fold.fold,
                            "window": window,
                            "margin": m,
                            "y": part[label].astype(float).to_numpy(),
                            "oracle": part[truth_column(label)].astype(float).to_numpy(),
                            "date": dates.to_numpy(),
                            "h": ((dates - first).dt.days / 365.25).to_numpy(),
                            "child_id": part["child_id"].astype(str).to_numpy(),
                            **{
                                f"margin_cf{k}": v if window == "train" else m
                                for k, v in more.items()
                            },
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)


def _design(name: str, m: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, list]:
    one = np.ones_like(m)
    if name == "platt":
        return np.column_stack([one, m]), [(None, None)] * 2
    if name == "beta":  # ln p and -ln(1 - p) of p = sigmoid(m), both with weights >= 0
        X = np.column_stack([one, -np.logaddexp(0, -m), np.logaddexp(0, m)])
        return X, [(None, None), (0, None), (0, None)]
    if name == "quadratic":
        return np.column_stack([one, m, m**2]), [(None, None)] * 3
    if name == "platt+h":
        return np.column_stack([one, m, h]), [(None, None)] * 3
    if name == "platt*h":
        return np.column_stack([one, m, h, m * h]), [(None, None)] * 4
    raise ValueError(name)


def _soft_fit(X: np.ndarray, target: np.ndarray, bounds) -> np.ndarray:
    """Maximum likelihood for outcomes, or for probabilities as soft targets."""

    def loss(b):
        z = X @ b
        return float(np.sum(np.logaddexp(0, z) - target * z)), X.T @ (expit(z) - target)

    return minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B", bounds=bounds).x


def fit_predict(name, m, target, h, m_test, h_test) -> np.ndarray:
    from sklearn.isotonic import IsotonicRegression

    from frontdoor.models.calibration import fit_spline, spline_basis

    if name == "isotonic":
        iso = IsotonicRegression(y_min=1e-6, y_max=1 - 1e-6, out_of_bounds="clip")
        return iso.fit(m, target).predict(m_test)
    if name.startswith("spline"):
        k = int(name[-1])
        knots = np.quantile(m, np.linspace(0, 1, k + 2)[1:-1])
        return expit(spline_basis(m_test, knots) @ fit_spline(m, target, knots, 1e-3))
    X, bounds = _design(name, m, h)
    return expit(_design(name, m_test, h_test)[0] @ _soft_fit(X, target, bounds))


def sample_rows(g: pd.DataFrame, sample: str) -> pd.DataFrame:
    cal = g[g.window == "calibration"]
    if sample == "window":
        return cal
    train = g[g.window == "train"]
    if sample != "cf":
        newest = train.date.max() - pd.DateOffset(months=int(sample[2:]))
        train = train[train.date >= newest]
    return pd.concat([train, cal])


def truth_ece(p: np.ndarray, oracle: np.ndarray, bins: int = 10) -> float:
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return float(np.abs(np.bincount(idx, weights=p - oracle, minlength=bins)).sum() / len(p))


def line_on(target: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    p = np.clip(p, 1e-6, 1 - 1e-6)  # the oracle's probabilities can be exactly 0 or 1
    z = np.log(p / (1 - p))
    a, b = _soft_fit(np.column_stack([np.ones_like(z), z]), target, [(None, None)] * 2)
    return float(a), float(b)


def evaluate(d: pd.DataFrame, name: str, sample: str, on: str) -> dict:
    from frontdoor.models.stats import expected_calibration_error as ece

    parts = []
    for _, g in d.groupby("fold"):
        test = g[g.window == "test"]
        src = test if sample == "test" else sample_rows(g, sample)
        p = fit_predict(
            name,
            src.margin.to_numpy(),
            src[on].to_numpy(),
            src.h.to_numpy(),
            test.margin.to_numpy(),
            test.h.to_numpy(),
        )
        parts.append(test.assign(p=np.clip(p, 1e-6, 1 - 1e-6)))
    t = pd.concat(parts)
    y, p, o = t.y.to_numpy(), t.p.to_numpy(), t.oracle.to_numpy()
    per_fold = [
        ece(f.y.to_numpy(), f.p.to_numpy()) - ece(f.y.to_numpy(), f.oracle.to_numpy())
        for _, f in t.groupby("fold")
    ]
    return {
        "ece": ece(y, p),
        "oracle_ece": ece(y, o),
        "excess": ece(y, p) - ece(y, o),
        "truth_ece": truth_ece(p, o),
        "line_y": line_on(y, p),
        "line_oracle": line_on(o, p),
        "mean": (p.mean(), y.mean()),
        "per_fold": per_fold,
    }


# Fourth session: designs of the calibration sample and map (``--fourth``). Each is a function
# (fold's rows, target column) -> the test window's probabilities.
DAYS_PER_MONTH = 365.25 / 12


def _weighted_knots(m: np.ndarray, w: np.ndarray, k: int = 2) -> np.ndarray:
    order = np.argsort(m)
    mass = np.cumsum(w[order]) / w.sum()
    return np.interp(np.linspace(0, 1, k + 2)[1:-1], mass, m[order])


def _sample(g: pd.DataFrame, history: int | None, column: str = "margin") -> pd.DataFrame:
    """The calibration window plus the training window's cross-fitted margins (``column``:
    ``margin`` for 5 parts, ``margin_cf10`` for 10) of its newest ``history`` months (None:
    all), with each row's age in months before the newest calibration decision."""
    out = sample_rows(g, "cf" if history is None else f"cf{history}")
    out = out.assign(m=out[column].to_numpy() if column in out else out["margin"].to_numpy())
    end = g[g.window == "calibration"].date.max()
    return out.assign(age=(end - out.date).dt.days.to_numpy() / DAYS_PER_MONTH)


def _spline(src: pd.DataFrame, on: str, w: np.ndarray | None = None):
    """The monotone 2-knot spline (knots at the weighted equal-mass quantiles), as a function
    margin -> log-odds."""
    from frontdoor.models.calibration import fit_spline, spline_basis

    m = src.m.to_numpy()
    w = np.ones(len(m)) if w is None else w
    knots = _weighted_knots(m, w)
    coef = fit_spline(m, src[on].to_numpy(), knots, 1e-3, sample_weight=w)
    return lambda x: spline_basis(x, knots) @ coef


def _test(g: pd.DataFrame) -> pd.DataFrame:
    return g[g.window == "test"]


def design_spline(history, column="margin", half_life=None):
    def predict(g, on):
        src = _sample(g, history, column)
        w = None if half_life is None else 0.5 ** (src.age.to_numpy() / half_life)
        return expit(_spline(src, on, w)(_test(g).margin.to_numpy()))

    return predict


def design_time_varying(at: str, history=None):
    """The spline's intercept and slopes linear in the decision date: a convex combination of
    two splines (the sample's oldest date and its newest), both with slopes >= 1e-3, so the map
    is monotone at every date in between; evaluated at the newest (``end``) or extrapolated to
    the test window's middle (``test``)."""
    from frontdoor.models.calibration import spline_basis

    def predict(g, on):
        src = _sample(g, history)
        m = src.m.to_numpy()
        knots = np.quantile(m, [1 / 3, 2 / 3])
        t0, t1 = src.date.min(), src.date.max()
        frac = ((src.date - t0) / (t1 - t0)).to_numpy()
        B = spline_basis(m, knots)
        X = np.column_stack([B * (1 - frac)[:, None], B * frac[:, None]])
        bounds = ([(None, None)] + [(1e-3, None)] * (B.shape[1] - 1)) * 2
        coef = _soft_fit(X, src[on].to_numpy(), bounds)
        test = _test(g)
        f = 1.0 if at == "end" else float((test.date.mean() - t0) / (t1 - t0))
        Bt = spline_basis(test.margin.to_numpy(), knots)
        return expit(np.column_stack([Bt * (1 - f), Bt * f]) @ coef)

    return predict


def design_two_stage(shape_history=None, shape_half_life=None, recal_history=0):
    """The spline's shape from the larger sample, then a logistic recalibration (intercept and
    slope on the spline's log-odds) on the newest sample: the calibration window alone
    (``recal_history=0``) or with the newest cross-fitted months."""

    def predict(g, on):
        src = _sample(g, shape_history)
        w = None if shape_half_life is None else 0.5 ** (src.age.to_numpy() / shape_half_life)
        shape = _spline(src, on, w)
        new = g[g.window == "calibration"] if recal_history == 0 else _sample(g, recal_history)
        z = shape(new.margin.to_numpy())
        a, b = _soft_fit(
            np.column_stack([np.ones_like(z), z]), new[on].to_numpy(), [(None, None)] * 2
        )
        return expit(a + b * shape(_test(g).margin.to_numpy()))

    return predict


DESIGNS = {
    "window": lambda g, on: expit(
        _spline(g[g.window == "calibration"].assign(m=lambda x: x.margin), on)(
            _test(g).margin.to_numpy()
        )
    ),
    "cf12 (default)": design_spline(12),
    "cf all": design_spline(None),
    "cf all, half-life 6": design_spline(None, half_life=6),
    "cf all, half-life 12": design_spline(None, half_life=12),
    "cf all, half-life 24": design_spline(None, half_life=24),
    "cf10 12": design_spline(12, "margin_cf10"),
    "cf10 all": design_spline(None, "margin_cf10"),
    "cf10 all, half-life 12": design_spline(None, "margin_cf10", half_life=12),
    "cf all, half-life 3": design_spline(None, half_life=3),
    "cf10 6": design_spline(6, "margin_cf10"),
    "cf10 all, half-life 6": design_spline(None, "margin_cf10", half_life=6),
    "cf20 12": design_spline(12, "margin_cf20"),
    "cf20 all, half-life 6": design_spline(None, "margin_cf20", half_life=6),
    "time-varying cf all, at end": design_time_varying("end"),
    "time-varying cf all, at test": design_time_varying("test"),
    "time-varying cf12, at end": design_time_varying("end", 12),
    "two-stage cf all -> window": design_two_stage(),
    "two-stage cf all -> cf12": design_two_stage(recal_history=12),
    "two-stage half-life 12 -> window": design_two_stage(shape_half_life=12),
    "two-stage cf12 -> window": design_two_stage(12),
}


def evaluate_design(d: pd.DataFrame, predict, on: str) -> dict:
    from frontdoor.models.stats import equal_mass_calibration_error as equal_mass_ece
    from frontdoor.models.stats import expected_calibration_error as ece

    t = pd.concat(
        [_test(g).assign(p=np.clip(predict(g, on), 1e-6, 1 - 1e-6)) for _, g in d.groupby("fold")]
    )
    y, p, o = t.y.to_numpy(), t.p.to_numpy(), t.oracle.to_numpy()
    return {
        "excess": ece(y, p) - ece(y, o),
        "mass_excess": equal_mass_ece(y, p) - equal_mass_ece(y, o),
        "truth_ece": truth_ece(p, o),
        "slope_y": line_on(y, p)[1],
        "slope_minus_oracle": line_on(y, p)[1] - line_on(y, o)[1],
        "line_oracle": line_on(o, p),
        "mean": p.mean(),
        "per_fold_slope": [
            line_on(f.y.to_numpy(), f.p.to_numpy())[1] for _, f in t.groupby("fold")
        ],
    }


def fourth_session(df: pd.DataFrame, names: list[str]) -> None:
    for label, d in df.groupby("label"):
        print(f"\n== {label}: designs fitted to outcomes (then to the oracle's probabilities)")
        for name in names:
            r, ro = (
                evaluate_design(d, DESIGNS[name], "y"),
                evaluate_design(d, DESIGNS[name], "oracle"),
            )
            print(
                f"  {name:34s} excess ECE {r['excess']:+.3f} (equal-mass {r['mass_excess']:+.3f}) "
                f"truth ECE {r['truth_ece']:.3f}; slope {r['slope_y']:.3f} (minus the oracle's "
                f"{r['slope_minus_oracle']:+.3f}); line on the oracle {r['line_oracle'][0]:+.3f} / "
                f"{r['line_oracle'][1]:.3f}; mean {r['mean']:.3f}; slope per fold "
                + " ".join(f"{x:.3f}" for x in r["per_fold_slope"])
                + f" | oracle-fitted: truth ECE {ro['truth_ece']:.3f}, line on the oracle "
                f"{ro['line_oracle'][0]:+.3f} / {ro['line_oracle'][1]:.3f}"
            )


def redraw_lines(df: pd.DataFrame, names: list[str], draws: int, seed: int = 0) -> None:
    """Each design fitted to calibration samples whose outcomes are redrawn ``draws`` times from
    the oracle's probabilities (training and calibration windows; the margins fixed): its line
    on the oracle's probabilities over the test rows, averaged over the redraws (the design's
    own bias, without the luck of one draw of calibration outcomes) and its spread."""
    for label, d in df.groupby("label"):
        fit_rows = d.window.isin(["train", "calibration"]).to_numpy()
        oracle = d.oracle.to_numpy()
        rng = np.random.default_rng(seed)
        redrawn = [rng.random(len(d)) < oracle for _ in range(draws)]
        for name in names:
            slopes, truth = [], []
            for y in redrawn:
                r = evaluate_design(d.assign(y=np.where(fit_rows, y, d.y)), DESIGNS[name], "y")
                slopes.append(r["line_oracle"][1])
                truth.append(r["truth_ece"])
            lo, hi = np.percentile(slopes, [2.5, 97.5])
            print(
                f"  {label} {name:34s} calibration outcomes redrawn {draws} times: line on the "
                f"oracle's slope mean {np.mean(slopes):.3f} (95% of draws {lo:.3f} to {hi:.3f}); "
                f"truth ECE mean {np.mean(truth):.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--margins",
        type=Path,
        default=None,
        help="parquet of the margins: read if it exists, else written",
    )
    parser.add_argument(
        "--extra-folds",
        type=int,
        nargs="*",
        default=[],
        help="also cross-fit with these numbers of parts",
    )
    parser.add_argument(
        "--fourth", nargs="*", default=None, help="the fourth session's designs (none named: all)"
    )
    parser.add_argument("--labels", nargs="*", default=None, help="only these labels")
    parser.add_argument(
        "--redraws", type=int, default=0, help="with --fourth: calibration outcomes redrawn"
    )
    parser.add_argument(
        "--only-margins", action="store_true", help="compute (and save) the margins, then stop"
    )
    args = parser.parse_args()

    if args.margins is not None and args.margins.exists():
        df = pd.read_parquet(args.margins)
    else:
        from benchmarks.oracle_gap import council_table

        table, settings = council_table(args.children, args.cache, seed=args.seed)
        df = margins(table, settings, tuple(args.extra_folds))
        if args.margins is not None:
            df.to_parquet(args.margins)
    if args.only_margins:
        return
    if args.labels:
        df = df[df.label.isin(args.labels)]
    if args.fourth is not None and args.redraws:
        redraw_lines(df, args.fourth or list(DESIGNS), args.redraws)
        return
    if args.fourth is not None:
        fourth_session(df, args.fourth or list(DESIGNS))
        return
    for label, d in df.groupby("label"):
        print(f"\n== {label}: fitted to outcomes")
        for name in MAPS:
            for sample in SAMPLES:
                if "h" in name and sample == "window":
                    continue  # h barely varies inside one 6-month window
                r = evaluate(d, name, sample, "y")
                print(
                    f"  {name:9s} {sample:6s} ECE {r['ece']:.3f} (oracle {r['oracle_ece']:.3f}) "
                    f"excess {r['excess']:+.3f} truth ECE {r['truth_ece']:.3f}; line on outcomes "
                    f"{r['line_y'][0]:+.3f} / {r['line_y'][1]:.3f}, on the oracle "
                    f"{r['line_oracle'][0]:+.3f} / {r['line_oracle'][1]:.3f}; mean {r['mean'][0]:.3f}"
                    f" / {r['mean'][1]:.3f}; excess per fold "
                    + " ".join(f"{x:+.3f}" for x in r["per_fold"])
                )
        print(f"== {label}: fitted to the oracle's probabilities (no outcome noise)")
        for name in ("platt", "beta", "spline2"):
            for sample in (*SAMPLES, "test"):
                r = evaluate(d, name, sample, "oracle")
                print(
                    f"  {name:9s} {sample:6s} truth ECE {r['truth_ece']:.3f}; line on the oracle "
                    f"{r['line_oracle'][0]:+.3f} / {r['line_oracle'][1]:.3f}"
                )


if __name__ == "__main__":
    main()
