"""browser sessions kept in the database; refused sign-ins counted per account and address

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

``web_session``: each sign-in gets a random token (in the signed cookie) whose
SHA-256 is stored here with its expiry; signing out ends it, so a cookie copied
before no longer works in any web worker. ``sign_in_failure``: one row per
refused sign-in, counted over a sliding window per typed username and per
client address to throttle password guessing across every worker.
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(100), sa.ForeignKey("account.username"), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_web_session_username", "web_session", ["username"])
    op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"])
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_sign_in_failure_username_at", "sign_in_failure", ["username", "at"])
    op.create_index("ix_sign_in_failure_address_at", "sign_in_failure", ["address", "at"])
    op.create_index("ix_sign_in_failure_at", "sign_in_failure", ["at"])


def downgrade() -> None:
    op.drop_table("sign_in_failure")
    op.drop_table("web_session")
