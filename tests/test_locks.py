"""The locks (requirements/*.lock, written by scripts/lock) match pyproject.toml.

Offline and exact: every dependency of pyproject.toml is pinned at a version it allows, with
hashes; every pin is needed by pyproject.toml or by another pin (nothing stale is left behind
when a dependency is dropped); the runtime set is the development set without the dev extras,
at the same versions. A dependency added or removed without `scripts/lock` fails here.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "frontdoor (pyproject.toml)"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


@dataclass
class Pin:
    version: str
    hashes: int = 0
    via: set[str] = field(default_factory=set)


def parse_lock(path: Path) -> dict[str, Pin]:
    return parse_lock_text(path.read_text(encoding="utf-8"))


def parse_lock_text(text: str) -> dict[str, Pin]:
    """name -> pin, from a `uv pip compile --generate-hashes --annotation-style split` file."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for line in text.splitlines():
        stripped = line.strip()
        if match := PIN.match(line):
            current = pins[canonicalize_name(match.group(1))] = Pin(match.group(2))
            in_via = False
        elif current is not None and stripped.startswith("--hash=sha256:"):
            current.hashes += 1
        elif current is not None and stripped.startswith("# via"):
            rest = stripped.removeprefix("# via").strip()
            in_via = not rest
            if rest:
                current.via.add(rest)
        elif current is not None and in_via and stripped.startswith("#   "):
            current.via.add(stripped.removeprefix("#   ").strip())
        elif stripped and not stripped.startswith("#"):
            in_via = False
    return pins


def _name(via: str) -> str:
    return PROJECT if via == PROJECT else canonicalize_name(via.split(" ")[0])


def requirements(extras: tuple[str, ...] = ()) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        found += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return found


LOCKS = {"dev": ("dev",), "runtime": ()}


def problems(pins: dict[str, Pin], wanted: list[Requirement], lock: str) -> list[str]:
    """What is wrong with a lock against the requirements it was made from (empty: nothing)."""
    found = []
    direct = {canonicalize_name(r.name) for r in wanted}
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        if name not in pins:
            found.append(f"{requirement} is not in {lock}")
        elif not requirement.specifier.contains(pins[name].version, prereleases=True):
            found.append(f"{lock} pins {name}=={pins[name].version}, outside {requirement}")
        elif PROJECT not in pins[name].via:
            found.append(f"{lock} does not say that pyproject.toml wants {name}")
    for name, pin in pins.items():
        wanted_by = {_name(v) for v in pin.via}
        if not pin.hashes:
            found.append(f"{name} has no hash in {lock}")
        if not wanted_by:
            found.append(f"{name} in {lock} says nothing of why it is there")
        elif not wanted_by <= set(pins) | {PROJECT}:
            found.append(f"{name} in {lock} is wanted by {wanted_by - set(pins)}, not pinned")
        elif PROJECT in wanted_by and name not in direct:
            found.append(f"{name} is no longer a dependency but is still in {lock}")
    return found


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_the_lock_matches_pyproject(lock: str):
    path = ROOT / "requirements" / f"{lock}.lock"
    found = problems(parse_lock(path), requirements(LOCKS[lock]), path.name)
    assert not found, "\n".join([*found, "run scripts/lock (docs/contributing.md)"])


def test_a_stale_or_missing_pin_is_reported():
    """The check above can fail: a dropped dependency left in the lock, a new one not in it."""
    text = (
        "pandas==3.1.1 \\\n    --hash=sha256:00\n    # via frontdoor (pyproject.toml)\n"
        "polars==2.1.0 \\\n    --hash=sha256:11\n    # via\n    #   frontdoor (pyproject.toml)\n"
        "tzdata==2025.1 \\\n    --hash=sha256:22\n    # via\n    #   pandas\n"
    )
    pins = parse_lock_text(text)
    assert pins["pandas"].hashes == 1 and pins["tzdata"].via == {"pandas"}
    found = problems(pins, [Requirement("pandas>=2"), Requirement("numpy")], "x.lock")
    assert found == [
        "numpy is not in x.lock",
        "polars is no longer a dependency but is still in x.lock",
    ]
    assert problems(pins, [Requirement("pandas<3"), Requirement("polars")], "x.lock") == [
        "x.lock pins pandas==3.1.1, outside pandas<3"
    ]


def test_the_runtime_set_is_the_development_set_without_the_dev_extras():
    dev = parse_lock(ROOT / "requirements" / "dev.lock")
    runtime = parse_lock(ROOT / "requirements" / "runtime.lock")
    assert {n: p.version for n, p in runtime.items()} == {n: dev[n].version for n in runtime}, (
        "the two locks pin different versions: run scripts/lock"
    )
    dev_only = {canonicalize_name(r.name) for r in requirements(("dev",))} - {
        canonicalize_name(r.name) for r in requirements()
    }
    # a dev extra may still be in the runtime set when a runtime package needs it (httpx)
    assert {"pytest", "ruff", "mypy", "jupyterlab"} <= dev_only
    assert not {"pytest", "ruff", "mypy", "jupyterlab"} & set(runtime)
    assert all(PROJECT not in runtime[n].via for n in dev_only & set(runtime))
