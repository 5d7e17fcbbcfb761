"""Consent per user and scope, and the curation (label, status) of captures (docs/privacy.md).

Revision ID: 0003_consent_curation
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_consent_curation"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_scopes",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("consent_record_id", sa.String(length=36), nullable=True),
        sa.Column("valid_until", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("user_id", "scope"),
    )
    op.create_table(
        "capture_curation",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index(op.f("ix_capture_curation_user_id"), "capture_curation", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_capture_curation_user_id"), table_name="capture_curation")
    op.drop_table("capture_curation")
    op.drop_table("consent_scopes")
