"""Watching a model in use: drift in its inputs and scores, its flag rates, fairness on the
most recent labelled referrals, and how often managers agree with its flags.

Plain functions over data frames; the ``monitor`` flow composes them. Nothing here decides
anything about a child: these figures tell the data team and the governance board whether
the model still behaves as it did when it was audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from frontdoor.governance.fairness.audit import AuditResult, run_audit
from frontdoor.governance.fairness.publish import published_audit
from frontdoor.governance.fairness.suppression import HIDDEN, disclosure_plan
from frontdoor.governance.gate import GateResult, evaluate_gate
from frontdoor.records.disclosure import SUPPRESSED, hidden_parts, is_small, shown_count
from frontdoor.settings.fairness import FairnessSettings

PSI_MODERATE = 0.1  # conventional reading: < 0.1 stable, 0.1-0.25 moderate, > 0.25 significant
PSI_EPSILON = 1e-4  # share given to an empty bin so the logarithm stays finite
MISSING_BIN = "missing"


def _bin_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Quantile edges of the reference; a feature with few distinct values gets one bin each."""
    finite = reference[np.isfinite(reference)]
    if finite.size == 0:
        return np.array([-np.inf, np.inf])
    distinct = np.unique(finite)
    if distinct.size <= bins:
        inner = (distinct[:-1] + distinct[1:]) / 2
    else:
        inner = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    return np.concatenate(([-np.inf], inner, [np.inf]))


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    finite = np.isfinite(values)
    counts = np.histogram(values[finite], bins=edges)[0].astype(float)
    counts = np.append(counts, float((~finite).sum()))  # missing values are a bin of their own
    total = counts.sum()
    return counts / total if total else counts


def psi(reference, recent, bins: int = 10) -> float:
    """Population stability index of ``recent`` against ``reference`` (bins from the reference).

    0 when the two distributions match; grows as the recent one moves away.
    """
    ref = np.asarray(pd.to_numeric(pd.Series(reference), errors="coerce"), dtype=float)
    new = np.asarray(pd.to_numeric(pd.Series(recent), errors="coerce"), dtype=float)
    if ref.size == 0 or new.size == 0:
        return float("nan")
    edges = _bin_edges(ref, bins)
    p = np.clip(_shares(ref, edges), PSI_EPSILON, None)
    q = np.clip(_shares(new, edges), PSI_EPSILON, None)
    return float(np.sum((q - p) * np.log(q / p)))


def psi_status(value: float, alert: float = 0.25) -> str:
    if not np.isfinite(value):
        return "no data"
    if value > alert:
        return "significant shift"
    return "moderate shift" if value > PSI_MODERATE else "stable"


def feature_drift(
    reference: pd.DataFrame,
    recent: pd.DataFrame,
    columns: list[str],
    bins: int = 10,
    alert: float = 0.25,
) -> pd.DataFrame:
    """PSI of every model input, largest shift first."""
    rows = []
    for column in columns:
        value = psi(reference[column], recent[column], bins)
        rows.append(
            {
                "feature": column,
                "psi": value,
                "status": psi_status(value, alert),
                "reference_mean": float(pd.to_numeric(reference[column], errors="coerce").mean()),
                "recent_mean": float(pd.to_numeric(recent[column], errors="coerce").mean()),
            }
        )
    out = pd.DataFrame(rows, columns=["feature", "psi", "status", "reference_mean", "recent_mean"])
    return out.sort_values("psi", ascending=False, na_position="last").reset_index(drop=True)


def score_drift(reference_scores, recent_scores, bins: int = 10, alert: float = 0.25) -> dict:
    """Shift of the probabilities the model gives now against those it gave at training time."""
    ref = np.asarray(reference_scores, dtype=float)
    new = np.asarray(recent_scores, dtype=float)
    value = psi(ref, new, bins)
    return {
        "psi": value,
        "status": psi_status(value, alert),
        "reference_mean": float(ref.mean()) if ref.size else float("nan"),
        "recent_mean": float(new.mean()) if new.size else float("nan"),
        "reference_n": int(ref.size),
        "recent_n": int(new.size),
    }


def flag_rates(
    scored: pd.DataFrame,
    band_order: list[str],
    flagged_bands: list[str],
    by: str | None = None,
    date_column: str = "referral_date",
) -> pd.DataFrame:
    """Per month (and per group when ``by`` is given): referrals scored, share in each band,
    share flagged for review (in one of ``flagged_bands``)."""
    frame = scored.copy()
    frame["month"] = pd.to_datetime(frame[date_column]).dt.to_period("M").astype(str)
    keys = ["month"] + ([by] if by else [])
    if by:
        frame[by] = frame[by].astype(object).where(frame[by].notna(), "Not recorded").astype(str)
    frame["flagged"] = frame["band"].isin(flagged_bands)
    grouped = frame.groupby(keys, sort=True)
    out = grouped.size().rename("scored").to_frame()
    out["flagged"] = grouped["flagged"].sum()
    out["flag_rate"] = out["flagged"] / out["scored"]
    for band in band_order:
        out[f"share_{band}"] = grouped["band"].apply(lambda b, band=band: float((b == band).mean()))
    return out.reset_index()


def recent_labelled(
    table: pd.DataFrame,
    label: str,
    as_of: pd.Timestamp,
    label_window_days: int,
    window_days: int,
) -> pd.DataFrame:
    """The most recent decisions whose outcome is already known: decided at least a label window
    before ``as_of`` (so the outcome could be observed), within ``window_days`` of that point,
    and not censored."""
    last_known = pd.Timestamp(as_of) - pd.Timedelta(days=label_window_days)
    first = last_known - pd.Timedelta(days=window_days)
    dates = pd.to_datetime(table["decision_date"])
    keep = (dates > first) & (dates <= last_known) & table[label].notna()
    if "censored" in table:
        keep &= ~table["censored"].astype(bool)
    return table.loc[keep].reset_index(drop=True)


def recent_fairness(
    frame: pd.DataFrame,
    *,
    label: str,
    score: str,
    characteristics: dict[str, str],
    settings: FairnessSettings,
    threshold: float | None = None,
    flagged: str | None = None,
) -> AuditResult:
    """The fairness room's audit, run on recently labelled referrals: flagged as in use
    (``flagged``: a 0/1 column, e.g. the band is one the queue shows) or at ``threshold``."""
    return run_audit(
        frame,
        label=label,
        score=score,
        characteristics=characteristics,
        settings=settings,
        threshold=threshold,
        flagged=flagged,
        score_is_probability=True,
    )


def decision_agreement(
    decisions: pd.DataFrame,
    groups: pd.DataFrame | None = None,
    group_columns: list[str] | None = None,
) -> pd.DataFrame:
    """How often managers agreed with the flag, by band and (when given) by group.

    ``decisions`` is the review store's export (``review.store.export_decisions``); only the
    decision in force for each referral counts. ``groups`` holds ``decision_id`` and the group
    columns (the sensitive characteristics travelling beside the features).
    """
    columns = ["dimension", "group", "decisions", "agreed", "agreement_rate"]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    latest = decisions[decisions["is_latest"].astype(bool)].copy()
    latest["agrees"] = latest["agrees"].astype(bool)
    parts: list[tuple[str, str]] = [("band", "band")]
    if groups is not None and group_columns:
        latest = latest.merge(
            groups[["decision_id", *group_columns]].drop_duplicates("decision_id"),
            on="decision_id",
            how="left",
        )
        parts += [(c, c) for c in group_columns]
    rows = [
        {
            "dimension": "overall",
            "group": "all",
            "decisions": int(len(latest)),
            "agreed": int(latest["agrees"].sum()),
        }
    ]
    for dimension, column in parts:
        values = latest[column].astype(object).where(latest[column].notna(), "Not recorded")
        for group, part in latest.groupby(values.astype(str), sort=True):
            rows.append(
                {
                    "dimension": dimension,
                    "group": group,
                    "decisions": int(len(part)),
                    "agreed": int(part["agrees"].sum()),
                }
            )
    out = pd.DataFrame(rows)
    out["agreement_rate"] = out["agreed"] / out["decisions"]
    return out[columns]


def publish_counts(
    frame: pd.DataFrame,
    *,
    size: str,
    parts: list[list[str]],
    rates: dict[str, str],
    within: list[str] | None,
    up_to: int,
    drop: list[str] | None = None,
) -> pd.DataFrame:
    """A table of counts fit to publish: small counts, their complements and what subtraction
    would give back are shown as ``c``, and so is every rate built on a hidden count.

    ``size``: the row's total; ``parts``: lists of columns that are parts of ``size`` (e.g.
    ``[["flagged"], ["n_low", "n_high"]]``); ``rates``: rate column -> the count behind it;
    ``within``: key columns whose rows add up to a total published elsewhere (e.g. the groups
    of one characteristic in one month), so one hidden cell there hides the next smallest too.
    """
    counts = [size, *[c for group in parts for c in group]]
    values = frame[counts].apply(pd.to_numeric, errors="coerce").fillna(0).astype(int)
    hidden = pd.DataFrame(False, index=frame.index, columns=counts)
    for _ in range(10):  # secondary hiding can cascade; a few rounds settle it
        before = hidden.to_numpy().copy()
        for i in frame.index:
            total = int(values.at[i, size])
            if is_small(total, up_to):
                hidden.at[i, size] = True
            for group in parts:
                if hidden.at[i, size]:
                    for c in group:
                        hidden.at[i, c] = hidden.at[i, c] or values.at[i, c] != 0
                    continue
                cells = {c: int(values.at[i, c]) for c in group}
                forced = {c for c in group if hidden.at[i, c]}
                found = hidden_parts(total, cells, up_to, forced)
                for c in found:
                    hidden.at[i, c] = True
        if within:
            for _, rows in frame.groupby(within, sort=False):
                for c in counts:
                    cells = {i: int(values.at[i, c]) for i in rows.index}
                    forced = {i for i in rows.index if hidden.at[i, c]}
                    found = hidden_parts(sum(cells.values()), cells, up_to, forced)
                    for i in found:
                        hidden.at[i, c] = True
        if (hidden.to_numpy() == before).all():
            break
    out = frame.copy().astype(object)
    for c in counts:
        out.loc[hidden[c], c] = SUPPRESSED
    for rate, count in rates.items():
        out.loc[hidden[count] | hidden[size], rate] = SUPPRESSED
    return out.drop(columns=drop or [])


def publish_flag_rates(
    frame: pd.DataFrame, band_order: list[str], up_to: int, within: list[str] | None = None
) -> pd.DataFrame:
    """`flag_rates` fit to publish: ``flagged``/``flag_rate`` and each ``share_<band>`` are
    hidden when the count behind them (or the rest of the row's total) is 1..up_to."""
    if frame.empty:
        return frame.copy()
    work = frame.copy()
    band_counts = [f"_n_{b}" for b in band_order]
    for band, col in zip(band_order, band_counts, strict=True):
        work[col] = (work[f"share_{band}"].astype(float) * work["scored"]).round().astype(int)
    rates = {"flag_rate": "flagged", **{f"share_{b}": f"_n_{b}" for b in band_order}}
    return publish_counts(
        work,
        size="scored",
        parts=[["flagged"], band_counts],
        rates=rates,
        within=within,
        up_to=up_to,
        drop=band_counts,
    )


def publish_agreement(agreement: pd.DataFrame, up_to: int) -> pd.DataFrame:
    """The agreement table fit to publish: ``agreed`` is hidden when it or the disagreements
    (decisions - agreed) are 1..up_to, and groups of one dimension add up to the overall row."""
    if agreement.empty:
        return agreement.copy()
    return publish_counts(
        agreement,
        size="decisions",
        parts=[["agreed"]],
        rates={"agreement_rate": "agreed"},
        within=["dimension"],
        up_to=up_to,
    )


FAIRNESS_COLUMNS = ["flag_rate", "fnr", "fpr"]
FAIRNESS_DISPARITIES = ["fnr_ratio", "fpr_ratio"]


def published_fairness(audit: AuditResult, up_to: int) -> pd.DataFrame:
    """The recent fairness table through the fairness room's publication path
    (`models.fairness.publish.published_audit`): rates, intervals and disparities of small
    numbers, and sizes a total would give back, show ``c``; small groups "too few to assess"."""
    record = published_audit(audit, up_to)
    rows = []
    for characteristic, block in record["characteristics"].items():
        for group, g in block["groups"].items():
            row = {
                "characteristic": characteristic,
                "group": group,
                "assessable": g["assessable"],
                "reference": g["reference"],
                "n": g["counts"]["n"],
            }
            for m in FAIRNESS_COLUMNS:
                metrics = g["metrics"]
                row[m] = metrics if isinstance(metrics, str) else metrics.get(m, {}).get("value")
            for m in FAIRNESS_DISPARITIES:
                d = g["disparities"]
                base = m.removesuffix("_ratio")
                row[m] = d if isinstance(d, str) else d.get(base, {}).get("value")
            rows.append(row)
    columns = ["characteristic", "group", "assessable", "reference", "n"]
    return pd.DataFrame(rows, columns=columns + FAIRNESS_COLUMNS + FAIRNESS_DISPARITIES)


@dataclass
class MonitorReport:
    """Everything one monitoring run found, ready to write and to summarise."""

    as_of: str
    feature_drift: pd.DataFrame
    score_drift: dict
    flag_rates: pd.DataFrame
    flag_rates_by_group: pd.DataFrame
    fairness: pd.DataFrame | None
    agreement: pd.DataFrame
    alerts: list[str]
    fairness_gate: GateResult | None = None
    fairness_audit: AuditResult | None = None
    fairness_note: str = ""

    def headline(self) -> dict:
        shifted = self.feature_drift[self.feature_drift["status"] == "significant shift"]
        return {
            "as_of": self.as_of,
            "score_psi": self.score_drift.get("psi"),
            "score_status": self.score_drift.get("status"),
            "features_shifted": int(len(shifted)),
            "decisions_reviewed": int(
                self.agreement.loc[self.agreement["dimension"] == "overall", "decisions"].sum()
            )
            if not self.agreement.empty
            else 0,
            "alerts": len(self.alerts),
        }


def alerts_for(
    drift: pd.DataFrame,
    scores: dict,
    gate: GateResult | None = None,
    audit: AuditResult | None = None,
    up_to: int = 5,
) -> list[str]:
    """Plain-English alerts for the data team: shifts past the alert line, and disparities on
    recent labelled referrals that fail the promotion gate's own rule (outside the band, with an
    interval that excludes parity), so the monitor and the gate never disagree about noise."""
    alerts = [
        f"input {row.feature} has shifted (PSI {row.psi:.2f})"
        for row in drift.itertuples()
        if row.status == "significant shift"
    ]
    if scores.get("status") == "significant shift":
        alerts.append(f"the scores have shifted (PSI {scores['psi']:.2f})")
    if gate is not None:
        for check in [*gate.failures, *getattr(gate, "reported", [])]:
            blocking = "" if getattr(check, "gated", True) else " (reported, not gated)"
            value = f"{check.value:.2f}"
            if audit is not None and _suppressed_check(audit, check, up_to):
                value = f"{SUPPRESSED} (figures suppressed: small numbers)"
            alerts.append(
                f"{check.metric.upper()} {check.kind} {value} for {check.characteristic} "
                f"group {check.group} (reference {check.reference}) on recent labelled "
                f"referrals{blocking}"
            )
    return alerts


def _suppressed_check(audit: AuditResult, check, up_to: int) -> bool:
    plan = disclosure_plan(audit, up_to)
    return plan.view((check.characteristic, check.group), check.metric) == HIDDEN


def build_monitor_report(
    table: pd.DataFrame,
    model,
    decisions: pd.DataFrame,
    *,
    label: str,
    as_of: pd.Timestamp,
    train_window: tuple[pd.Timestamp, pd.Timestamp],
    flagged_bands: list[str],
    band_order: list[str],
    window_days: int,
    label_window_days: int,
    fairness: FairnessSettings,
    alert: float = 0.25,
    calibration_end: pd.Timestamp | None = None,
    up_to: int = 5,
) -> MonitorReport:
    """Everything the monitor measures, from the feature table, the model in use and the
    managers' decisions.

    ``model`` is the deployed ``FrontDoorModel`` (``feature_names``, ``predict_proba``,
    ``bands``). Reference: decisions in the model's training window. Recent: the last
    ``window_days`` before ``as_of``. Fairness: the most recent decisions whose outcome is known
    *and* that were decided on or after ``calibration_end`` (the deployed model's calibration
    window ends there; earlier decisions are in-sample). Without it, no fairness is audited.
    """
    from frontdoor.governance.fairness.characteristics import derive_characteristics

    dates = pd.to_datetime(table["decision_date"])
    as_of = pd.Timestamp(as_of)
    reference = table[(dates >= train_window[0]) & (dates <= train_window[1])]
    recent = table[(dates > as_of - pd.Timedelta(days=window_days)) & (dates <= as_of)]
    columns = list(model.feature_names)
    drift = feature_drift(reference, recent, columns, alert=alert)
    scores = score_drift(
        model.predict_proba(reference) if len(reference) else [],
        model.predict_proba(recent) if len(recent) else [],
        alert=alert,
    )

    # Flag rates over the last year of referrals, overall and by group.
    year = table[(dates > as_of - pd.Timedelta(days=365)) & (dates <= as_of)].copy()
    if "decision_kind" in year:
        year = year[year["decision_kind"] == "referral"]
    year, groups = derive_characteristics(year)
    p = model.predict_proba(year) if len(year) else np.array([])
    year["band"] = model.bands.transform(p).astype(str) if len(year) else []
    year["referral_date"] = year["decision_date"]
    rates = flag_rates(year, band_order, flagged_bands)
    by_group = (
        pd.concat(
            [
                flag_rates(year, band_order, flagged_bands, by=column)
                .rename(columns={column: "group"})
                .assign(characteristic=name)
                for name, column in groups.items()
                if name != "ethnicity_x_sex"
            ],
            ignore_index=True,
        )
        if len(year)
        else pd.DataFrame()
    )

    # Fairness on the most recent decisions whose outcome is now known.
    fairness_frame, gate, audit, note = None, None, None, ""
    labelled = recent_labelled(table, label, as_of, label_window_days, max(window_days, 180))
    if calibration_end is None:
        labelled = labelled.iloc[0:0]
        note = (
            "recent fairness not audited: the model's calibration end is not recorded on its "
            "training run, so recent labelled decisions could be the ones it was fitted on"
        )
    else:
        cal_end = pd.Timestamp(calibration_end)
        labelled = labelled[pd.to_datetime(labelled["decision_date"]) >= cal_end]
        labelled = labelled.reset_index(drop=True)
        if len(labelled) < fairness.min_group_size:
            note = (
                f"recent fairness not audited yet: {shown_count(len(labelled), up_to)} labelled "
                f"decisions after the model's calibration end ({cal_end.date()}), fewer than "
                f"{fairness.min_group_size}; decisions before it were used to fit the model"
            )
    if len(labelled) >= fairness.min_group_size:
        labelled, characteristics = derive_characteristics(labelled)
        labelled["probability"] = model.predict_proba(labelled)
        labelled["flagged"] = np.isin(
            model.bands.transform(labelled["probability"].to_numpy()).astype(str), flagged_bands
        ).astype(int)
        labelled["y"] = labelled[label].astype(int)
        try:
            audit = recent_fairness(
                labelled,
                label="y",
                score="probability",
                characteristics=characteristics,
                settings=fairness,
                flagged="flagged",
            )
            fairness_frame = published_fairness(audit, up_to)
            gate = evaluate_gate(audit, fairness)
        except ValueError as exc:  # e.g. a reference group too small in a short window
            fairness_frame, gate, audit = None, None, None
            note = f"recent fairness not audited: {exc}"

    # Managers' agreement with the flags, by band and group.
    if decisions.empty:
        agreement = decision_agreement(decisions)
    else:
        people, group_cols = derive_characteristics(
            table[table["decision_id"].isin(decisions["decision_id"])]
        )
        cols = [c for n, c in group_cols.items() if n != "ethnicity_x_sex"]
        agreement = decision_agreement(decisions, people, cols)

    return MonitorReport(
        as_of=as_of.date().isoformat(),
        feature_drift=drift,
        score_drift=scores,
        flag_rates=rates,
        flag_rates_by_group=by_group,
        fairness=fairness_frame,
        agreement=agreement,
        alerts=alerts_for(drift, scores, gate, audit, up_to),
        fairness_gate=gate,
        fairness_audit=audit,
        fairness_note=note,
    )
