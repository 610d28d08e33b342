"""`frontdoor compare CHALLENGER [CHAMPION]`: two versions side by side, on the same rows.

Metrics with paired 95% intervals on the test referrals both versions scored; calibration on
those rows; flags at capacity in natural frequencies; the fairness audits side by side;
hyperparameters and features that differ; the biggest changes in mean contributions. The
governance report's comparison section is this, so it survives promotion (the champion it is
compared with is the one the promotion log names before this version).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from frontdoor.governance.comparison import (
    NoSharedRows,
    natural_frequencies,
    paired_metrics,
    shared_test_rows,
)
from frontdoor.governance.wording import feature_phrase, metric_name
from frontdoor.models import registry
from frontdoor.models.promotion_log import promotion_log
from frontdoor.models.tracking import client
from frontdoor.settings import Settings
from frontdoor.settings.label_words import label_words

GATED = ("fnr", "fpr")
TOP_CHANGES = 8


@dataclass
class Comparison:
    label: str
    challenger: str
    champion: str | None
    note: str = ""
    rows: int = 0
    children: int = 0
    metrics: list[dict] = field(default_factory=list)
    calibration: list[dict] = field(default_factory=list)
    frequencies: dict = field(default_factory=dict)
    fairness: list[dict] = field(default_factory=list)
    gates: dict = field(default_factory=dict)
    parameters: list[dict] = field(default_factory=list)
    features: dict = field(default_factory=dict)
    contributions: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def champion_before(settings: Settings, label: str, version: str) -> str | None:
    """The champion to compare ``version`` with: the one the promotion log named before this
    version was promoted (or now, if it never was); None when there was none."""
    name = registry.model_name(settings, label)
    before = None
    for row in promotion_log(settings, client(settings)).history(name):
        if row["action"] in ("promoted", "promoted by override"):
            if str(row["version"]) == str(version):
                return row.get("previous_champion")
            before = str(row["version"])
    return before


def _artifact_json(run_id: str, path: str) -> dict | None:
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=tmp
            )
        except Exception:  # noqa: BLE001 - an unaudited run has no audit to show
            return None
        return json.loads(Path(local).read_text(encoding="utf-8"))


def _artifact_csv(run_id: str, path: str) -> pd.DataFrame | None:
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=path, dst_path=tmp
            )
        except Exception:  # noqa: BLE001
            return None
        return pd.read_csv(local)


def _ratio(group: dict, metric: str) -> dict | None:
    d = group.get("disparities")
    if not isinstance(d, dict) or metric not in d or not isinstance(d[metric], dict):
        return None
    return d[metric]


def fairness_side_by_side(a: dict | None, b: dict | None) -> list[dict]:
    """Each group's FNR and FPR ratio to its reference, for both versions (published values)."""
    if a is None:
        return []
    rows = []
    for characteristic, block in a.get("characteristics", {}).items():
        other = (b or {}).get("characteristics", {}).get(characteristic, {}).get("groups", {})
        for group, g in block["groups"].items():
            if g.get("reference"):
                continue
            for m in GATED:
                mine, theirs = _ratio(g, m), _ratio(other.get(group, {}), m)
                if mine is None:
                    continue
                rows.append(
                    {
                        "characteristic": characteristic.replace("_", " "),
                        "group": group,
                        "metric": "missed cases (FNR) ratio"
                        if m == "fnr"
                        else "false alarms (FPR) ratio",
                        "challenger": mine.get("value"),
                        "challenger_interval": (mine.get("lo"), mine.get("hi")),
                        "champion": None if theirs is None else theirs.get("value"),
                    }
                )
    return rows


def parameter_changes(settings: Settings, run_a: str, run_b: str) -> list[dict]:
    c = client(settings)
    pa, pb = c.get_run(run_a).data.params, c.get_run(run_b).data.params
    keys = sorted(k for k in set(pa) | set(pb) if pa.get(k) != pb.get(k))
    return [
        {"parameter": k, "challenger": pa.get(k, "-"), "champion": pb.get(k, "-")} for k in keys
    ]


def contribution_changes(a: pd.DataFrame | None, b: pd.DataFrame | None) -> tuple[dict, list[dict]]:
    """Features added and dropped, and the biggest changes in mean absolute contribution."""
    if a is None or b is None:
        return {}, []
    fa, fb = set(a["feature"]), set(b["feature"])
    features = {
        "added": sorted(feature_phrase(f) for f in fa - fb),
        "dropped": sorted(feature_phrase(f) for f in fb - fa),
        "shared": len(fa & fb),
    }
    both = a.merge(b, on="feature", how="outer", suffixes=("_a", "_b")).fillna(0.0)
    both["change"] = both["mean_abs_contribution_a"] - both["mean_abs_contribution_b"]
    top = both.reindex(both["change"].abs().sort_values(ascending=False).index).head(TOP_CHANGES)
    rows = [
        {
            "feature": feature_phrase(r.feature),
            "challenger": float(r.mean_abs_contribution_a),
            "champion": float(r.mean_abs_contribution_b),
            "change": float(r.change),
        }
        for r in top.itertuples()
    ]
    return features, rows


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int) -> pd.DataFrame:
    """Observed against predicted in equal-sized bins of the prediction."""
    frame = pd.DataFrame({"y": y, "p": p})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), bins, labels=False)
    return frame.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"))


def calibration_rows(shared: pd.DataFrame, bins: int = 5) -> list[dict]:
    y = shared["y"].to_numpy(dtype=float)
    a = reliability_table(y, shared["p_challenger"].to_numpy(dtype=float), bins)
    b = reliability_table(y, shared["p_champion"].to_numpy(dtype=float), bins)
    return [
        {
            "fifth": int(i) + 1,
            "challenger_predicted": float(a.at[i, "predicted"]),
            "challenger_observed": float(a.at[i, "observed"]),
            "champion_predicted": float(b.at[i, "predicted"]),
            "champion_observed": float(b.at[i, "observed"]),
        }
        for i in a.index
    ]


def frequencies(shared: pd.DataFrame) -> dict:
    """Both versions flag as many of the shared referrals as the challenger's run flagged."""
    y = shared["y"].to_numpy(dtype=float)
    k = int(shared["flag_challenger"].sum()) if "flag_challenger" in shared else int(0.2 * len(y))

    def top(p):
        flags = np.zeros(len(p), dtype=bool)
        flags[np.argsort(-np.asarray(p, dtype=float), kind="mergesort")[:k]] = True
        return flags

    return {
        "challenger": natural_frequencies(y, top(shared["p_challenger"])),
        "champion": natural_frequencies(y, top(shared["p_champion"])),
    }


def compare(
    settings: Settings, label: str, challenger: str | int, champion: str | int | None = None
) -> Comparison:
    """Compare two registered versions (default champion: the one the log names before it)."""
    mv_a = registry.get_version(settings, label, challenger)
    ref = champion if champion is not None else champion_before(settings, label, str(mv_a.version))
    out = Comparison(label, str(mv_a.version), None)
    if ref is None:
        out.note = "There is no champion to compare with: this would be the first promoted."
        return out
    mv_b = registry.get_version(settings, label, ref)
    out.champion = str(mv_b.version)
    if out.champion == out.challenger:
        out.note = "The two versions are the same."
        return out
    shared = shared_test_rows(
        registry.test_predictions(settings, mv_a.run_id),
        registry.test_predictions(settings, mv_b.run_id),
    )
    out.rows, out.children = (
        int(len(shared)),
        int(shared["child_id"].nunique()) if len(shared) else 0,
    )
    if len(shared) < settings.governance.min_shared_test_rows:
        out.note = str(
            NoSharedRows(
                f"Not compared with champion version {out.champion}: the two share only "
                f"{len(shared)} test referrals with the same outcome"
            )
        )
    else:
        table = paired_metrics(shared, settings)
        table["name"] = [metric_name(m, label) for m in table["metric"]]
        out.metrics = table.to_dict("records")
        out.calibration = calibration_rows(shared)
        out.frequencies = frequencies(shared)
    audits = [_artifact_json(mv.run_id, "fairness/audit.json") for mv in (mv_a, mv_b)]
    out.fairness = fairness_side_by_side(*audits)
    out.gates = {
        "challenger": mv_a.tags.get("fairness.gate", "not audited"),
        "champion": mv_b.tags.get("fairness.gate", "not audited"),
        "challenger_summary": mv_a.tags.get("fairness.gate_summary", ""),
        "champion_summary": mv_b.tags.get("fairness.gate_summary", ""),
    }
    out.parameters = parameter_changes(settings, mv_a.run_id, mv_b.run_id)
    importance = [
        _artifact_csv(mv.run_id, "model_card/global_importance.csv") for mv in (mv_a, mv_b)
    ]
    out.features, out.contributions = contribution_changes(*importance)
    return out


def comparison_text(c: Comparison) -> list[str]:
    """The comparison in lines of plain text (the CLI prints them)."""
    if c.champion is None or not c.metrics:
        return [c.note or "Nothing to compare."]
    lines = [
        f"Version {c.challenger} against version {c.champion}, on the same {c.rows:,} test "
        f"referrals ({c.children:,} children). Intervals: 95%, paired, resampling children.",
    ]
    for m in c.metrics:
        lines.append(
            f"  {m['name']}: {m['challenger']:.3f} against {m['champion']:.3f}; difference "
            f"{m['difference']:+.3f} ({m['difference_low']:+.3f} to {m['difference_high']:+.3f})"
        )
    happened = label_words(c.label).happened
    for who in ("challenger", "champion"):
        f = c.frequencies[who]
        lines.append(
            f"  {who}: of 100 flagged referrals about {f['of_flagged']} {happened}; of 100 not "
            f"flagged, about {f['of_not_flagged']}"
        )
    lines.append(f"  fairness gate: {c.gates['challenger']} against {c.gates['champion']}")
    for p in c.parameters:
        lines.append(f"  setting {p['parameter']}: {p['challenger']} (was {p['champion']})")
    for r in c.contributions[:5]:
        lines.append(f"  contribution of {r['feature']}: {r['change']:+.3f}")
    return lines
