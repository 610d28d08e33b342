"""Train and register: the one call the CLI and the pipelines make per label."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from frontdoor.models.tracking import RunRecord, log_run
from frontdoor.models.train import Backtest, backtest
from frontdoor.settings import Settings


def train_and_register(
    table: pd.DataFrame,
    label: str,
    settings: Settings,
    source: str | Path | None = None,
    run_name: str | None = None,
) -> tuple[Backtest, RunRecord]:
    """Backtest both models on every fold, then log the run and register the model version."""
    result = backtest(table, label, settings)
    record = log_run(
        result, table, settings, source=str(source) if source else None, run_name=run_name
    )
    return result, record
