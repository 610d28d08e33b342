"""``generate`` a synthetic council from settings and ``write_council`` it to a folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from frontdoor.records.store import atomic_write_parquet, write_tables
from frontdoor.settings import Settings
from frontdoor.synth import params as P
from frontdoor.synth.chain import build_model
from frontdoor.synth.population import build_population, major_group_of_codes
from frontdoor.synth.rates import achieved_rates
from frontdoor.synth.simulate import simulate
from frontdoor.synth.tables import Window, build_tables
from frontdoor.synth.truth import ground_truth

GENERATOR_VERSION = "1"
GROUND_TRUTH_DIR = "ground_truth"
GROUND_TRUTH_FILE = "ground_truth.parquet"
BURN_IN_MONTHS = 24


@dataclass
class SyntheticCouncil:
    """The canonical tables (raw council ids), the oracle per referral, and what was made."""

    tables: dict[str, pd.DataFrame]
    ground_truth: pd.DataFrame  # referral_id, p_rereferral_12m, p_escalation_12m
    manifest: dict[str, Any]
    latent: np.ndarray | None = field(default=None, repr=False)  # (months, children) states


def window_of(end_date: date, years: int) -> tuple[date, date]:
    """The extract's first and last day: ``years`` whole years ending on ``end_date``."""
    try:
        back = end_date.replace(year=end_date.year - years)
    except ValueError:  # 29 February
        back = end_date.replace(year=end_date.year - years, day=28)
    return back + timedelta(days=1), end_date


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def generate(settings: Settings, keep_latent: bool = False) -> SyntheticCouncil:
    """Simulate the council described by ``settings.synth`` (deterministic by its seed)."""
    cfg = settings.synth
    start, end = window_of(cfg.end_date, cfg.years)
    n_months = _months_between(start, end)
    window = Window(
        first_month=np.datetime64(start.strftime("%Y-%m"), "M"),
        start_day=int(np.datetime64(start, "D").astype(np.int64)),
        end_day=int(np.datetime64(end, "D").astype(np.int64)),
    )
    seeds = np.random.SeedSequence(cfg.seed).spawn(8)
    rngs = [np.random.default_rng(s) for s in seeds]
    rng_pop, rng_process, rng_da, rng_dates, rng_details, rng_recording, rng_eh, rng_chain = rngs

    pop = build_population(cfg.children, n_months, rng_pop)
    major = major_group_of_codes()[pop.ethnicity]
    sb, ub = cfg.surveillance_bias, cfg.under_recording_bias
    surveilled = (major == sb.ethnicity_major_group) if sb.enabled else np.zeros(len(major), bool)
    under = (major == ub.ethnicity_major_group) if ub.enabled else np.zeros(len(major), bool)
    recording = np.where(under, ub.recording_rate, P.RECORDING_RATE)
    model = build_model(sb.source if sb.enabled else None, sb.rate_multiplier)

    events = simulate(
        pop,
        model,
        surveilled,
        -BURN_IN_MONTHS,
        n_months,
        rng_process,
        rng_da,
        rng_chain,
        keep_latent,
    )
    built = build_tables(
        pop, events, model, window, surveilled, recording,
        rng_dates, rng_details, rng_recording, rng_eh,
    )  # fmt: skip
    ti = built.truth_inputs
    p_rr, p_esc = ground_truth(
        model,
        ti["state"],
        ti["age_months"],
        ti["decile"],
        ti["group"],
        ti["disability"],
        ti["ref_day"],
        ti["ref_month"],
        window.first_month,
        ti["escalation_pending"],
    )
    truth = pd.DataFrame(
        {"referral_id": ti["referral_id"], "p_rereferral_12m": p_rr, "p_escalation_12m": p_esc}
    )

    months_alive = np.clip(
        np.minimum(pop.birth_month + P.AGE_OUT_MONTHS, n_months) - np.maximum(pop.birth_month, 0),
        0,
        None,
    )
    population = float(months_alive.sum() / n_months)
    rates = achieved_rates(built.tables, population, start, end)
    manifest = {
        "generator": "frontdoor.synth",
        "generator_version": GENERATOR_VERSION,
        "local_authority": cfg.local_authority,
        "reference_date": end.isoformat(),
        "window_start": start.isoformat(),
        "seed": cfg.seed,
        "children": cfg.children,
        "years": cfg.years,
        "households": pop.n_households,
        "child_population": round(population, 1),
        "children_known": len(built.tables["children"]),
        "bias": {
            "surveillance_bias": sb.model_dump(),
            "under_recording_bias": ub.model_dump(),
        },
        "achieved_rates": {k: round(v, 4) for k, v in rates.items()},
        "ground_truth_mean": {
            "p_rereferral_12m": round(float(p_rr.mean()), 4) if len(p_rr) else None,
            "p_escalation_12m": round(float(p_esc.mean()), 4) if len(p_esc) else None,
        },
    }
    return SyntheticCouncil(built.tables, truth, manifest, events.latent)


def write_council(council: SyntheticCouncil, out_dir: Path) -> Path:
    """Write the tables and manifest, and the oracle in its own folder (models never read it)."""
    out_dir = Path(out_dir)
    write_tables(out_dir, council.tables, council.manifest)
    atomic_write_parquet(
        council.ground_truth.reset_index(drop=True), out_dir / GROUND_TRUTH_DIR / GROUND_TRUTH_FILE
    )
    return out_dir


def read_ground_truth(out_dir: Path) -> pd.DataFrame:
    """The oracle written by ``write_council`` (for evaluation only)."""
    return pd.read_parquet(Path(out_dir) / GROUND_TRUTH_DIR / GROUND_TRUTH_FILE)
