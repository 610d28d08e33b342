"""What happened to the backtest's referrals in each band of a model version: a table the score
flow fills beside the scores, append-only like the decisions (a version's figures never change).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLE = "band_outcomes"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("band", sa.String(32), nullable=False),
        sa.Column("test_referrals", sa.Integer(), nullable=False),
        sa.Column("observed_rate", sa.Float(), nullable=True),
        sa.Column("observed_low", sa.Float(), nullable=True),
        sa.Column("observed_high", sa.Float(), nullable=True),
        sa.Column("mean_probability", sa.Float(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_band_outcomes"),
        sa.UniqueConstraint(
            "label",
            "model_name",
            "model_version",
            "band",
            name="uq_band_outcomes_label_model_name_model_version_band",
        ),
    )
    if dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: {verb} refused'); END"
            )
    else:
        for verb in ("UPDATE OR DELETE", "TRUNCATE"):
            name = "append_only" if verb != "TRUNCATE" else "no_truncate"
            each = "ROW" if verb != "TRUNCATE" else "STATEMENT"
            op.execute(
                f"CREATE TRIGGER {TABLE}_{name} BEFORE {verb} ON {TABLE} "
                f"FOR EACH {each} EXECUTE FUNCTION frontdoor_append_only()"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_{verb}")
    op.drop_table(TABLE)
