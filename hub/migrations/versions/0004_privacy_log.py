"""data protection: the privacy log, deliveries and calls found by record id

Revision ID: 0004_privacy
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_privacy"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_record", "outbox", ["record_id"])
    op.create_index("ix_calls_record", "calls", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_calls_record", table_name="calls")
    op.drop_index("ix_outbox_record", table_name="outbox")
    op.drop_table("privacy_log")
