"""How a plain function of a room becomes a Prefect task in frontdoor.

A step is a function ``fn(settings, **inputs) -> Result`` that reads and writes files (or
MLflow) and returns a small typed result (a dataclass: counts, metrics, and the files it wrote).

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
import importlib.util
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE, TASK_SOURCE, CacheKeyFnPolicy
from prefect.context import TaskRunContext
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger
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


def _unparcelled(fn: Callable[..., Result]) -> Callable[..., Result]:
    @functools.wraps(fn)
    def run(settings: Any, **inputs: Any) -> Result:
        if isinstance(settings, SettingsParcel):
            settings = settings.settings
        result = fn(settings, **inputs)
        with contextlib.suppress(MissingContextError):  # called as a plain function (tests)
            get_run_logger().info(what_it_did(result))
        return result

    return run


def what_it_did(result: Any) -> str:
    """One log line from a step's result: its counts, metrics and the files it wrote (no
    identifiers: results hold counts, versions and paths only)."""
    if not isinstance(result, Result):
        return "done"
    shown = [
        f"{f.name}={v:.3f}" if isinstance(v, float) else f"{f.name}={v}"
        for f in fields(result)
        if not isinstance(v := getattr(result, f.name), dict | list) and f.name not in result.WRITES
    ]
    written = ", ".join(f"{k} -> {v}" for k, v in result.written().items())
    return "; ".join(x for x in (", ".join(shown), f"wrote {written}" if written else "") if x)


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


@dataclass(kw_only=True)
class Result:
    """A step's typed result. The fields named in ``WRITES`` are the files or folders it wrote:
    their digests are recorded, and a cached result is trusted only while they are still on
    disk, byte for byte (otherwise the step runs again)."""

    WRITES: ClassVar[tuple[str, ...]] = ()
    output_digests: dict[str, str] = field(default_factory=dict)

    def written(self) -> dict[str, str]:
        """What the step wrote, where."""
        return {name: str(getattr(self, name)) for name in self.WRITES}

    def sealed(self) -> Result:
        self.output_digests = {k: path_digest(Path(v)) for k, v in self.written().items()}
        return self

    def intact(self) -> bool:
        written = self.written()
        return all(path_digest(Path(written[k])) == d for k, d in self.output_digests.items())


@dataclass
class Step:
    """A room's plain function, with what a re-run must compare to skip it."""

    fn: Callable[..., Result]
    name: str
    sections: tuple[str, ...] = ()  # settings sections the function reads
    io: bool = True  # retry transient I/O errors
    cache: bool = True
    check: Callable[[Settings, Any], bool] | None = None  # is a cached result still true?
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
            options.update(cache_policy=NO_CACHE, persist_result=False)
        return self.task.with_options(**options)

    def still_valid(self, settings: Settings, result: Any) -> bool:
        """A cached result is used only while what it describes still exists."""
        if isinstance(result, Result) and not result.intact():
            return False
        return self.check is None or bool(self.check(settings, result))


def step(
    name: str,
    sections: tuple[str, ...] = (),
    io: bool = True,
    cache: bool = True,
    check: Callable[[Settings, Any], bool] | None = None,
    code: tuple[str, ...] = (),
) -> Callable[[Callable[..., Result]], Step]:
    """Decorator for the pipeline's own step functions."""

    def wrap(fn: Callable[..., Result]) -> Step:
        return Step(fn=fn, name=name, sections=sections, io=io, cache=cache, check=check, code=code)

    return wrap


@dataclass(frozen=True)
class StepRun:
    """One step of a flow run: its name (with the council, label or fold it ran for), whether
    Prefect took it from the cache (its final state is ``Cached``), and how long it took."""

    step: str
    cached: bool
    seconds: float


def run_name(step_name: str, note: str = "") -> str:
    """A task run's name says what it works on: ``train-fold [northshire/escalation_12m fold 1]``
    rather than Prefect's ``train-fold-5db``."""
    return f"{step_name} [{note}]" if note else step_name


Job = tuple[str, Settings, dict[str, Any]]  # (note: council, label or fold; settings; inputs)


def run_steps(ran: list[StepRun], s: Step, jobs: list[Job]) -> list[Any]:
    """Run one step per job on the flow's task runner (threads, or Dask workers), in parallel,
    and gather the results in order; each job carries its own settings (a council's own in a
    consortium). A result from the cache whose files have changed is computed again."""
    notes = [note for note, _, _ in jobs if note]
    shown = s.name + (f" ({', '.join(notes)})" if notes else "")
    started = time.perf_counter()
    notify("start", shown)
    sent = []
    for note, settings, inputs in jobs:
        named = note or str(inputs.get("label") or "")
        configured = s.configured(settings).with_options(task_run_name=run_name(s.name, named))
        kw = {**inputs, "settings": SettingsParcel(settings)}
        sent.append((note, settings, configured, kw, configured.submit(**kw)))
    results = []
    for note, settings, configured, kw, future in sent:
        future.wait()
        result = future.state.result()
        cached = future.state.is_completed() and (future.state.name or "").lower() == "cached"
        if cached and not s.still_valid(settings, result):
            result = configured.with_options(refresh_cache=True)(**kw)
            cached = False
        name = s.name + (f" ({note})" if note else "")
        ran.append(StepRun(name, cached, round(time.perf_counter() - started, 2)))
        results.append(result)
    notify("end", shown, all(r.cached for r in ran[-len(jobs) :]))
    return results


def run_one(ran: list[StepRun], s: Step, settings: Settings, note: str = "", **inputs: Any) -> Any:
    """``run_steps`` for a single job."""
    return run_steps(ran, s, [(note, settings, inputs)])[0]
