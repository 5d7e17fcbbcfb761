"""Sessions by status: a person's active session is found in one index probe at every sessions.start,
and the timeout sweep reads the active sessions only (neither grows with the closed sessions).

Revision ID: 0005_sessions_by_status
Revises: 0004_narrow_record_index
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0005_sessions_by_status"
down_revision = "0004_narrow_record_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sessions_user_status", "sessions", ["user_id", "status"])
    op.create_index("ix_sessions_status_activity", "sessions", ["status", "last_activity"])


def downgrade() -> None:
    op.drop_index("ix_sessions_status_activity", table_name="sessions")
    op.drop_index("ix_sessions_user_status", table_name="sessions")
