"""deadline: every boundary timer a case ran under, set, moved, met or missed (adherence per rule, SPEC A-2)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Cases that ran before this revision have no rows: their deadlines were never recorded as such.
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deadline",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_instance.id"), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("attached_to", sa.String(200), nullable=False),
        sa.Column("rule_id", sa.String(20), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("interrupting", sa.Boolean(), nullable=False),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_deadline_case_id", "deadline", ["case_id"])
    op.create_index("ix_deadline_department", "deadline", ["department"])
    op.create_index("ix_deadline_rule_due", "deadline", ["rule_id", "due_at"])


def downgrade() -> None:
    op.drop_table("deadline")
