"""State shared by gateway replicas: leader lease, delivery claims, rate buckets, plan versions,
cache epochs.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        # Deliveries left by an older gateway are due at once.
        batch.add_column(sa.Column("due_s", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("claim_token", sa.String(36)))
        batch.add_column(sa.Column("claimed_until_s", sa.Float()))
        batch.create_index("ix_webhook_deliveries_status_due", ["status", "due_s"])
    op.create_table(
        "leader_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_s", sa.Float(), nullable=False),
        sa.Column("term", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_s", sa.Float(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=False),
        sa.Column("burst", sa.Float(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "plan_versions",
        sa.Column("building", sa.String(200), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
    )
    op.create_table(
        "cache_epochs",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    for table in ("cache_epochs", "plan_versions", "rate_buckets", "leader_leases"):
        op.drop_table(table)
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_index("ix_webhook_deliveries_status_due")
        batch.drop_column("claimed_until_s")
        batch.drop_column("claim_token")
        batch.drop_column("due_s")
