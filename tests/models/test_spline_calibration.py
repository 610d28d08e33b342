"""The monotone linear-spline calibrator (``models.calibration_method="spline"``): strictly
increasing in the margin, recovers a known non-logistic miscalibration that Platt cannot, and
depends only on the margins and outcomes (not on their order, so not on the pseudonym key)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import clone

from frontdoor.models.calibration import MarginCalibrator, spline_basis


def true_log_odds(m: np.ndarray) -> np.ndarray:
    # steep over the lowest third of the margins, flat above it: the default council's shape
    return np.where(m < -0.43, -0.6 + 2.5 * (m + 0.43), -0.6 + 0.4 * (m + 0.43))


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(11)
    m = rng.normal(size=40_000)
    y = (rng.random(len(m)) < expit(true_log_odds(m))).astype(int)
    return m, y


def test_the_spline_recovers_a_known_miscalibration_that_platt_cannot(sample):
    m, y = sample
    grid = np.quantile(m, np.linspace(0.02, 0.98, 49))
    truth = expit(true_log_odds(grid))
    spline = MarginCalibrator("spline", knots=2).fit(m, y)
    platt = MarginCalibrator("sigmoid").fit(m, y)
    spline_error = np.abs(spline.predict(grid) - truth).max()
    platt_error = np.abs(platt.predict(grid) - truth).max()
    assert spline_error < 0.03
    assert platt_error > 2 * spline_error
    # the knots sit at the margins' terciles, and the segments' slopes follow the truth's
    assert spline.knots_ == pytest.approx(np.quantile(m, [1 / 3, 2 / 3]))
    assert spline.coef_[1] == pytest.approx(2.5, abs=0.3)
    assert spline.coef_[-1] == pytest.approx(0.4, abs=0.15)


def test_the_spline_is_strictly_increasing_even_where_the_outcomes_are_not(sample):
    m, y = sample
    rng = np.random.default_rng(5)
    # outcomes that fall with the margin over its upper half: the map may flatten, never fall
    y_bad = np.where(m > 0, (rng.random(len(m)) < expit(-2.0 * m)).astype(int), y)
    cal = MarginCalibrator("spline", knots=3, min_slope=1e-3).fit(m, y_bad)
    p = cal.predict(np.linspace(m.min(), m.max(), 2_001))
    assert np.all(np.diff(p) > 0)
    assert np.all(cal.coef_[1:] >= 1e-3 - 1e-12)
    far = cal.predict(np.array([-1e3, 1e3]))  # kept off 0 and 1 however far it extrapolates
    assert far[0] >= 1e-6 and far[1] <= 1 - 1e-6


def test_the_spline_depends_on_the_margins_and_outcomes_not_their_order(sample):
    m, y = sample[0][:3_000], sample[1][:3_000]
    order = np.random.default_rng(2).permutation(len(m))
    a = MarginCalibrator("spline").fit(m, y)
    b = clone(a).fit(m[order], y[order])
    grid = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(a.predict(grid), b.predict(grid), rtol=0, atol=1e-6)


def test_the_basis_is_piecewise_linear_and_continuous():
    knots = np.array([-1.0, 0.5])
    m = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    X = spline_basis(m, knots)
    np.testing.assert_allclose(X[:, 1], [-2.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_allclose(X[:, 2], [0.0, 0.0, 1.0, 1.5, 1.5])
    np.testing.assert_allclose(X[:, 3], [0.0, 0.0, 0.0, 0.0, 1.5])


def test_the_spline_follows_scikit_learn_conventions_and_refuses_bad_settings():
    cal = MarginCalibrator("spline", knots=0)
    assert cal.get_params() == {"method": "spline", "knots": 0, "min_slope": 1e-3}
    assert not hasattr(cal, "coef_")
    with pytest.raises(ValueError, match="knots >= 1"):
        cal.fit([0.0, 1.0, 2.0, 3.0], [0, 1, 0, 1])
    with pytest.raises(ValueError, match="too few distinct"):
        MarginCalibrator("spline", knots=2).fit([0.0, 0.0, 0.0, 0.0, 1.0], [0, 1, 0, 1, 1])


def test_a_weighted_spline_fit_equals_the_fit_on_repeated_rows(sample):
    # fit_spline's sample weights (the fourth session's recency-weighted samples): a weight of
    # 3 on a row is the same likelihood as the row three times; weights that ignore the older
    # half move the fit to the newer half's map
    from frontdoor.models.calibration import fit_spline

    m, y = sample[0][:4_000], sample[1][:4_000].astype(float)
    knots = np.quantile(m, [1 / 3, 2 / 3])
    w = np.where(np.arange(len(m)) % 4 == 0, 3.0, 1.0)
    repeated = np.r_[np.arange(len(m)), np.flatnonzero(w == 3.0), np.flatnonzero(w == 3.0)]
    weighted = fit_spline(m, y, knots, 1e-3, sample_weight=w)
    plain = fit_spline(m[repeated], y[repeated], knots, 1e-3)
    assert weighted == pytest.approx(plain, abs=2e-3)
    assert fit_spline(m, y, knots, 1e-3) != pytest.approx(plain, abs=2e-3)
    newer_only = np.r_[np.zeros(2_000), np.ones(2_000)]
    flipped = np.r_[1.0 - y[:2_000], y[2_000:]]
    assert fit_spline(m, flipped, knots, 1e-3, sample_weight=newer_only) == pytest.approx(
        fit_spline(m[2_000:], y[2_000:], knots, 1e-3), abs=2e-3
    )
