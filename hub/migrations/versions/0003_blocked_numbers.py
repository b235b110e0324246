"""numbers a client blocked

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocked_numbers",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["client"], ["clients.id"]),
        sa.PrimaryKeyConstraint("client", "number"),
    )


def downgrade() -> None:
    op.drop_table("blocked_numbers")
