"""contract lifecycle: contract state and the low-balance warning of each account

Revision ID: 0004_lifecycle
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_lifecycle"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing accounts are running contracts; the expiry job ends those whose end has passed.
    op.add_column(
        "accounts",
        sa.Column("contract_state", sa.String(length=16), nullable=False, server_default="active"),
    )
    op.add_column(
        "accounts",
        sa.Column("low_balance_warned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("low_balance_warned")
        batch.drop_column("contract_state")
