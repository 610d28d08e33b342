"""Page one of the governance report: what the board needs in ten minutes, in words and
natural frequencies, and the model-card sections a board asks for (Mitchell et al. 2019).

Every count goes through the disclosure rule; every feature is a phrase with its unit.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, metadata

import numpy as np
import pandas as pd

from frontdoor.governance.comparison import natural_frequencies
from frontdoor.governance.gate import GateResult
from frontdoor.models.promotion_log import promotion_log
from frontdoor.models.scoring import flag_mask
from frontdoor.models.tracking import client
from frontdoor.records.disclosure import SUPPRESSED, shown_count, shown_parts
from frontdoor.settings import Settings

GROUP_COLUMNS = {
    "sex": "Sex",
    "ethnicity_group": "Ethnic group",
    "age_band": "Age band",
    "disability": "Disability",
}


def frequency_sentence(freq: dict, outcome: str, up_to: int) -> str:
    """ "Of 100 flagged referrals about 52 had <outcome>; of 100 not flagged, about 30"."""
    if freq.get("of_flagged") is None or freq.get("of_not_flagged") is None:
        return "Too few referrals to say."
    if shown_count(freq["flagged"], up_to) == SUPPRESSED:
        return "Too few flagged referrals to publish the rate."
    return (
        f"Of every 100 flagged referrals, about {freq['of_flagged']} had {outcome}; of every "
        f"100 not flagged, about {freq['of_not_flagged']}."
    )


def how_well(
    pred: pd.DataFrame, audit_flags: pd.Series, flagged_bands: list[str], up_to: int, outcome: str
) -> dict:
    """Natural frequencies under the audit's flag rule and under the queue's (band) rule, on the
    test referrals, and how the two rules differ."""
    y = pred["y"].to_numpy(dtype=float)
    audit = natural_frequencies(y, audit_flags.to_numpy(dtype=bool))
    out = {"audit": audit, "audit_sentence": frequency_sentence(audit, outcome, up_to)}
    if "band" in pred:
        queue = natural_frequencies(y, flag_mask(pred["band"], flagged_bands))
        out |= {"queue": queue, "queue_sentence": frequency_sentence(queue, outcome, up_to)}
        out["rules_differ"] = (
            f"The fairness audit judges the top scores up to the review capacity in each test "
            f"period ({audit['flag_share']:.0%} of test referrals). The review queue flags the "
            f"bands {', '.join(flagged_bands)} ({queue['flag_share']:.0%} of the same referrals). "
            + (
                "The two rules flag about the same share."
                if abs(audit["flag_share"] - queue["flag_share"]) < 0.03
                else "They flag different shares, so the audit's error rates describe the capacity "
                "rule; the monitor reports the queue's own flag rates by group."
            )
        )
    return out


def gate_lines(gate: GateResult) -> list[str]:
    """What failed (or was inconclusive), one plain sentence each."""
    name = {
        "fnr": "missed cases (FNR)",
        "fpr": "false alarms (FPR)",
        "calibration_gap": "calibration gap (observed minus predicted)",
    }
    lines = []
    for check, what in [(c, "failed") for c in gate.failures] + [
        (c, "inconclusive") for c in gate.inconclusive
    ]:
        value = "n/a" if check.value is None else f"{check.value:.2f}"
        lines.append(
            f"{name.get(check.metric, check.metric)} {check.kind} {value} for "
            f"{check.characteristic.replace('_', ' ')} group {check.group} against "
            f"{check.reference}: {what}"
        )
    return lines


def promotion_record(settings: Settings, model_name: str, version: str) -> list[dict]:
    """Every log row about this version (promotions, refusals, overrides), oldest first."""
    rows = promotion_log(settings, client(settings)).history(model_name)
    keep = ("seq", "at", "action", "by", "why", "gate", "previous_champion")
    return [{k: r.get(k) for k in keep} for r in rows if str(r.get("version")) == str(version)]


def training_by_group(pred: pd.DataFrame, up_to: int) -> list[dict]:
    """Test referrals and outcome rates by group (the training data's make-up is the same
    population in earlier periods); counts 1..up_to and what they give back shown as c."""
    rows = []
    for column, title in GROUP_COLUMNS.items():
        if column not in pred:
            continue
        values = pred[column].astype(object).where(pred[column].notna(), "Not recorded").astype(str)
        counts = values.value_counts().sort_index()
        shown = shown_parts(int(counts.sum()), {str(k): int(v) for k, v in counts.items()}, up_to)
        for group, n in counts.items():
            part = pred[values == group]
            pos = int(part["y"].sum())
            hidden = shown[str(group)] == SUPPRESSED or shown_count(pos, up_to) == SUPPRESSED
            rows.append(
                {
                    "characteristic": title,
                    "group": "yes"
                    if (column == "disability" and group in ("1", "1.0"))
                    else "no"
                    if (column == "disability" and group in ("0", "0.0"))
                    else str(group),
                    "referrals": shown[str(group)],
                    "rate": SUPPRESSED if hidden else f"{pos / int(n):.0%}",
                }
            )
    return rows


def licence() -> str:
    try:
        meta = metadata("frontdoor")
    except PackageNotFoundError:  # pragma: no cover - frontdoor is installed to run at all
        return "see the repository"
    return meta.get("License-Expression") or meta.get("License") or "see the repository"


def card_facts(settings: Settings, run, synthetic: bool) -> dict:
    """Owner, date, licence, contact; what the council completes is marked for it."""
    return {
        "owner": "to be completed by the council (the senior responsible owner's role)",
        "contact": "to be completed by the council (a public contact address)",
        "date": str(pd.Timestamp(run.info.start_time, unit="ms").date()),
        "licence": licence(),
        "synthetic": synthetic,
    }


def caveats(synthetic: bool, rules_differ: str | None) -> list[str]:
    out = [
        "The outcome records how services responded, not only what the child needed: groups "
        "watched more are labelled more (section on the limits of the labels).",
        "Scores are for referrals to this council's front door only; a new population, a new "
        "recording practice or a change in thresholds needs a new evaluation and audit.",
        "A flag is a prompt for review; it never decides, closes or screens out a referral.",
    ]
    if rules_differ:
        out.append(rules_differ)
    if synthetic:
        out.insert(
            0,
            "These figures come from SYNTHETIC data (a generated council): they show "
            "how the report works, not how the model would perform on real records.",
        )
    return out


RECOMMENDATIONS = [
    "Promote only through `frontdoor promote` (the gate, the comparison and the band check); "
    "read the refusal if there is one.",
    "Review the monitor's weekly alerts: drift, flag rates by group, calibration as outcomes "
    "mature, and managers' agreement with the flags.",
    "Complete the fields marked for the council in the transparency record before publishing.",
]


def preprocessing_text(settings: Settings) -> str:
    """Evaluation data pre-processing and quarantine, from the ingest contract."""
    folder = settings.resolve(settings.paths.quarantine)
    quarantined = sum(1 for _ in folder.rglob("*") if _.is_file()) if folder.exists() else 0
    return (
        "Extracts are validated against the data contract on ingest; rows that fail (a bad date, "
        "a missing identifier, an unknown code) are quarantined with the reason, and rows read = "
        "rows loaded + rows quarantined. Identifiers are pseudonymised before anything else. "
        "Features use only what was recorded before each referral's date. Decisions whose "
        "12-month outcome had not yet ended are left out (censored), not counted as negatives. "
        + (
            f"Quarantine files in this installation: {quarantined}."
            if quarantined
            else "No quarantine file in this installation."
        )
    )


def share(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")
