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


def margins(table: pd.DataFrame, settings) -> pd.DataFrame:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()

    from benchmarks.oracle_gap import council_table

    table, settings = council_table(args.children, args.cache, seed=args.seed)
    df = margins(table, settings)
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
