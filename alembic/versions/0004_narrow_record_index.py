"""Narrow record index (record_id -> log id, offset, position), logs with ids, sessions listed by user.

The projection is derived data: this revision drops the wide `records` table and the path-keyed
checkpoints and empties `sessions`, so the next catch-up replays every log from its first byte into
the new tables (no data is migrated; the logs are the record).

Revision ID: 0004_narrow_record_index
Revises: 0003_consent_curation
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_narrow_record_index"
# After the consent revision, which main already carried: a database stamped 0003_consent_curation
# then upgrades through this one (it was written as 0002 on a branch, and renumbered when merged).
down_revision = "0003_consent_curation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_records_user_id"), table_name="records")
    op.drop_index(op.f("ix_records_session_id"), table_name="records")
    op.drop_table("records")
    op.drop_table("log_checkpoints")
    op.execute("DELETE FROM sessions")
    op.drop_index(op.f("ix_sessions_user_id"), table_name="sessions")
    op.create_index("ix_sessions_user_start", "sessions", ["user_id", "start_time", "session_id"])
    op.create_table(
        "logs",
        sa.Column("log_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("end_offset", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("log_id"),
        sa.UniqueConstraint("path"),
    )
    op.create_table(
        "record_index",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("log_id", sa.Integer(), nullable=False),
        sa.Column("log_offset", sa.BigInteger(), nullable=False),
        sa.Column("log_position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    raise NotImplementedError("the projection is rebuilt, not downgraded: drop it and `a3cp rebuild`")
