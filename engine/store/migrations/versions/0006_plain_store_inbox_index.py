"""the inbox index carries its sort key and the assignee; the revision check is a plain rowcount again

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

The store now runs on plain SQLAlchemy: a command reads the rowcount of its
revision-checked case update before the commit, so PostgreSQL's
``case_revision_conflict()`` (0005) goes.

``task_candidate`` becomes the whole inbox index. A READY task has one row per
person or group that sees it: its assignee (kind ``assignee``) once claimed,
else each distinct candidate group and user. Each row carries the task's sort
key (due time, with 9999-12-31 for none, then creation time), so that an inbox
page is one range of ``ix_task_candidate_inbox`` per group and a group's count
is a count over that index, never a scan of ``user_task``. Triggers on
``user_task`` keep it: an insert READY adds the rows, a change of state,
assignee or due time rewrites them, a task that is no longer READY has none.
The table is derived data: it is dropped, made anew and refilled from the
READY tasks.
"""
import sqlalchemy as sa
from alembic import op

from engine.store.models import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

COLUMNS = "task_id, kind, name, due_sort, created_at"


def _rows(task: str, elements: str, no_due: str, source: str = "") -> list[str]:
    """SELECTs of the index rows of READY ``task`` (a row alias): its assignee, or else its candidates.

    ``source`` is the table ``task`` comes from (empty inside a trigger, where it is ``NEW``).
    """
    due = f"coalesce({task}.due_at, {no_due})"
    ready = f"{task}.state = 'ready'"
    tables = f"{source}, " if source else ""
    return [
        f"SELECT {task}.id, 'assignee', {task}.assignee, {due}, {task}.created_at{' FROM ' + source if source else ''} "
        f"WHERE {ready} AND {task}.assignee IS NOT NULL",
        *(f"SELECT DISTINCT {task}.id, '{kind}', j.value, {due}, {task}.created_at "
          f"FROM {tables}{elements.format(column=f'{task}.{column}')} WHERE {ready} AND {task}.assignee IS NULL"
          for kind, column in (("group", "candidate_groups"), ("user", "candidate_users"))),
    ]


def _create_table() -> None:
    op.create_table(
        "task_candidate",
        sa.Column("task_id", sa.String(36), sa.ForeignKey("user_task.id"), primary_key=True),
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("due_sort", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_task_candidate_inbox", "task_candidate", ["kind", "name", "due_sort", "created_at", "task_id"])


def _postgresql() -> None:
    op.execute("DROP FUNCTION case_revision_conflict(integer, integer, integer)")
    op.execute("DROP TRIGGER user_task_candidate_index ON user_task")
    op.execute("DROP FUNCTION task_candidate_index()")
    op.drop_table("task_candidate")
    _create_table()
    elements = "json_array_elements_text({column}) AS j(value)"
    no_due = "'9999-12-31 00:00:00+00'::timestamptz"
    inserts = "\n".join(f"INSERT INTO task_candidate ({COLUMNS}) {select};"
                        for select in _rows("NEW", elements, no_due))
    op.execute(f"""
        CREATE FUNCTION task_candidate_index() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                DELETE FROM task_candidate WHERE task_id = OLD.id;
            END IF;
            {inserts}
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER user_task_inbox_insert AFTER INSERT ON user_task "
               "FOR EACH ROW WHEN (NEW.state = 'ready') EXECUTE FUNCTION task_candidate_index()")
    op.execute("CREATE TRIGGER user_task_inbox_update AFTER UPDATE OF state, assignee, due_at ON user_task "
               "FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.assignee IS DISTINCT FROM NEW.assignee "
               "OR OLD.due_at IS DISTINCT FROM NEW.due_at) EXECUTE FUNCTION task_candidate_index()")
    _refill(elements, no_due)


def _sqlite() -> None:
    op.execute("DROP TRIGGER user_task_candidate_insert")
    op.execute("DROP TRIGGER user_task_candidate_end")
    op.drop_table("task_candidate")
    _create_table()
    elements = "json_each({column}) AS j"
    no_due = "'9999-12-31 00:00:00.000000'"       # how SQLAlchemy stores that instant on SQLite
    inserts = "\n".join(f"INSERT INTO task_candidate ({COLUMNS}) {select};"
                        for select in _rows("NEW", elements, no_due))
    op.execute(f"CREATE TRIGGER user_task_inbox_insert AFTER INSERT ON user_task BEGIN {inserts} END")
    op.execute(f"""
        CREATE TRIGGER user_task_inbox_update AFTER UPDATE OF state, assignee, due_at ON user_task
        WHEN OLD.state IS NOT NEW.state OR OLD.assignee IS NOT NEW.assignee OR OLD.due_at IS NOT NEW.due_at
        BEGIN
            DELETE FROM task_candidate WHERE task_id = OLD.id;
            {inserts}
        END""")
    _refill(elements, no_due)


def _refill(elements: str, no_due: str) -> None:
    for select in _rows("t", elements, no_due, source="user_task t"):
        op.execute(f"INSERT INTO task_candidate ({COLUMNS}) {select}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def downgrade() -> None:
    raise NotImplementedError("0006 is not reversible: the old inbox index cannot hold assignees")
