"""The review store's tables, declared once (SQLAlchemy Core); alembic migrations create them.

``decisions`` and ``audit_log`` are append-only: the migrations add database triggers that
refuse UPDATE and DELETE, and the store offers no function that would try.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A team manager reviews like a reviewer and also releases or reassigns claimed cases.
ROLES = ("reviewer", "team_manager", "data_scientist", "governance", "admin")
ACTIONS = {
    "strategy_discussion": "Strategy discussion",
    "assessment": "Assessment",
    "early_help": "Early help",
    "no_further_action": "No further action",
    "other": "Other",
}
APPEND_ONLY_TABLES = ("decisions", "audit_log", "allocations", "band_outcomes")
# Tables whose rows carry the hash of the row before (``review.chain``).
CHAINED_TABLES = ("decisions", "audit_log")

scored_referrals = Table(
    "scored_referrals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(128), nullable=False),
    Column("child_id", String(128), nullable=False),
    Column("referral_date", Date, nullable=False),
    Column("label", String(64), nullable=False),
    Column("probability", Float, nullable=False),
    Column("band", String(32), nullable=False),
    Column("band_rank", Integer, nullable=False),  # 0 = most urgent band
    Column("model_name", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("reasons_json", Text, nullable=False),
    Column("families", String(512), nullable=False, default=""),  # ",fam1,fam2," of raising reasons
    Column("scored_at", DateTime, nullable=False),
    Column("team", String(64), nullable=False),
    Column("is_current", Boolean, nullable=False, default=True),
    Column("loaded_at", DateTime, nullable=False),
    Column("flagged_since", DateTime, nullable=True),  # first scoring that flagged it
    UniqueConstraint("decision_id", "label", "model_name", "model_version"),
    Index(None, "is_current", "label", "band_rank", "referral_date"),
    Index(None, "decision_id"),
    Index(None, "child_id"),
)

# What happened to the backtest's test referrals in each band of a model version
# (``records.scores.BAND_OUTCOME_SCHEMA``): facts of the version, fixed when it was trained, so
# rows are only ever added (one per label, model, version and band), never changed.
band_outcomes = Table(
    "band_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("label", String(64), nullable=False),
    Column("model_name", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("band", String(32), nullable=False),
    Column("test_referrals", Integer, nullable=False),
    Column("observed_rate", Float, nullable=True),
    Column("observed_low", Float, nullable=True),
    Column("observed_high", Float, nullable=True),
    Column("mean_probability", Float, nullable=True),
    Column("loaded_at", DateTime, nullable=False),
    UniqueConstraint("label", "model_name", "model_version", "band"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(256), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", DateTime, nullable=True),
    Column("removed_at", DateTime, nullable=True),  # a leaver: kept for the audit trail
    Column("password_changed_at", DateTime, nullable=True),
    Column("oidc_subject", String(255), nullable=True),  # issuer|sub, for OpenID Connect
    Index(None, "oidc_subject", unique=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the cookie; never the token
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen", DateTime, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(128), nullable=False),  # the referral (decision point)
    Column("score_id", Integer, ForeignKey("scored_referrals.id"), nullable=False),
    Column("label", String(64), nullable=False),
    Column("model_name", String(128), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("band", String(32), nullable=False),
    Column("probability", Float, nullable=False),
    Column("agrees", Boolean, nullable=False),
    Column("action", String(32), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Column("supersedes", Integer, ForeignKey("decisions.id"), nullable=True),
    Column("form_token", String(64), nullable=False, unique=True),  # one submission, one entry
    Column("prev_hash", String(64), nullable=True),
    Column("row_hash", String(64), nullable=True),
    Index(None, "decision_id"),
    Index(None, "decided_at"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("username", String(64), nullable=True),
    Column("role", String(32), nullable=True),
    Column("action", String(32), nullable=False),
    Column("target", String(128), nullable=True),
    Column("detail", Text, nullable=True),
    Column("prev_hash", String(64), nullable=True),
    Column("row_hash", String(64), nullable=True),
    Index(None, "action", "target"),
    Index(None, "at"),
    Index(None, "user_id", "action", "at"),
)

# Who works a flagged referral: each row claims it for someone (assignee) or releases it
# (assignee NULL). The latest row per referral is in force; rows are never changed.
allocations = Table(
    "allocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(128), nullable=False),
    Column("assignee_id", Integer, ForeignKey("users.id"), nullable=True),
    Column("by_user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("at", DateTime, nullable=False),
    Index(None, "decision_id", "id"),
)

# Failed sign-ins per (account, address) and per address: the lockout is never global to an
# account, so a stranger cannot lock a named user out from elsewhere.
sign_in_throttle = Table(
    "sign_in_throttle",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("locked_until", DateTime, nullable=True),
    Column("updated_at", DateTime, nullable=False),
)

# Sign-in form tokens already used (their SHA-256): a token is good once, and only while fresh.
login_nonces = Table(
    "login_nonces",
    metadata,
    Column("nonce_hash", String(64), primary_key=True),
    Column("used_at", DateTime, nullable=False),
)
