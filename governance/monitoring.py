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
from frontdoor.models.scoring import bands_and_flags, native_model
from frontdoor.records.disclosure import SUPPRESSED, hidden_parts, is_small, shown_count
from frontdoor.settings.fairness import FairnessSettings
from frontdoor.settings.governance import GovernanceSettings

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


def calibration_drift(frame: pd.DataFrame, label: str, since: pd.Timestamp | None) -> pd.DataFrame:
    """Per month of decision since ``since``: referrals, how many have a known (matured,
    uncensored) outcome, how many of those had it (``with_outcome``), the mean predicted probability and the observed rate among them.

    Outcomes mature a label window after the decision, so recent months show few matured rows;
    the gap (observed - predicted) is the calibration drift on the matured ones."""
    columns = ["month", "referrals", "matured", "with_outcome", "predicted", "observed", "gap"]
    if since is None or frame.empty:
        return pd.DataFrame(columns=columns)
    dates = pd.to_datetime(frame["decision_date"])
    part = frame.loc[dates >= pd.Timestamp(since)].copy()
    if part.empty:
        return pd.DataFrame(columns=columns)
    part["month"] = pd.to_datetime(part["decision_date"]).dt.to_period("M").astype(str)
    known = part[label].notna()
    if "censored" in part:
        known &= ~part["censored"].astype(bool)
    part["matured"] = known
    part["y"] = part[label].where(known)
    grouped = part.groupby("month", sort=True)
    out = grouped.size().rename("referrals").to_frame()
    out["matured"] = grouped["matured"].sum().astype(int)
    out["with_outcome"] = grouped["y"].sum().astype(int)
    matured = part[known].groupby("month")
    out["predicted"] = matured["probability"].mean()
    out["observed"] = matured["y"].mean()
    out["gap"] = out["observed"] - out["predicted"]
    return out.reset_index()[columns]


def publish_calibration(frame: pd.DataFrame, up_to: int) -> pd.DataFrame:
    """`calibration_drift` fit to publish: small counts (and the rates built on them) as ``c``."""
    if frame.empty:
        return frame.copy()
    return publish_counts(
        frame,
        size="referrals",
        parts=[["matured"]],
        rates={"predicted": "matured", "observed": "matured", "gap": "matured"},
        within=None,
        up_to=up_to,
    ).pipe(_hide_outcomes, frame, up_to)


def _hide_outcomes(out: pd.DataFrame, frame: pd.DataFrame, up_to: int) -> pd.DataFrame:
    """Matured rows with the outcome (escalated, re-referred: the label's): hidden when they
    or the matured rows without it are small."""
    for i in frame.index:
        had, mat = int(frame.at[i, "with_outcome"]), int(frame.at[i, "matured"])
        if is_small(had, up_to) or is_small(mat - had, up_to) or out.at[i, "matured"] == SUPPRESSED:
            out.at[i, "with_outcome"] = SUPPRESSED
            for c in ("observed", "gap"):
                out.at[i, c] = SUPPRESSED
    return out


def revisions(decisions: pd.DataFrame) -> dict:
    """Managers' overrides of the model (decisions in force that disagree with the flag) and
    revisions of their own earlier decisions (entries that supersede another)."""
    if decisions.empty:
        return {"decisions": 0, "overrides": 0, "revised": 0}
    latest = decisions[decisions["is_latest"].astype(bool)]
    return {
        "decisions": int(len(latest)),
        "overrides": int((~latest["agrees"].astype(bool)).sum()),
        "revised": int(decisions["supersedes"].notna().sum()),
    }


@dataclass
class MonitorWindow:
    """Which decisions the monitor looks at.

    Reference: the deployed model's training window. Recent: the last ``window_days`` before
    ``as_of``. Fairness and calibration: decisions on or after ``calibration_end`` (earlier ones
    were used to fit the model) whose outcome is known ``label_window_days`` later."""

    label: str
    as_of: pd.Timestamp
    train_window: tuple[pd.Timestamp, pd.Timestamp]
    window_days: int = 90
    label_window_days: int = 365
    calibration_end: pd.Timestamp | None = None


@dataclass
class MonitorRules:
    """How the monitor flags, audits, publishes and alerts (all from the configuration)."""

    flagged_bands: list[str]
    band_order: list[str]
    fairness: FairnessSettings
    governance: GovernanceSettings
    psi_alert: float = 0.25
    up_to: int = 5
    training_flag_rate: float | None = None  # share the flagged bands held in training

    @classmethod
    def from_settings(cls, settings) -> MonitorRules:
        flagged = list(settings.review.flagged_bands)
        names = list(settings.models.band_names)
        edges = [0.0, *settings.models.band_edges, 1.0]
        shares = dict(zip(names, np.diff(edges), strict=True))
        return cls(
            flagged_bands=flagged,
            band_order=names,
            fairness=settings.fairness,
            governance=settings.governance,
            psi_alert=settings.pipelines.psi_alert,
            up_to=settings.privacy.suppress_counts_up_to,
            training_flag_rate=float(sum(shares.get(b, 0.0) for b in flagged)),
        )


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
    calibration: pd.DataFrame | None = None
    revisions: dict | None = None

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


def use_alerts(report: MonitorReport, rules: MonitorRules) -> list[str]:
    """Alerts on how the model is used: flag rates far from training, calibration drift on
    matured outcomes, managers disagreeing with the flags (lines in ``governance`` settings);
    none on fewer than ``min_alert_count`` rows, and no small count is quoted."""
    g = rules.governance
    out = []
    expected = rules.training_flag_rate
    for row in report.flag_rates.itertuples():
        if expected and row.scored >= g.min_alert_count:
            change = row.flag_rate / expected - 1
            if abs(change) > g.flag_rate_change_alert:
                out.append(
                    f"{row.month}: {row.flag_rate:.0%} of referrals flagged, against "
                    f"{expected:.0%} in training"
                )
    calibration = report.calibration if report.calibration is not None else pd.DataFrame()
    for row in calibration.itertuples():
        if row.matured >= g.min_alert_count and abs(row.gap) > g.calibration_drift_alert:
            out.append(
                f"{row.month}: observed rate {row.observed:.0%} against predicted "
                f"{row.predicted:.0%} on matured outcomes (calibration drift)"
            )
    overall = report.agreement[report.agreement["dimension"] == "overall"]
    if len(overall) and int(overall["decisions"].iloc[0]) >= g.min_alert_count:
        rate = float(overall["agreement_rate"].iloc[0])
        if rate < g.agreement_alert:
            out.append(f"managers agreed with {rate:.0%} of the flags they reviewed")
    return out


def _suppressed_check(audit: AuditResult, check, up_to: int) -> bool:
    plan = disclosure_plan(audit, up_to)
    return plan.view((check.characteristic, check.group), check.metric) == HIDDEN


def _drift(table, model, window: MonitorWindow, psi_alert: float) -> tuple[pd.DataFrame, dict]:
    dates = pd.to_datetime(table["decision_date"])
    start, end = window.train_window
    reference = table[(dates >= start) & (dates <= end)]
    recent = table[
        (dates > window.as_of - pd.Timedelta(days=window.window_days)) & (dates <= window.as_of)
    ]
    drift = feature_drift(reference, recent, list(model.feature_names), alert=psi_alert)
    scores = score_drift(
        model.predict_proba(reference) if len(reference) else [],
        model.predict_proba(recent) if len(recent) else [],
        alert=psi_alert,
    )
    return drift, scores


def scored_year(table: pd.DataFrame, model, window: MonitorWindow, rules: MonitorRules):
    """The last year of referrals with band and flag exactly as scoring computes them."""
    from frontdoor.governance.fairness.characteristics import derive_characteristics

    dates = pd.to_datetime(table["decision_date"])
    year = table[(dates > window.as_of - pd.Timedelta(days=365)) & (dates <= window.as_of)].copy()
    if "decision_kind" in year:
        year = year[year["decision_kind"] == "referral"]
    year, groups = derive_characteristics(year)
    scored = bands_and_flags(model, year, rules.flagged_bands)
    year["probability"] = scored["probability"].to_numpy()
    year["band"] = scored["band"].to_numpy()
    year["referral_date"] = year["decision_date"]
    return year, groups


def monthly_flag_rates(year: pd.DataFrame, groups: dict, rules: MonitorRules):
    """Flag rates per month, overall and per group (one row per month and group)."""
    rates = flag_rates(year, rules.band_order, rules.flagged_bands)
    if not len(year):
        return rates, pd.DataFrame()
    by_group = pd.concat(
        [
            flag_rates(year, rules.band_order, rules.flagged_bands, by=column)
            .rename(columns={column: "group"})
            .assign(characteristic=name)
            for name, column in groups.items()
            if name != "ethnicity_x_sex"
        ],
        ignore_index=True,
    )
    return rates, by_group


def labelled_since_calibration(
    table: pd.DataFrame, window: MonitorWindow, min_rows: int, up_to: int
) -> tuple[pd.DataFrame, str]:
    """The most recent decisions with a known outcome decided after the calibration end (the
    model never saw them), and a note when there are none or too few."""
    labelled = recent_labelled(
        table, window.label, window.as_of, window.label_window_days, max(window.window_days, 180)
    )
    if window.calibration_end is None:
        return labelled.iloc[0:0], (
            "recent fairness not audited: the model's calibration end is not recorded on its "
            "training run, so recent labelled decisions could be the ones it was fitted on"
        )
    cal_end = pd.Timestamp(window.calibration_end)
    labelled = labelled[pd.to_datetime(labelled["decision_date"]) >= cal_end].reset_index(drop=True)
    if len(labelled) < min_rows:
        return labelled, (
            f"recent fairness not audited yet: {shown_count(len(labelled), up_to)} labelled "
            f"decisions after the model's calibration end ({cal_end.date()}), fewer than "
            f"{min_rows}; decisions before it were used to fit the model"
        )
    return labelled, ""


def fairness_in_use(table, model, window: MonitorWindow, rules: MonitorRules):
    """The fairness audit (and gate) on recent labelled decisions, flagged as the queue flags."""
    from frontdoor.governance.fairness.characteristics import derive_characteristics

    labelled, note = labelled_since_calibration(
        table, window, rules.fairness.min_group_size, rules.up_to
    )
    if note:
        return None, None, None, note
    labelled, characteristics = derive_characteristics(labelled)
    scored = bands_and_flags(model, labelled, rules.flagged_bands)
    labelled["probability"] = scored["probability"].to_numpy()
    labelled["flagged"] = scored["flagged"].astype(int).to_numpy()
    labelled["y"] = labelled[window.label].astype(int)
    try:
        audit = recent_fairness(
            labelled,
            label="y",
            score="probability",
            characteristics=characteristics,
            settings=rules.fairness,
            flagged="flagged",
        )
    except ValueError as exc:  # e.g. a reference group too small in a short window
        return None, None, None, f"recent fairness not audited: {exc}"
    return published_fairness(audit, rules.up_to), evaluate_gate(audit, rules.fairness), audit, ""


def agreement_by_group(table: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Managers' agreement with the flags, by band and group."""
    from frontdoor.governance.fairness.characteristics import derive_characteristics

    if decisions.empty:
        return decision_agreement(decisions)
    people, group_cols = derive_characteristics(
        table[table["decision_id"].isin(decisions["decision_id"])]
    )
    cols = [c for n, c in group_cols.items() if n != "ethnicity_x_sex"]
    return decision_agreement(decisions, people, cols)


def build_monitor_report(
    table: pd.DataFrame,
    model,
    decisions: pd.DataFrame,
    window: MonitorWindow,
    rules: MonitorRules,
) -> MonitorReport:
    """Everything the monitor measures, from the feature table, the model in use (a
    ``FrontDoorModel`` or its pyfunc) and the managers' decisions."""
    model = native_model(model)
    window.as_of = pd.Timestamp(window.as_of)
    drift, scores = _drift(table, model, window, rules.psi_alert)
    year, groups = scored_year(table, model, window, rules)
    rates, by_group = monthly_flag_rates(year, groups, rules)
    fairness_frame, gate, audit, note = fairness_in_use(table, model, window, rules)
    matured = year if window.calibration_end is None else _with_probability(table, model, window)
    report = MonitorReport(
        as_of=window.as_of.date().isoformat(),
        feature_drift=drift,
        score_drift=scores,
        flag_rates=rates,
        flag_rates_by_group=by_group,
        fairness=fairness_frame,
        agreement=agreement_by_group(table, decisions),
        alerts=alerts_for(drift, scores, gate, audit, rules.up_to),
        fairness_gate=gate,
        fairness_audit=audit,
        fairness_note=note,
        calibration=calibration_drift(matured, window.label, window.calibration_end),
        revisions=revisions(decisions),
    )
    report.alerts += use_alerts(report, rules)
    return report


def _with_probability(table: pd.DataFrame, model, window: MonitorWindow) -> pd.DataFrame:
    """Referrals decided since the calibration end, with the model's probability."""
    dates = pd.to_datetime(table["decision_date"])
    part = table[(dates >= pd.Timestamp(window.calibration_end)) & (dates <= window.as_of)].copy()
    if "decision_kind" in part:
        part = part[part["decision_kind"] == "referral"]
    part["probability"] = model.predict_proba(part) if len(part) else []
    return part
