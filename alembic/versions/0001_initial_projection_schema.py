"""Initial projection schema: sessions, the record_id index and per-log checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_checkpoints",
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("path"),
    )
    op.create_table(
        "records",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("performer_id", sa.String(length=64), nullable=False),
        sa.Column("timestamp", sa.String(length=24), nullable=False),
        sa.Column("log_path", sa.String(length=512), nullable=False),
        sa.Column("log_offset", sa.BigInteger(), nullable=False),
        sa.Column("log_position", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.String(length=36), nullable=True),
        sa.Column("features_uri", sa.String(length=512), nullable=True),
        sa.Column("features_hash", sa.String(length=80), nullable=True),
        sa.Column("features_t", sa.Integer(), nullable=True),
        sa.Column("features_d", sa.Integer(), nullable=True),
        sa.Column("features_dims", sa.Integer(), nullable=True),
        sa.Column("features_encoding", sa.String(length=256), nullable=True),
        sa.Column("features_dtype", sa.String(length=16), nullable=True),
        sa.Column("features_format", sa.String(length=16), nullable=True),
        sa.Column("quality", sa.JSON(), nullable=True),
        sa.Column("annotation_intent", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index(op.f("ix_records_session_id"), "records", ["session_id"], unique=False)
    op.create_index(op.f("ix_records_user_id"), "records", ["user_id"], unique=False)
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_record_id", sa.String(length=36), nullable=False),
        sa.Column("start_time", sa.String(length=24), nullable=False),
        sa.Column("performer_id", sa.String(length=64), nullable=False),
        sa.Column("end_record_id", sa.String(length=36), nullable=True),
        sa.Column("end_time", sa.String(length=24), nullable=True),
        sa.Column("end_performer_id", sa.String(length=64), nullable=True),
        sa.Column("is_training_data", sa.Boolean(), nullable=False),
        sa.Column("session_notes", sa.Text(), nullable=True),
        sa.Column("training_intent_label", sa.String(length=200), nullable=True),
        sa.Column("last_activity", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_index(op.f("ix_sessions_last_activity"), "sessions", ["last_activity"], unique=False)
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_last_activity"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(op.f("ix_records_user_id"), table_name="records")
    op.drop_index(op.f("ix_records_session_id"), table_name="records")
    op.drop_table("records")
    op.drop_table("log_checkpoints")
