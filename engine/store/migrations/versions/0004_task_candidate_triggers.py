"""the database keeps the inbox index (task_candidate) in step with user_task

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Until now every command wrote the candidate rows of a new task and deleted those
of an ended one itself: two more statements per command, and an index that any
other writer (a repair script, a future service) could let drift. From here on
triggers derive the index from the task row: a task inserted READY gets one row
per distinct candidate group and user (from its JSON lists); a task whose state
leaves 'ready' loses its rows. The index is rebuilt once from the tasks now READY.
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def _rebuild(elements: str) -> list[str]:
    """Statements that refill the index from the READY tasks; ``elements`` expands a JSON list into rows ``j.value``."""
    return ["DELETE FROM task_candidate"] + [
        f"INSERT INTO task_candidate (task_id, kind, name) SELECT DISTINCT t.id, '{kind}', j.value "
        f"FROM user_task t, {elements.format(column=column)} WHERE t.state = 'ready'"
        for kind, column in (("group", "t.candidate_groups"), ("user", "t.candidate_users"))
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION task_candidate_index() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    IF NEW.state = 'ready' THEN
                        INSERT INTO task_candidate (task_id, kind, name)
                        SELECT DISTINCT NEW.id, 'group', g FROM json_array_elements_text(NEW.candidate_groups) AS g;
                        INSERT INTO task_candidate (task_id, kind, name)
                        SELECT DISTINCT NEW.id, 'user', u FROM json_array_elements_text(NEW.candidate_users) AS u;
                    END IF;
                ELSIF OLD.state = 'ready' AND NEW.state <> 'ready' THEN
                    DELETE FROM task_candidate WHERE task_id = NEW.id;
                END IF;
                RETURN NULL;
            END $$""")
        op.execute("CREATE TRIGGER user_task_candidate_index AFTER INSERT OR UPDATE OF state ON user_task "
                   "FOR EACH ROW EXECUTE FUNCTION task_candidate_index()")
        rebuild = _rebuild("json_array_elements_text({column}) AS j(value)")
    else:
        op.execute("""
            CREATE TRIGGER user_task_candidate_insert AFTER INSERT ON user_task WHEN NEW.state = 'ready'
            BEGIN
                INSERT INTO task_candidate (task_id, kind, name)
                SELECT DISTINCT NEW.id, 'group', value FROM json_each(NEW.candidate_groups);
                INSERT INTO task_candidate (task_id, kind, name)
                SELECT DISTINCT NEW.id, 'user', value FROM json_each(NEW.candidate_users);
            END""")
        op.execute("""
            CREATE TRIGGER user_task_candidate_end AFTER UPDATE OF state ON user_task
            WHEN OLD.state = 'ready' AND NEW.state <> 'ready'
            BEGIN
                DELETE FROM task_candidate WHERE task_id = NEW.id;
            END""")
        rebuild = _rebuild("json_each({column}) AS j")
    for statement in rebuild:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER user_task_candidate_index ON user_task")
        op.execute("DROP FUNCTION task_candidate_index()")
    else:
        op.execute("DROP TRIGGER user_task_candidate_insert")
        op.execute("DROP TRIGGER user_task_candidate_end")
