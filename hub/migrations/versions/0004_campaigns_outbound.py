"""outbound campaigns: campaigns, their contacts, numbers that opted out

Revision ID: 0004_campaigns
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_campaigns"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("templates", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["client"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_campaigns_client", "campaigns", ["client", "id"])
    op.create_table(
        "contacts",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("campaign", ID, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("appointment_at", TS, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=200), nullable=True),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("hold_cents", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("played_at", TS, nullable=True),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("due_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["campaign"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["client"], ["clients.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contacts_due", "contacts", ["status", "due_at"])
    op.create_index("ix_contacts_campaign", "contacts", ["campaign", "id"])
    op.create_index("ix_contacts_number", "contacts", ["number"])
    op.create_table(
        "opt_outs",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["client"], ["clients.id"]),
        sa.PrimaryKeyConstraint("number"),
    )


def downgrade() -> None:
    op.drop_table("opt_outs")
    op.drop_index("ix_contacts_number", table_name="contacts")
    op.drop_index("ix_contacts_campaign", table_name="contacts")
    op.drop_index("ix_contacts_due", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("ix_campaigns_client", table_name="campaigns")
    op.drop_table("campaigns")
