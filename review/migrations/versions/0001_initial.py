"""The review store: scored referrals, users, sessions, decisions, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scored_referrals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("child_id", sa.String(128), nullable=False),
        sa.Column("referral_date", sa.Date(), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("band", sa.String(32), nullable=False),
        sa.Column("band_rank", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("reasons_json", sa.Text(), nullable=False),
        sa.Column("families", sa.String(512), nullable=False),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scored_referrals"),
        sa.UniqueConstraint(
            "decision_id",
            "label",
            "model_name",
            "model_version",
            name="uq_scored_referrals_decision_id_label_model_name_model_version",
        ),
    )
    op.create_index(
        "ix_scored_referrals_is_current_label_band_rank_referral_date",
        "scored_referrals",
        ["is_current", "label", "band_rank", "referral_date"],
    )
    op.create_index("ix_scored_referrals_decision_id", "scored_referrals", ["decision_id"])
    op.create_index("ix_scored_referrals_child_id", "scored_referrals", ["child_id"])

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )

    op.create_table(
        "sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_sessions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sessions_user_id_users"),
    )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("band", sa.String(32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("agrees", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("form_token", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.ForeignKeyConstraint(
            ["score_id"], ["scored_referrals.id"], name="fk_decisions_score_id_scored_referrals"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_decisions_user_id_users"),
        sa.ForeignKeyConstraint(
            ["supersedes"], ["decisions.id"], name="fk_decisions_supersedes_decisions"
        ),
        sa.UniqueConstraint("form_token", name="uq_decisions_form_token"),
    )
    op.create_index("ix_decisions_decision_id", "decisions", ["decision_id"])
    op.create_index("ix_decisions_decided_at", "decisions", ["decided_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(64), nullable=True),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(128), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_action_target", "audit_log", ["action", "target"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("decisions")
    op.drop_table("sessions")
    op.drop_table("users")
    op.drop_table("scored_referrals")
