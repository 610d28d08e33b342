"""The gap to the oracle decomposed, and the learning curve (issue 15), on a real small
synthetic council: the same protocol and test rows as the backtest, logged to MLflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from frontdoor.models.oracle_gap import (
    ARTIFACTS,
    decompose,
    enough_history,
    latent_at_decisions,
    learning_curve,
    log_oracle_gap,
)
from frontdoor.settings.base import merge_section

pytestmark = pytest.mark.slow
SIZES = (0.25, 0.5, 1.0)


@pytest.fixture(scope="module")
def states(shared_council, tmp_path_factory):
    council = shared_council
    return latent_at_decisions(
        council.features, council.settings, tmp_path_factory.mktemp("latent")
    )


def test_the_curve_at_full_history_is_the_backtest_on_the_same_test_rows(shared_model):
    council, result = shared_model.council, shared_model.result
    curve = learning_curve(council.features, shared_model.label, council.settings, sizes=SIZES)
    assert list(curve["fraction"]) == list(SIZES)
    # every size is scored on the backtest's own pooled test rows
    assert (curve["test_decisions"] == len(result.predictions)).all()
    assert curve["decisions"].is_monotonic_increasing
    assert curve["decisions"].iloc[0] < 0.4 * curve["decisions"].iloc[-1]
    # at the council's full history the curve's model is the backtest's model, exactly
    assert curve["model_auc"].iloc[-1] == pytest.approx(
        result.metric("lightgbm", "auc")["value"], abs=1e-12
    )
    assert curve["oracle_auc"].nunique() == 1
    assert (curve["model_auc_low"] <= curve["model_auc"]).all()
    assert (curve["model_auc"] <= curve["model_auc_high"]).all()
    gains = curve["model_auc"].diff().iloc[1:]
    assert np.allclose(curve["gain"].iloc[1:], gains)
    assert (
        ((curve["gain_low"] <= curve["gain"]) & (curve["gain"] <= curve["gain_high"]))
        .iloc[1:]
        .all()
    )
    assert curve["oracle_auc"].iloc[0] == pytest.approx(
        result.metric("oracle", "auc")["value"], abs=1e-12
    )


def test_the_state_is_the_generators_and_a_wrong_key_is_refused(shared_council, states, tmp_path):
    table = shared_council.features
    truth = table["truth_escalation_12m"]
    # the oracle rises with the number of true concerns: the state belongs to these children
    rho = pd.Series(truth).corr(states["state_n_concerns"], method="spearman")
    assert rho > 0.3
    shuffled = states["state_n_concerns"].sample(frac=1, random_state=0).to_numpy()
    assert abs(pd.Series(truth).corr(pd.Series(shuffled, index=truth.index), "spearman")) < 0.1
    settings = shared_council.settings
    other = settings.model_copy(
        update={
            "privacy": merge_section(
                settings.privacy, pseudonym_key="another-key-0123456789-0123456789"
            )
        }
    )
    with pytest.raises(ValueError, match="not in the generator's population"):
        latent_at_decisions(table, other, tmp_path)


def test_the_decomposition_is_on_the_backtests_rows_and_logged(shared_model, states):
    council, result = shared_model.council, shared_model.result
    gap = decompose(council.features, shared_model.label, council.settings, states, sizes=SIZES)
    d = gap.decomposition.set_index("component")
    assert list(d.index) == ["oracle", "ceiling", "floor", "model"]
    assert d.loc["model", "auc"] == pytest.approx(result.metric("lightgbm", "auc")["value"])
    assert d.loc["oracle", "auc"] == pytest.approx(result.metric("oracle", "auc")["value"])
    for c in ("ceiling", "floor", "model"):
        assert d.loc[c, "gap"] == pytest.approx(d.loc["oracle", "auc"] - d.loc[c, "auc"])
        assert d.loc[c, "gap_low"] <= d.loc[c, "gap"] <= d.loc[c, "gap_high"]
        assert d.loc[c, "auc_low"] <= d.loc[c, "auc"] <= d.loc[c, "auc_high"]
    # the floor is given perfect information: it beats the model that has only the records
    assert d.loc["floor", "auc"] > d.loc["model", "auc"]
    m = gap.metrics()
    assert m["oracle_gap/total"] == pytest.approx(
        m["oracle_gap/missing_information"] + m["oracle_gap/too_little_data"]
    )
    assert gap.curve["floor_auc"].notna().all()

    from frontdoor.models.tracking import client

    logged = log_oracle_gap(council.settings, shared_model.record.run_id, gap)
    run = client(council.settings).get_run(shared_model.record.run_id)
    for key, value in logged.items():
        assert run.data.metrics[key] == pytest.approx(value)
    names = {
        a.path
        for folder in ("oracle_gap",)
        for a in client(council.settings).list_artifacts(run.info.run_id, folder)
    }
    assert set(ARTIFACTS.values()) <= names


def test_the_sentence_tells_a_council_whether_it_has_enough_history():
    def curve(aucs, gain_low, gain_high):
        return pd.DataFrame(
            {
                "fraction": [0.25, 0.5, 1],
                "decisions": [500, 1000, 2000],
                "model_auc": aucs,
                "gain": [np.nan, aucs[1] - aucs[0], aucs[2] - aucs[1]],
                "gain_low": [np.nan, 0.0, gain_low],
                "gain_high": [np.nan, 0.0, gain_high],
            }
        )

    rising = curve([0.6, 0.64, 0.68], 0.015, 0.065)
    flat = curve([0.66, 0.675, 0.68], -0.004, 0.008)
    noisy = curve([0.66, 0.72, 0.69], -0.07, 0.01)
    falling = curve([0.66, 0.72, 0.69], -0.058, -0.010)
    assert "more history does not help" in enough_history(falling, 0.52)
    assert enough_history(rising, 0.52).startswith("Enough history")
    assert "still learning" in enough_history(rising, 0.52)
    assert "would change little" in enough_history(flat, 0.52)
    assert "too small to tell" in enough_history(noisy, 0.52)  # a fall inside the noise
    assert enough_history(flat, 0.67).startswith("Not enough history")
    assert "2,000 training decisions" in enough_history(flat, 0.52)
