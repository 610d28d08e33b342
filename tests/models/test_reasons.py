"""Reasons never contradict their feature's declared direction; stored reasons are strict JSON;
the same records give the same model and metrics whatever the pseudonym key."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import make_settings

from frontdoor.models import declared
from frontdoor.models.train import backtest
from frontdoor.records.pseudonymise import pseudonymise_series
from frontdoor.records.scores import reasons_from_json

pytestmark = pytest.mark.slow

SMALL = {"bootstrap_samples": 30, "lightgbm": {"n_estimators": 60}, "explain_sample": 300}


def _strict(text: str):
    def refuse(constant: str):
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def contradictions(model, rows: pd.DataFrame) -> tuple[int, int]:
    """(reasons contradicting their feature's declared direction, reasons with a direction).

    A reason contradicts when its contribution's sign is not the declared direction times the
    sign of the value against the model's reference value: "8 contacts: lowers" when 8 is above
    the reference of a feature declared "more never lowers the risk". A "days since" value that
    is missing means never: longer ago than any reference."""
    reference = dict(zip(model.feature_names, model.estimator.base.reference_values(), strict=True))
    bad = total = 0
    for text in model.score_frame(rows)["reasons_json"]:
        for r in reasons_from_json(text):
            d = declared.monotone(r.feature)
            if d == 0:
                continue
            value = r.value
            if value is None:
                if not declared.missing_means_never(r.feature):
                    continue  # filled from training; "not recorded" claims no direction
                value = np.inf
            total += 1
            if d * r.contribution * (value - reference[r.feature]) < 0:
                bad += 1
    return bad, total


@pytest.fixture(scope="module")
def result(toy_table, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("reasons"), models=SMALL)
    return backtest(toy_table, "escalation_12m", settings)


def test_no_reason_of_either_model_contradicts_its_declared_direction(result, toy_table):
    """Every reason of the backtest: both models of every fold on that fold's test rows, and the
    deployed model on the newest test window."""
    checked = 0
    for fold in result.folds:
        ids = result.predictions.loc[result.predictions.fold == fold.fold.fold, "decision_id"]
        rows = toy_table[toy_table["decision_id"].isin(ids)]
        for kind, model in fold.models.items():
            bad, total = contradictions(model, rows)
            assert bad == 0, f"{kind}, fold {fold.fold.fold}: {bad} of {total} reasons contradict"
            checked += total
    bad, total = contradictions(result.deployed, result.explain_rows)
    assert bad == 0 and total > 0
    assert checked > 1000


def test_scorecard_coefficients_keep_their_declared_sign(result):
    for fold in result.folds:
        card = fold.models["logistic"].estimator.base.scorecard()
        signs = card["feature"].map(declared.monotone)
        assert (card["coef_per_sd"] * signs >= 0).all()


def test_the_unconstrained_scorecard_would_contradict(toy_table, tmp_path):
    """The check above can fail: without sign constraints the collinear windows give reasons
    that contradict (what issue 15 found on the default council)."""
    settings = make_settings(tmp_path, models={**SMALL, "logistic": {"sign_constrained": False}})
    loose = backtest(toy_table, "escalation_12m", settings)
    bad, total = contradictions(loose.folds[-1].models["logistic"], loose.explain_rows)
    assert bad > 0 and total > 0


def test_stored_reasons_are_strict_json(result):
    rows = result.explain_rows
    assert rows.filter(like="days_since").isna().any().any()  # missing values are in play
    texts = list(result.deployed.score_frame(rows)["reasons_json"])
    texts += list(result.folds[-1].models["logistic"].score_frame(rows)["reasons_json"])
    for text in texts:
        parsed = _strict(text)
        assert parsed and all(r["direction"] in ("raises", "lowers") for r in parsed)
    with pytest.raises(ValueError, match="not strict JSON"):
        _strict('[{"value": NaN}]')


def _rekeyed(table: pd.DataFrame, key: bytes) -> pd.DataFrame:
    out = table.copy()
    for column in ("decision_id", "child_id"):
        out[column] = pseudonymise_series(key, out[column], namespace=column).to_numpy()
    return out.sample(frac=1.0, random_state=len(key))


def test_the_same_records_under_two_keys_give_identical_metrics(toy_table, tmp_path):
    settings = make_settings(tmp_path, models=SMALL)
    first = backtest(_rekeyed(toy_table, b"k" * 32), "rereferral_12m", settings)
    second = backtest(
        _rekeyed(toy_table, b"another-key-0123456789abcdefghij"), "rereferral_12m", settings
    )
    assert not set(first.predictions["child_id"]) & set(second.predictions["child_id"])
    pd.testing.assert_frame_equal(first.metrics, second.metrics)
    np.testing.assert_array_equal(
        first.predictions["probability"], second.predictions["probability"]
    )
