"""Progress of a flow run as it happens, for the command line's progress bars.

The flows report each step's start and end here; the CLI listens with a rich progress bar.
A plain module-level listener (not a flow parameter) so flows stay JSON-parameterised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, str, bool | None], None]  # (event, step, cached)
_listeners: list[Listener] = []


def notify(event: str, step: str, cached: bool | None = None) -> None:
    for listener in list(_listeners):
        listener(event, step, cached)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
