"""sign-up, invoices, bank payments and the DID pool

Revision ID: 0004_billing
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_billing"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "did_pool",
        sa.Column("did", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("assigned_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("did"),
    )
    op.create_index("ix_did_pool_status", "did_pool", ["status", "did"])
    op.create_table(
        "invoice_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    op.create_table(
        "invoices",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("plan", sa.String(length=16), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        sa.Column("seller", sa.JSON(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("net_cents", sa.BigInteger(), nullable=False),
        sa.Column("vat_cents", sa.BigInteger(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("payment_reference", sa.String(length=32), nullable=False),
        sa.Column("public_token", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("paid_cents", sa.BigInteger(), nullable=True),
        sa.Column("paid_method", sa.String(length=32), nullable=True),
        sa.Column("paid_reference", sa.Text(), nullable=True),
        sa.Column("fulfilled_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("number"),
        sa.UniqueConstraint("payment_reference"),
        sa.UniqueConstraint("public_token"),
        sa.UniqueConstraint("year", "seq", name="uq_invoices_year_seq"),
    )
    op.create_index("ix_invoices_client", "invoices", ["client"])
    op.create_table(
        "signups",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("invoice", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("message_option", sa.String(length=8), nullable=False),
        sa.Column("did", sa.String(length=32), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("activated_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["invoice"], ["invoices.number"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client"),
    )
    op.create_table(
        "payments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("entry_key", sa.String(length=128), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("file", sa.Text(), nullable=True),
        sa.Column("booked_on", sa.String(length=10), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payer", sa.Text(), nullable=True),
        sa.Column("remittance", sa.Text(), nullable=True),
        sa.Column("reference", sa.String(length=32), nullable=True),
        sa.Column("invoice", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("imported_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_key"),
    )
    op.create_index("ix_payments_status", "payments", ["status"])


def downgrade() -> None:
    op.drop_index("ix_payments_status", table_name="payments")
    op.drop_table("payments")
    op.drop_table("signups")
    op.drop_index("ix_invoices_client", table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("invoice_counters")
    op.drop_index("ix_did_pool_status", table_name="did_pool")
    op.drop_table("did_pool")
