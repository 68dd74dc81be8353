"""reports: typical cases of a week, the indexes the report queries range over

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

P-1..P-3 count the intake cases of a process registered in a period
(``ix_case_instance_process_started``), ask per case whether it reached an
element such as ``accept`` or ``handover`` (``ix_audit_event_case_element``),
and sum the ledger of a month per department (``ix_deduction_entry_month_department``).
``typical_case`` holds the cases the complaint group picks for a week (000 一.1.6).
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('typical_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('picked_by', sa.String(length=100), nullable=False),
    sa.Column('picked_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('period', 'case_id', name='uq_typical_case_period_case')
    )
    with op.batch_alter_table('typical_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_typical_case_period'), ['period'], unique=False)
    with op.batch_alter_table('case_instance', schema=None) as batch_op:
        batch_op.create_index('ix_case_instance_process_started', ['process_key', 'started_at'], unique=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_case_element', ['case_id', 'element_id', 'lifecycle'], unique=False)
    with op.batch_alter_table('deduction_entry', schema=None) as batch_op:
        batch_op.create_index('ix_deduction_entry_month_department', ['month', 'department'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deduction_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_deduction_entry_month_department')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_case_element')
    with op.batch_alter_table('case_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_case_instance_process_started')
    with op.batch_alter_table('typical_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_typical_case_period'))
    op.drop_table('typical_case')
