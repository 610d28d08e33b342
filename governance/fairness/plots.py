"""Fairness plots as inline PNG (base64), with small numbers never drawn.

Built on matplotlib's object API (no pyplot, no display): safe in servers and tests.
"""

from __future__ import annotations

import base64
import io
import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, NullLocator

from frontdoor.governance.fairness.audit import AuditResult
from frontdoor.governance.fairness.metrics import METRICS
from frontdoor.governance.fairness.suppression import FULL, SUPPRESSED, TOO_FEW, Plan


def to_data_uri(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def disparity_plot(
    audit: AuditResult,
    characteristic: str,
    metrics: list[str],
    plan: Plan,
    intervals: dict[tuple[str, str, str], tuple[float, float]] | None = None,
    interval_name: str = "95% interval",
) -> str:
    """Ratio to the reference with its interval, per group and metric, on a log scale.

    ``intervals`` ((characteristic, group, metric) -> (lo, hi)) replaces the published 95%
    interval, so a report can draw the interval its gate judged with (one interval per figure).
    """
    s = audit.settings
    groups = [g for g in audit.for_characteristic(characteristic) if not g.is_reference]
    fig = Figure(figsize=(7.5, 0.45 * len(groups) * len(metrics) + 1.2))
    ax = fig.subplots()
    ax.axvspan(
        s.ratio_lower, s.ratio_upper, color="#dcefdc", label=f"band {s.ratio_lower}–{s.ratio_upper}"
    )
    ax.axvline(1.0, color="#555", lw=0.8)
    labels, y = [], 0
    colours = ["#1f5fa8", "#c2571a", "#6b4ca5", "#2a8a5a"]
    for g in groups:
        for k, m in enumerate(metrics):
            labels.append(f"{g.group} · {METRICS[m]['title']}")
            e = g.disparities.get(m)
            if not g.assessable:
                ax.text(1.0, y, TOO_FEW, va="center", ha="center", fontsize=8, color="#777")
            elif plan.view((characteristic, g.group), m) != FULL:
                ax.text(1.0, y, SUPPRESSED, va="center", ha="center", fontsize=9, color="#777")
            elif e is not None and math.isfinite(e.value) and e.value > 0:
                lo, hi = (intervals or {}).get((characteristic, str(g.group), m), (e.lo, e.hi))
                lo = lo if lo is not None and math.isfinite(lo) and lo > 0 else e.value
                hi = hi if hi is not None and math.isfinite(hi) and hi > 0 else e.value
                ax.errorbar(
                    [e.value],
                    [y],
                    xerr=[[e.value - lo], [hi - e.value]],
                    fmt="o",
                    color=colours[k % len(colours)],
                    capsize=3,
                )
            y += 1
    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(0.25, 4)
    ax.set_xticks([0.25, 0.5, 0.8, 1, 1.25, 2, 4])
    ax.set_xticklabels(["0.25", "0.5", "0.8", "1", "1.25", "2", "4"])
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"ratio to reference ({audit.references[characteristic]}), {interval_name}")
    ax.set_title(f"{characteristic}: ratios to the reference", fontsize=10)
    ax.legend(loc="lower right", fontsize=7)
    return to_data_uri(fig)


def calibration_plot(audit: AuditResult, characteristic: str, plan: Plan) -> str | None:
    """Observed against predicted per group; bins under the minimum size are not drawn."""
    if not audit.score_is_probability:
        return None
    fig = Figure(figsize=(5.2, 4.6))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#999", lw=0.8, ls="--", label="perfect calibration")
    drawn = 0
    for g in audit.for_characteristic(characteristic):
        if (
            not g.assessable
            or g.reliability is None
            or plan.view((characteristic, g.group), "observed") != FULL
        ):
            continue
        r = g.reliability
        r = r[r["n"] >= audit.settings.min_group_size]
        if r.empty:
            continue
        ax.plot(r["predicted"], r["observed"], marker="o", ms=3, lw=1, label=g.group)
        drawn += 1
    if drawn == 0:
        return None
    top = float(np.nanmax([ax.get_xlim()[1], ax.get_ylim()[1]]))
    ax.set_xlim(0, min(1, top))
    ax.set_ylim(0, min(1, top))
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(f"{characteristic}: calibration by group", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return to_data_uri(fig)
