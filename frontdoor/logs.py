"""Where output goes: a person sees progress, results and where to look next; what libraries
say (Prefect, Dask, MLflow, alembic, Python warnings) goes to the log file
(``pipelines.log_file``), and ``frontdoor --verbose`` shows it on the terminal as well.

The causes that were ours are fixed where they arise (the dataset's source, the logged schema,
the SHAP call); this module routes the rest.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from frontdoor.settings import Settings

LINE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_MARK = "_frontdoor_handler"


class _RunFormatter(logging.Formatter):
    """Lines that say which flow or task run spoke (Prefect puts the names on the record)."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        run = getattr(record, "task_run_name", None) or getattr(record, "flow_run_name", None)
        return line.replace(": ", f": [{run}] ", 1) if run else line


def log_file(settings: Settings) -> Path:
    return settings.resolve(settings.pipelines.log_file)


def library_environment(verbose: bool) -> dict[str, str]:
    """Environment for this process and those it starts (Dask workers, the Prefect server):
    MLflow's loggers go through the root logger here, and its download bars only when asked."""
    return {
        "MLFLOW_CONFIGURE_LOGGING": "false",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "true" if verbose else "false",
    }


def route_output(settings: Settings, verbose: bool = False) -> Path:
    """Send library logging and warnings to the log file (and to stderr when ``verbose``).
    Call before the libraries are imported: Prefect and MLflow then keep this configuration.
    Returns the log file."""
    os.environ.update(library_environment(verbose))
    path = log_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
        handler.close()
    handlers: list[logging.Handler] = [logging.FileHandler(path, encoding="utf-8")]
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(_RunFormatter(LINE_FORMAT))
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("sqlalchemy.engine", "httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)  # Python warnings become log records (py.warnings)
    return path


@contextmanager
def stderr_to_log(settings: Settings, verbose: bool = False) -> Iterator[Path]:
    """While a flow runs, whatever is written to stderr by this process or a process it starts
    (Dask workers, the Prefect server, progress bars, libraries' prints) goes to the log file.
    The progress display writes to stdout and is unaffected. Nothing changes when ``verbose``."""
    path = log_file(settings)
    if verbose:
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as target:
        os.dup2(target.fileno(), 2)
        try:
            yield path
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
