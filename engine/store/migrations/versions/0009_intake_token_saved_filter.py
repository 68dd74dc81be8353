"""intake form tokens (a double submit makes one case), saved filters per person, scheduler heartbeats (issue 18)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "intake_token",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_instance.id"), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "saved_filter",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("screen", sa.String(20), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ux_saved_filter_owner_name", "saved_filter", ["username", "screen", "name"], unique=True)
    op.create_table(
        "scheduler_beat",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scheduler_beat")
    op.drop_index("ux_saved_filter_owner_name", table_name="saved_filter")
    op.drop_table("saved_filter")
    op.drop_table("intake_token")
