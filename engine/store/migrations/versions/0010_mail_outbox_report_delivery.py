"""mail outbox (SMTP with retries and dead letters), the report delivery claims, case data as JSONB

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

``report_delivery`` holds one row per scheduled report, period and schedule (or
P-4 department): inserted with the mail it queues, it makes two schedulers
deliver once. ``mail_outbox`` holds every message the mailer sends, reports and
the ``notify`` topic's notifications alike, with attempts and a dead state.
On PostgreSQL ``case_instance.data`` becomes JSONB: the report queries read
several of its fields per row, which ``json`` parses again for each one.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.store.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report', sa.String(length=10), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('variant', sa.String(length=150), nullable=False),
    sa.Column('due_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report', 'period', 'variant', name='uq_report_delivery')
    )
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attachment', sa.LargeBinary(), nullable=True),
    sa.Column('attachment_name', sa.String(length=200), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notification_id')
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_state_next', ['state', 'next_attempt_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('case_instance', 'data', type_=postgresql.JSONB(), postgresql_using='data::jsonb')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.alter_column('case_instance', 'data', type_=sa.JSON(), postgresql_using='data::json')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_state_next')
    op.drop_table('mail_outbox')
    op.drop_table('report_delivery')
