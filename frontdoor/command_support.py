"""What every room's commands share: the settings loaded by the root ``frontdoor`` callback.

Rooms build their commands as Typer sub-apps on top of this module and never import the root
command (``frontdoor.cli``), which imports them.
"""

from __future__ import annotations

import typer

from frontdoor.settings import Settings, load_settings


def settings_from(ctx: typer.Context) -> Settings:
    """The settings loaded by the root callback (or defaults when called directly)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else load_settings()
