"""How a plain function of a room becomes a Prefect task in frontdoor.

A step is a function ``fn(settings, **inputs) -> dict`` that reads and writes files (or MLflow)
and returns a small summary: ``{"outputs": {name: path}, ...counts and metrics...}``.

- Retries: only where I/O can fail (file systems, databases, MLflow over HTTP); a bad value in
  the data is not retried, it fails at once with its message.
- Caching: the cache key is a digest of the step's inputs (file and folder contents, the settings
  sections the step reads, the privacy key's hash) and of the step's source code. A re-run with
  the same inputs skips the step. A cached result is trusted only while the files it produced
  are still on disk, byte for byte; otherwise the step runs again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import Task, task
from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy
from prefect.context import TaskRunContext
from prefect.states import State
from pydantic import BaseModel, SecretStr

from frontdoor.pipelines.progress import notify
from frontdoor.settings import Settings

TRANSIENT_ERROR_NAMES = {"OperationalError", "InterfaceError", "DisconnectionError"}
TRANSIENT_MLFLOW_CODES = {"INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"}


def is_transient(exc: BaseException) -> bool:
    """Whether an error is the kind a retry can cure (I/O), not a fault in the data or code."""
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
        return False  # a missing input or a wrong path does not appear by waiting
    if isinstance(exc, OSError | TimeoutError | ConnectionError):
        return True
    if type(exc).__name__ in TRANSIENT_ERROR_NAMES:
        return True
    code = getattr(exc, "error_code", None)
    return type(exc).__name__ == "MlflowException" and code in TRANSIENT_MLFLOW_CODES


def retry_on_io(_task: Task, _task_run: Any, state: State) -> bool:
    """Prefect's retry condition: retry transient I/O errors only."""
    try:
        state.result(raise_on_failure=True)
    except BaseException as exc:  # noqa: BLE001 - classify whatever the step raised
        return is_transient(exc)
    return False


# ---------------------------------------------------------------------------- digests


def _file_digest(path: Path, h: Any) -> None:
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)


def path_digest(path: Path) -> str:
    """Content digest of a file, or of every file under a folder (names and bytes; dotfiles skipped)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_file():
        _file_digest(path, h)
    elif path.is_dir():
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = item.relative_to(path)
            if any(part.startswith(".") for part in rel.parts):
                continue
            h.update(str(rel).encode())
            _file_digest(item, h)
    else:
        return f"missing:{path}"
    return h.hexdigest()


def settings_digest(settings: Settings, sections: Iterable[str]) -> str:
    """Digest of the named settings sections; secrets enter as their own hash, never in clear."""
    parts: dict[str, Any] = {}
    for name in sorted(sections):
        section = getattr(settings, name)
        parts[name] = section.model_dump(mode="json") if isinstance(section, BaseModel) else section
        if name == "privacy":
            key = settings.privacy.pseudonym_key
            secret = key.get_secret_value() if isinstance(key, SecretStr) else ""
            parts["privacy_key_sha256"] = hashlib.sha256(secret.encode()).hexdigest()
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class SettingsParcel:
    """The settings, handed to a Prefect task as one opaque object: Prefect walks into pydantic
    models among task arguments (a settings field called ``keys`` breaks that walk), and Dask
    reads tuples among arguments as tasks; a plain object is left alone by both."""

    __slots__ = ("settings",)

    def __init__(self, settings: Settings):
        self.settings = settings

    def __repr__(self) -> str:
        return "Settings(...)"

    def __getstate__(self):
        return self.settings

    def __setstate__(self, state) -> None:
        self.settings = state


def _unparcelled(fn: Callable[..., dict]) -> Callable[..., dict]:
    @functools.wraps(fn)
    def run(settings: Any, **inputs: Any) -> dict:
        if isinstance(settings, SettingsParcel):
            settings = settings.settings
        summary = fn(settings, **inputs)
        _say_what_it_did(summary)
        return summary

    return run


def what_it_did(summary: Any) -> str:
    """One log line from a step's summary: its counts, metrics and outputs (no identifiers:
    summaries hold counts, versions and paths only)."""
    if not isinstance(summary, dict):
        return "done"
    shown = []
    for key, value in summary.items():
        if key in ("outputs", "output_digests") or isinstance(value, dict | list):
            continue
        shown.append(f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}")
    written = ", ".join(f"{k} -> {v}" for k, v in (summary.get("outputs") or {}).items())
    return "; ".join(x for x in (", ".join(shown), f"wrote {written}" if written else "") if x)


def _say_what_it_did(summary: Any) -> None:
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    with contextlib.suppress(MissingContextError):  # called as a plain function (tests)
        get_run_logger().info(what_it_did(summary))


def value_digest(value: Any, settings_sections: Iterable[str] = ()) -> str:
    """Digest of one input of a step: files by content, settings by section, the rest by repr."""
    if isinstance(value, SettingsParcel):
        value = value.settings
    if isinstance(value, Settings):
        return settings_digest(value, settings_sections)
    if isinstance(value, Path):
        return path_digest(value)
    if isinstance(value, dict):
        inner = {str(k): value_digest(v, settings_sections) for k, v in sorted(value.items())}
        return hashlib.sha256(json.dumps(inner, sort_keys=True).encode()).hexdigest()
    if isinstance(value, list | tuple):
        inner = [value_digest(v, settings_sections) for v in value]
        return hashlib.sha256(json.dumps(inner).encode()).hexdigest()
    return hashlib.sha256(repr(value).encode()).hexdigest()


@functools.cache
def code_digest(packages: tuple[str, ...]) -> str:
    """Digest of the source of the rooms a step calls, so a change in their code re-runs it
    (Prefect's TASK_SOURCE policy covers only the step's own function)."""
    import importlib.util

    h = hashlib.sha256()
    for name in sorted(packages):
        spec = importlib.util.find_spec(name)
        folders = list(spec.submodule_search_locations or []) if spec else []
        for folder in folders:
            for path in sorted(Path(folder).rglob("*.py")):
                h.update(str(path.relative_to(folder)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def inputs_key(
    parameters: dict[str, Any], settings_sections: Iterable[str], code: tuple[str, ...] = ()
) -> str:
    sections = tuple(settings_sections)
    digests = {name: value_digest(v, sections) for name, v in sorted(parameters.items())}
    digests["__code__"] = code_digest(tuple(code))
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------- steps


@dataclass
class Step:
    """A room's plain function, with what a re-run must compare to skip it."""

    fn: Callable[..., dict]
    name: str
    sections: tuple[str, ...] = ()  # settings sections the function reads
    io: bool = True  # retry transient I/O errors
    cache: bool = True
    check: Callable[[Settings, dict], bool] | None = None  # is a cached result still true?
    code: tuple[str, ...] = ()  # the rooms (packages) whose code the step runs
    task: Task = field(init=False)

    def __post_init__(self) -> None:
        sections, code = self.sections, self.code

        def key(_ctx: TaskRunContext, parameters: dict[str, Any]) -> str:
            return f"{self.name}-{inputs_key(parameters, sections, code)}"

        self._policy = CacheKeyFnPolicy(cache_key_fn=key) + TASK_SOURCE
        self.task = task(_unparcelled(self.fn), name=self.name, persist_result=True)

    def configured(self, settings: Settings) -> Task:
        """The task with this project's retries, result folder and cache policy."""
        p = settings.pipelines
        options: dict[str, Any] = {"retries": 0}
        if self.io:
            options.update(
                retries=p.task_retries,
                retry_delay_seconds=p.retry_delay_seconds,
                retry_condition_fn=retry_on_io,
            )
        if self.cache and p.cache:
            store = settings.resolve(p.results)
            store.mkdir(parents=True, exist_ok=True)
            options.update(
                cache_policy=self._policy.configure(key_storage=store / "keys"),
                result_storage=store,
                persist_result=True,
            )
        else:
            from prefect.cache_policies import NO_CACHE

            options.update(cache_policy=NO_CACHE, persist_result=False)
        return self.task.with_options(**options)

    def still_valid(self, settings: Settings, summary: Any) -> bool:
        """A cached summary is used only while what it describes still exists."""
        if not outputs_intact(summary):
            return False
        return self.check is None or bool(self.check(settings, summary))


def step(
    name: str,
    sections: tuple[str, ...] = (),
    io: bool = True,
    cache: bool = True,
    check: Callable[[Settings, dict], bool] | None = None,
    code: tuple[str, ...] = (),
) -> Callable[[Callable[..., dict]], Step]:
    """Decorator for the pipeline's own step functions."""

    def wrap(fn: Callable[..., dict]) -> Step:
        return Step(fn=fn, name=name, sections=sections, io=io, cache=cache, check=check, code=code)

    return wrap


def with_output_digests(summary: dict) -> dict:
    """Record a digest of each output file so a cached summary can be checked against the disk."""
    outputs = summary.get("outputs", {})
    summary["output_digests"] = {k: path_digest(Path(v)) for k, v in outputs.items()}
    return summary


def outputs_intact(summary: Any) -> bool:
    """Whether every file a step reported is still on disk, unchanged."""
    if not isinstance(summary, dict):
        return True
    recorded = summary.get("output_digests", {})
    return all(path_digest(Path(summary["outputs"][k])) == d for k, d in recorded.items())


@dataclass
class StepRecord:
    name: str
    cached: bool
    seconds: float
    label: str = ""

    def as_row(self) -> dict[str, Any]:
        return {
            "step": self.name + (f" ({self.label})" if self.label else ""),
            "cached": "yes" if self.cached else "no",
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Ledger:
    """What each step of a flow run did: ran or came from the cache, and how long it took."""

    records: list[StepRecord] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [r.as_row() for r in self.records]

    @property
    def cached(self) -> list[str]:
        return [r.name for r in self.records if r.cached]

    @property
    def ran(self) -> list[str]:
        return [r.name for r in self.records if not r.cached]


def _is_cache_hit(state: State) -> bool:
    return state.is_completed() and (state.name or "").lower() == "cached"


def run_name(step_name: str, note: str = "") -> str:
    """A task run's name says what it works on: ``train-fold [northshire/escalation_12m fold 1]``
    rather than Prefect's ``train-fold-5db``."""
    return f"{step_name} [{note}]" if note else step_name


def run_step(ledger: Ledger, s: Step, settings: Settings, note: str = "", **inputs: Any) -> dict:
    """Run a step in the current flow (or take it from the cache) and record what happened."""
    started = time.perf_counter()
    notify("start", s.name + (f" ({note})" if note else ""))
    named = note or str(inputs.get("label") or "")
    configured = s.configured(settings).with_options(task_run_name=run_name(s.name, named))
    state = configured(settings=SettingsParcel(settings), **inputs, return_state=True)
    result = state.result()
    cached = _is_cache_hit(state)
    if cached and not s.still_valid(settings, result):
        state = configured.with_options(refresh_cache=True)(
            settings=SettingsParcel(settings), **inputs, return_state=True
        )
        result = state.result()
        cached = False
    ledger.records.append(StepRecord(s.name, cached, time.perf_counter() - started, note))
    notify("end", s.name + (f" ({note})" if note else ""), cached)
    return result


def submit_steps(ledger: Ledger, s: Step, jobs: list[tuple[str, dict[str, Any]]]) -> list[dict]:
    """Submit one step per job to the flow's task runner (threads or Dask) and gather them.

    Each job is ``(label, keyword arguments)``; the arguments include its ``settings`` (a
    council's own, in consortium mode)."""
    started = time.perf_counter()
    notify("start", f"{s.name} ({', '.join(label for label, _ in jobs)})")
    futures = []
    for label, kw in jobs:
        configured = s.configured(kw["settings"]).with_options(
            task_run_name=run_name(s.name, label)
        )
        sent = {**kw, "settings": SettingsParcel(kw["settings"])}
        futures.append((label, sent, configured, configured.submit(**sent)))
    results = []
    for label, kw, configured, future in futures:
        future.wait()
        state = future.state
        result = state.result()
        cached = _is_cache_hit(state)
        if cached and not s.still_valid(kw["settings"].settings, result):
            result = configured.with_options(refresh_cache=True)(**kw)
            cached = False
        ledger.records.append(StepRecord(s.name, cached, time.perf_counter() - started, label))
        results.append(result)
    notify("end", f"{s.name} ({', '.join(label for label, _ in jobs)})", None)
    return results
