"""Tests known to fail on main at the end of stop 11 (05:25 UTC), after eight parallel branches
merged: each is an integration regression between two issues' changes, listed in the stop's
closing note, and the first thing the next session fixes. They are marked xfail (not run) in
one place, here, so that the list is visible and shrinks to nothing; nothing else is skipped.
"""

KNOWN_FAILURES: dict[str, str] = {}
