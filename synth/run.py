"""Make a synthetic council and write it: what ``frontdoor synth`` and the demo's first step call."""

from __future__ import annotations

import time
from pathlib import Path

from frontdoor.records.export import export_council
from frontdoor.settings import Settings
from frontdoor.synth.council import SyntheticCouncil, generate, write_council


def with_overrides(
    settings: Settings,
    children: int | None = None,
    years: int | None = None,
    seed: int | None = None,
    surveillance_bias: bool | None = None,
    under_recording_bias: bool | None = None,
) -> Settings:
    """A copy of ``settings`` with the synth options given on the command line."""
    cfg = settings.synth
    changes: dict = {}
    for name, value in (("children", children), ("years", years), ("seed", seed)):
        if value is not None:
            changes[name] = value
    if surveillance_bias is not None:
        changes["surveillance_bias"] = cfg.surveillance_bias.model_copy(
            update={"enabled": surveillance_bias}
        )
    if under_recording_bias is not None:
        changes["under_recording_bias"] = cfg.under_recording_bias.model_copy(
            update={"enabled": under_recording_bias}
        )
    synth_cfg = cfg.model_validate({**cfg.model_dump(), **changes})
    return settings.model_copy(update={"synth": synth_cfg})


def synthesise(
    settings: Settings, out: Path, export: Path | None = None
) -> tuple[SyntheticCouncil, float]:
    """Generate the council the settings describe, write it to ``out`` and, with ``export``,
    as a council's own files (Annex A, CIN census XML, CSVs, with the ground truth) for
    ``frontdoor ingest``. Returns the council and the seconds taken to make and write it."""
    started = time.perf_counter()
    council = generate(settings)
    write_council(council, Path(out))
    seconds = time.perf_counter() - started
    if export is not None:
        export_council(
            council.tables,
            export,
            reference_date=settings.synth.end_date,
            ground_truth=council.ground_truth,
        )
    return council, seconds
