"""Pilot hardening: hash-chained decisions and audit log, REPLACE refused, allocations, sign-in
throttling and single-use sign-in tokens, user lifecycle columns, when a referral was first flagged.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from frontdoor.review import chain

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The tables as they stood at this revision, named column by column: the backfill must not follow
# the app's current schema (a column added later does not exist yet when this runs).
COLUMNS_AT_0003 = {
    "decisions": (
        "id", "decision_id", "score_id", "label", "model_name", "model_version", "band",
        "probability", "agrees", "action", "rationale", "user_id", "decided_at", "supersedes",
        "form_token", "prev_hash", "row_hash",
    ),
    "audit_log": (
        "id", "at", "user_id", "username", "role", "action", "target", "detail",
        "prev_hash", "row_hash",
    ),
}  # fmt: skip
# typed where the type changes what the hash sees (dates, booleans, numbers); the rest is text
TYPES = {
    "id": sa.Integer(), "score_id": sa.Integer(), "user_id": sa.Integer(),
    "supersedes": sa.Integer(), "probability": sa.Float(), "agrees": sa.Boolean(),
    "decided_at": sa.DateTime(), "at": sa.DateTime(),
}  # fmt: skip
CHAINED = tuple(
    sa.table(name, *(sa.column(c, TYPES.get(c, sa.String())) for c in columns))
    for name, columns in COLUMNS_AT_0003.items()
)


def _sqlite_insert_guards() -> None:
    """SQLite's REPLACE deletes the clashing row without firing DELETE triggers: refuse any
    insert that would clash (an id already used, or at or below the last id; a used form token)."""
    for table, extra in (
        ("decisions", " OR EXISTS (SELECT 1 FROM decisions WHERE form_token = NEW.form_token)"),
        ("audit_log", ""),
        ("allocations", ""),
    ):
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN (NEW.id > 0 AND NEW.id <= COALESCE((SELECT MAX(id) FROM {table}), 0)){extra} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: REPLACE or a used id refused'); END"
        )
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER allocations_no_{verb.lower()} BEFORE {verb} ON allocations "
            f"BEGIN SELECT RAISE(ABORT, 'allocations is append-only: {verb} refused'); END"
        )


def _backfill_hashes(dialect: str) -> None:
    """Chain the rows already there (the append-only triggers are lifted for this only)."""
    bind = op.get_bind()
    for table in CHAINED:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table.name}_no_update")
        else:
            op.execute(f"ALTER TABLE {table.name} DISABLE TRIGGER {table.name}_append_only")
        prev = chain.GENESIS
        for r in bind.execute(sa.select(*table.c).order_by(table.c.id)).all():
            row = dict(r._mapping)
            digest = chain.row_hash(table, prev, row)
            bind.execute(
                sa.update(table)
                .where(table.c.id == row["id"])
                .values(prev_hash=prev, row_hash=digest)
            )
            prev = digest
        if dialect == "sqlite":
            op.execute(
                f"CREATE TRIGGER {table.name}_no_update BEFORE UPDATE ON {table.name} "
                f"BEGIN SELECT RAISE(ABORT, '{table.name} is append-only: UPDATE refused'); END"
            )
        else:
            op.execute(f"ALTER TABLE {table.name} ENABLE TRIGGER {table.name}_append_only")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in ("decisions", "audit_log"):
        op.add_column(table, sa.Column("prev_hash", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("row_hash", sa.String(64), nullable=True))
    op.create_index("ix_audit_log_user_id_action_at", "audit_log", ["user_id", "action", "at"])
    op.add_column("scored_referrals", sa.Column("flagged_since", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("removed_at", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(), nullable=True))
    op.add_column("users", sa.Column("oidc_subject", sa.String(255), nullable=True))
    op.create_index("ix_users_oidc_subject", "users", ["oidc_subject"], unique=True)
    op.create_table(
        "allocations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(128), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("by_user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_allocations"),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name="fk_allocations_assignee_id_users"
        ),
        sa.ForeignKeyConstraint(
            ["by_user_id"], ["users.id"], name="fk_allocations_by_user_id_users"
        ),
    )
    op.create_index("ix_allocations_decision_id_id", "allocations", ["decision_id", "id"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sign_in_throttle"),
    )
    op.create_table(
        "login_nonces",
        sa.Column("nonce_hash", sa.String(64), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("nonce_hash", name="pk_login_nonces"),
    )
    _backfill_hashes(dialect)
    if dialect == "sqlite":
        _sqlite_insert_guards()
    else:
        for verb in ("UPDATE OR DELETE", "TRUNCATE"):
            name = "append_only" if verb != "TRUNCATE" else "no_truncate"
            each = "ROW" if verb != "TRUNCATE" else "STATEMENT"
            op.execute(
                f"CREATE TRIGGER allocations_{name} BEFORE {verb} ON allocations "
                f"FOR EACH {each} EXECUTE FUNCTION frontdoor_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in ("decisions", "audit_log", "allocations"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_replace")
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS allocations_no_{verb}")
    op.drop_table("login_nonces")
    op.drop_table("sign_in_throttle")
    op.drop_index("ix_allocations_decision_id_id", table_name="allocations")
    op.drop_table("allocations")
    op.drop_index("ix_users_oidc_subject", table_name="users")
    op.drop_index("ix_audit_log_user_id_action_at", table_name="audit_log")
    # SQLite 3.35+ drops plain columns in place (no table rebuild, triggers kept)
    for table, column in (
        ("users", "oidc_subject"),
        ("users", "password_changed_at"),
        ("users", "removed_at"),
        ("scored_referrals", "flagged_since"),
        ("decisions", "row_hash"),
        ("decisions", "prev_hash"),
        ("audit_log", "row_hash"),
        ("audit_log", "prev_hash"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
