"""one schema again: campaigns, billing, the contract lifecycle and the privacy log

Revision ID: 0005
Revises: 0004_billing, 0004_campaigns, 0004_lifecycle, 0004_privacy
"""

revision = "0005"
down_revision = ("0004_billing", "0004_campaigns", "0004_lifecycle", "0004_privacy")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the four branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
