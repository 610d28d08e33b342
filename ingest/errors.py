"""The one kind of error that stops an ingest run: a file that cannot be read as expected."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A source that cannot be read, or lacks something required. Nothing is written.

    The message always names the file, what is missing or wrong, and what was expected.
    """

    def __init__(self, path: Path | str, problem: str, expected: str = ""):
        self.path = str(path)
        self.problem = problem
        self.expected = expected
        text = f"{self.path}: {problem}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)
