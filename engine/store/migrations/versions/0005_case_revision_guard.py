"""a case update whose revision check fails raises in the database (PostgreSQL)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

A command writes the case with ``UPDATE ... WHERE id = :id AND revision = :read``
and reads the rowcount: 0 means another command wrote the case first. On
PostgreSQL the command's writes and its COMMIT now travel in one pipeline, so
the rowcount arrives only after the COMMIT: a failed check must stop the
transaction inside the database instead. ``case_revision_conflict`` raises
SQLSTATE 40001 (serialization_failure), which aborts the transaction, makes the
server skip the rest of the pipeline and turns its COMMIT into a rollback. The
update calls it only when the revision it finds is not the one the command read
(``core._UPDATE_CASE_GUARDED``). SQLite runs statements one at a time and keeps
reading the rowcount before its commit: nothing changes there.
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("""
        CREATE FUNCTION case_revision_conflict(case_id integer, found integer, expected integer)
        RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            RAISE EXCEPTION 'case % changed while this command ran (revision % where % was read)',
                case_id, found, expected USING ERRCODE = 'serialization_failure';
        END $$""")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION case_revision_conflict(integer, integer, integer)")
