"""Promoting a registered model version to ``champion`` through its guards.

A version becomes champion only when (1) its fairness audit passed the gate, or a named person
recorded why a failed gate is overridden; (2) it is non-inferior to the current champion on the
primary metric over the same test referrals (paired bootstrap, ``governance`` settings); and
(3) its bands are sane on the latest referrals (each band's share near its training share).
Every promotion, refusal and override is a row of the append-only promotion log
(`models.promotion_log`); a re-run that finds the version already champion writes nothing.
A version never audited is never promoted, and no override replaces an audit.

Refusals answer fast: who is promoting, whether the version exists, what the log says and the
audit's verdict (version tags) are read before anything imports MLflow, through the local
SQLite registry when the store is one (`models.local_registry`; MLflow otherwise), and a
refusal at the gate is recorded there too. Only the comparison with the champion and the band
check (which load predictions and the model) import MLflow and pandas. The audit itself is
`governance.version_audit` (its names are still importable from here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from frontdoor.governance.fairness.tags import TAG_AUDIT_RUN, TAG_GATE, TAG_SUMMARY
from frontdoor.models.local_registry import (
    UnknownVersion,
    VersionRecord,
    model_name,
    open_local_registry,
)
from frontdoor.models.promotion_log import (
    HEAD_TAG,
    OVERRIDDEN,
    PROMOTED,
    REFUSED,
    Anchor,
    PromotionLog,
    mlflow_anchor,
    promotion_log,
)
from frontdoor.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

MIN_RATIONALE_CHARS = 20
CHAMPION = "champion"  # the alias (models.tracking.CHAMPION)
# The audit's names, importable from here as before the split (notebooks, older callers).
_AUDIT_NAMES = frozenset(
    {
        "ModelAudit",
        "audit_flags",
        "audit_predictions",
        "audit_model_version",
        "FLAG_COLUMN",
        "SCORE_COLUMN",
        "OUTCOME_COLUMN",
    }
)


def __getattr__(name: str) -> Any:
    """`governance.version_audit`'s names, imported only when asked for (start-up time)."""
    if name in _AUDIT_NAMES:
        from frontdoor.governance import version_audit  # (start-up time)

        return getattr(version_audit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PromotionRefused(RuntimeError):
    """Promotion was refused; the message says why and what to do. ``recorded``: the refusal
    is a row of the promotion log (not so for a request naming nobody or no known version)."""

    def __init__(self, message: str, recorded: bool = False):
        super().__init__(message)
        self.recorded = recorded


@dataclass
class Promotion:
    model_name: str
    version: str
    previous_champion: str | None
    gate: str
    overridden: bool
    by: str
    at: str
    already: bool = False  # the version was already champion: nothing was written
    checks: dict = field(default_factory=dict)


class Registry:
    """The registry as promotion reads and records it: the local SQLite registry when the
    store is one this code knows (no MLflow import), else MLflow's client."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.local = open_local_registry(settings)

    def version(self, label: str, ref: str | int) -> VersionRecord:
        name = model_name(self.settings, label)
        if self.local is not None:
            try:
                return self.local.version(name, ref)
            except UnknownVersion as error:
                known = ", ".join(self.local.versions(name)) or "none registered"
                raise PromotionRefused(
                    f"There is no version {ref} of {name}: {error} (versions: {known})."
                ) from error
        from frontdoor.models import registry  # (start-up time)

        try:
            mv = registry.get_version(self.settings, label, ref)
        except Exception as error:  # MLflow raises its own RestException for a missing version
            raise PromotionRefused(f"There is no version {ref} of {name}: {error}") from error
        return VersionRecord(
            mv.name, str(mv.version), mv.run_id, dict(mv.tags), tuple(mv.aliases or ())
        )

    def anchor(self) -> Anchor:
        """Where the promotion log's head is kept (a registered-model tag, either way)."""
        local = self.local
        if local is not None:
            return Anchor(
                lambda name: local.registered_model_tag(name, HEAD_TAG),
                lambda name, value: local.set_registered_model_tag(name, HEAD_TAG, value),
            )
        from frontdoor.models.tracking import client  # (start-up time)

        return mlflow_anchor(client(self.settings))

    def describe(self, mv: VersionRecord, status: str, part: str = "promotion") -> None:
        """The version's description with ``status`` as its promotion (or audit) part."""
        if self.local is not None:
            self.local.describe(mv.name, mv.version, status, part)
            return
        from frontdoor.models.tracking import describe_version  # (start-up time)

        describe_version(self.settings, mv.name, mv.version, status, part=part)

    def log(self) -> PromotionLog:
        return promotion_log(self.settings, anchor=self.anchor())


class Guards:
    """What promotion checked, in the order it checks; ``refusal`` is the first that failed.

    The gate comes first and a refusal there is final: the comparison and the band check (which
    load predictions and the model through MLflow) run only for a version the gate lets through."""

    def __init__(self):
        self.checks: dict = {}
        self.refusal: str | None = None

    def fail(self, reason: str) -> None:
        if self.refusal is None:
            self.refusal = reason


def _gate_guard(
    tags: dict, mv: VersionRecord, label: str, rationale: str, by: str, guards: Guards
) -> str | None:
    """The fairness gate (or a recorded override). Returns the gate ("pass"/"fail") or None."""
    gate = tags.get(TAG_GATE)
    if gate not in ("pass", "fail") or tags.get(TAG_AUDIT_RUN) != mv.run_id:
        guards.fail(
            f"Version {mv.version} of {mv.name} has no fairness audit, so it cannot be promoted "
            f"(no override can replace an audit). Run `frontdoor audit --model-version "
            f"{mv.version} --label {label}` first."
        )
        return None
    guards.checks["gate"] = {"result": gate, "summary": tags.get(TAG_SUMMARY, "")}
    if gate == "fail":
        if not rationale:
            guards.fail(
                f"Version {mv.version} of {mv.name} failed the fairness gate "
                f"({tags.get(TAG_SUMMARY, 'see fairness/audit.html')}). It can be "
                "promoted only with --override-rationale TEXT (why it is acceptable) and --by NAME."
            )
        elif len(rationale) < MIN_RATIONALE_CHARS:
            guards.fail(
                f"An override rationale must be written out (at least {MIN_RATIONALE_CHARS} "
                f"characters); got {len(rationale)}."
            )
    return gate


def _comparison_guard(
    settings: Settings, label: str, mv: VersionRecord, champion: dict | None, guards: Guards
) -> None:
    """Non-inferior to the log's champion on the primary metric, over the same test rows."""
    if champion is None:
        guards.checks["comparison"] = {"text": "no champion yet: nothing to compare with"}
        return
    from frontdoor.governance.comparison import (  # (start-up time)
        NoSharedRows,
        non_inferiority,
        shared_test_rows,
    )
    from frontdoor.models import registry  # (start-up time: MLflow)

    try:
        ours = registry.test_predictions(settings, mv.run_id)
        theirs_mv = registry.get_version(settings, label, champion["version"])
        theirs = registry.test_predictions(settings, theirs_mv.run_id)
        result = non_inferiority(shared_test_rows(ours, theirs), settings)
    except NoSharedRows as error:
        guards.checks["comparison"] = {"text": str(error)}
        guards.fail(f"Not compared with champion version {champion['version']}: {error}.")
        return
    guards.checks["comparison"] = {"against": str(champion["version"]), **result.as_dict()}
    if not result.passed:
        guards.fail(f"Against champion version {champion['version']}: {result.text()}.")


def _band_guard(
    settings: Settings,
    label: str,
    mv: VersionRecord,
    latest: pd.DataFrame | None,
    guards: Guards,
) -> None:
    """Each band's share of the latest referrals near its training share."""
    if latest is None:
        guards.fail("The band check needs the latest feature table (none was found).")
        return
    from frontdoor.governance.comparison import band_check, latest_referrals  # (start-up time)
    from frontdoor.models import registry  # (start-up time: MLflow)

    g = settings.governance
    recent = latest_referrals(latest, g.band_check_days, g.min_band_check_rows)
    try:
        model = registry.load_native(settings, label, mv.version)
    except Exception as error:  # noqa: BLE001 - a version without a loadable model
        guards.fail(f"The band check could not load version {mv.version}'s model: {error}")
        return
    result = band_check(model, recent, settings)
    guards.checks["bands"] = result.as_dict()
    if not result.passed:
        guards.fail(f"Bands not sane: {result.text()}.")


def _latest_table(settings: Settings, features: Path | pd.DataFrame | None) -> pd.DataFrame | None:
    import pandas as pd  # (start-up time)

    from frontdoor.records.feature_table import read_feature_table  # (start-up time: pandas)

    if isinstance(features, pd.DataFrame):
        return features
    if features is None:
        from frontdoor.records.feature_table import (  # (start-up time: pandas)
            default_feature_path,
        )

        features = default_feature_path(settings)
    path = Path(features)
    try:
        return read_feature_table(path)
    except (FileNotFoundError, OSError, ValueError):
        return None


def promote(
    settings: Settings,
    label: str,
    version: str | int,
    override_rationale: str | None = None,
    by: str | None = None,
    features: Path | pd.DataFrame | None = None,
) -> Promotion:
    """Point ``champion`` at ``version`` if every guard passes; log the promotion or refusal.

    ``by`` (who promotes) is required. ``features``: the feature table (or its folder) whose
    latest referrals the band check uses (default: ``paths.features``)."""
    who = (by or "").strip()
    if not who:
        raise PromotionRefused("Say who is promoting: add --by NAME (it is recorded in the log).")
    store = Registry(settings)
    mv = store.version(label, version)
    log = store.log()
    champion = log.champion(mv.name)
    if champion is not None and str(champion["version"]) == str(mv.version):
        return _already(mv, champion)
    rationale = (override_rationale or "").strip()
    guards = Guards()
    gate = _gate_guard(mv.tags, mv, label, rationale, who, guards)
    if guards.refusal is None:  # a refusal at the gate is final: no need to load predictions
        _comparison_guard(settings, label, mv, champion, guards)
        _band_guard(settings, label, mv, _latest_table(settings, features), guards)
    previous = str(champion["version"]) if champion else None
    entry = {
        "label": label,
        "model_name": mv.name,
        "version": str(mv.version),
        "run_id": mv.run_id,
        "by": who,
        "gate": gate or "not audited",
        "previous_champion": previous,
        "checks": guards.checks,
    }
    if guards.refusal is not None:
        log.append({**entry, "action": REFUSED, "why": guards.refusal})
        store.describe(mv, f"Promotion refused: {guards.refusal}")
        raise PromotionRefused(guards.refusal, recorded=True)
    overridden = gate == "fail"
    why = rationale if overridden else "every guard passed"
    row = log.append({**entry, "action": OVERRIDDEN if overridden else PROMOTED, "why": why})
    _record(settings, mv, row, store)
    from frontdoor.models import registry  # (start-up time)

    registry.set_alias(settings, label, CHAMPION, mv.version)
    return Promotion(
        mv.name, str(mv.version), previous, gate, overridden, who, row["at"], False, guards.checks
    )


def _already(mv: VersionRecord, champion: dict) -> Promotion:
    """A re-run: the log already names this version champion; nothing is written."""
    return Promotion(
        mv.name,
        str(mv.version),
        champion.get("previous_champion"),
        champion.get("gate", ""),
        champion.get("action") == OVERRIDDEN,
        champion["by"],
        champion["at"],
        already=True,
        checks=champion.get("checks", {}),
    )


def _record(settings: Settings, mv: VersionRecord, row: dict, store: Registry) -> None:
    """Mirror the log row on the version and its run (for the MLflow UI; the log is the truth)."""
    from frontdoor.models.tracking import client  # (start-up time)

    c = client(settings)
    tags = {
        "promotion.promoted_at": row["at"],
        "promotion.promoted_by": row["by"],
        "promotion.gate": row["gate"],
        "promotion.previous_champion": row["previous_champion"] or "none",
        "promotion.override": "true" if row["action"] == OVERRIDDEN else "false",
        "promotion.log_seq": str(row["seq"]),
        "promotion.log_hmac": row["hmac"],
    }
    if row["action"] == OVERRIDDEN:
        tags["promotion.override_rationale"] = row["why"][:4900]
        tags["promotion.override_by"] = row["by"]
        tags["promotion.override_at"] = row["at"]
    for key, value in tags.items():
        c.set_model_version_tag(mv.name, str(mv.version), key, value)
        c.set_tag(mv.run_id, key, value)
    how = (
        "by OVERRIDE of a failed fairness gate"
        if row["action"] == OVERRIDDEN
        else "every guard passed"
    )
    comparison = row["checks"].get("comparison", {}).get("text", "")
    store.describe(
        mv,
        f"Champion since {row['at']} ({how}; promoted by {row['by']}; log row {row['seq']}). "
        + comparison,
    )


def promote_or_refuse(
    settings: Settings,
    label: str,
    version: str,
    features: Path | None,
    override_rationale: str | None,
    by: str | None,
) -> dict:
    """What the flows record: promoted or not, and why (a refusal is logged, not raised)."""
    try:
        done = promote(settings, label, version, override_rationale, by, features)
    except PromotionRefused as refused:
        return {
            "label": label,
            "model_version": str(version),
            "promoted": False,
            "how": f"not promoted: {refused}",
        }
    if done.already:
        how = f"already champion (promoted {done.at} by {done.by}); nothing rewritten"
    elif done.overridden:
        how = f"promoted by OVERRIDE of a failed fairness gate ({done.by}): {override_rationale}"
    else:
        how = f"promoted by {done.by}: every guard passed"
    return {
        "label": label,
        "model_version": done.version,
        "previous_champion": done.previous_champion,
        "promoted": True,
        "already": done.already,
        "overridden": bool(done.overridden),
        "how": how,
        "checks": done.checks,
    }
