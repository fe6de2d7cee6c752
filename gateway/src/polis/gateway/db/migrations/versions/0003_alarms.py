"""Alarms: lifecycle with one open alarm per key, history, e-mail recipients and outbox,
fallback-plan runs.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
OPEN = sa.text("state <> 'cleared'")


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(120), nullable=False),
        sa.Column("building", sa.String(200), nullable=False, index=True),
        sa.Column("subject", sa.String(400), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("severity_rank", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_comment", sa.Text()),
        sa.Column("cleared_at", TS),
        sa.Column("evidence", sa.JSON(), nullable=False),
    )
    # At most one open alarm per key, on both backends (partial unique index).
    op.create_index(
        "ux_alarms_open_key",
        "alarms",
        ["rule", "building", "subject"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    op.create_index("ix_alarms_state_severity", "alarms", ["state", "severity_rank"])
    op.create_table(
        "alarm_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "alarm_id",
            sa.Integer(),
            sa.ForeignKey("alarms.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", TS, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    op.create_table(
        "alarm_mail_recipients",
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("buildings", sa.JSON(), nullable=False),
        sa.Column("neighbourhood", sa.String(200)),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("digest_hours", sa.Integer(), nullable=False),
        sa.Column("min_severity_rank", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_digest_at", TS),
    )
    op.create_table(
        "alarm_mail_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "recipient",
            sa.String(200),
            sa.ForeignKey("alarm_mail_recipients.subject", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "alarm_id", sa.Integer(), sa.ForeignKey("alarms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("mail_id", sa.String(36)),
    )
    op.create_table(
        "alarm_mails",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recipient", sa.String(200), nullable=False, index=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_line", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("due_s", sa.Float(), nullable=False),
        sa.Column("claim_token", sa.String(36)),
        sa.Column("claimed_until_s", sa.Float()),
    )
    op.create_index("ix_alarm_mails_status_due", "alarm_mails", ["status", "due_s"])
    op.create_table(
        "alarm_fallback_runs",
        sa.Column("building", sa.String(200), primary_key=True),
        sa.Column("since", TS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alarm_fallback_runs")
    op.drop_index("ix_alarm_mails_status_due", "alarm_mails")
    for table in ("alarm_mails", "alarm_mail_items", "alarm_mail_recipients", "alarm_events"):
        op.drop_table(table)
    op.drop_index("ix_alarms_state_severity", "alarms")
    op.drop_index("ux_alarms_open_key", "alarms")
    op.drop_table("alarms")
