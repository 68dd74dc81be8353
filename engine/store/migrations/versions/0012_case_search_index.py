"""the case search's index: the customer, contact and facts of each case in a narrow table, trigram-indexed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

``case_search`` holds, per case, what the search by customer, contact and text
matches: the complainant's name, the contact as typed, the contact without its
separators (``contact_key``: ``138-0013 8000`` -> ``13800138000``), its last
four characters (``contact_last4``, B-tree: the "last 4 digits" lookup) and the
facts. Triggers on ``case_instance`` keep it (an insert adds the row, a change
of one of those fields of ``data`` rewrites it), so every writer -- a start, a
task completion, an administrator's repair -- keeps the index in step; it is
filled here from the existing cases.

Substring matches of 3 characters or more use a trigram index: on SQLite an
FTS5 table with the ``trigram`` tokenizer over ``case_search`` (external
content, kept by triggers on ``case_search``); on PostgreSQL a GIN index with
``gin_trgm_ops`` of the ``pg_trgm`` extension. pg_trgm is a trusted extension
(PostgreSQL 13+): a database owner may create it. If the extension is missing
and this user may not create it, the migration says so (a warning) and goes
on without the GIN index: the search gives the same results by scanning the
narrow table. A superuser can add it later (README, "Running on PostgreSQL
with several workers"). Queries shorter than 3 characters (a two-character name,
退费) have no trigram: they scan ``case_search`` on both databases.
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

COLUMNS = "case_id, customer, contact, contact_key, contact_last4, facts"
FIELDS = ("complainant_name", "contact", "facts")
SEPARATORS = (" ", "-", "+", "(", ")", ".", "/")
TRIGRAM_INDEX = "ix_case_search_trgm"


def _key(value: str) -> str:
    """SQL of ``value`` without the separators people type in phone numbers (the same on both databases)."""
    for separator in SEPARATORS:
        value = f"replace({value}, '{separator}', '')"
    return value


def _values(field, last4: str) -> str:
    """SQL of the index row's values, ``field(name)`` giving the text of a data field (empty when absent) and
    ``last4`` the last four characters of ``{}`` (``substr(x, -4)`` on SQLite, ``right(x, 4)`` on PostgreSQL)."""
    customer, contact, facts = (f"coalesce({field(name)}, '')" for name in FIELDS)
    key = _key(contact)
    return f"{customer}, {contact}, {key}, {last4.format(key)}, {facts}"


def _changed(field) -> str:
    """SQL true when one of the indexed data fields differs between ``OLD`` and ``NEW``."""
    return " OR ".join(f"{field(name, 'OLD')} IS DISTINCT FROM {field(name)}" for name in FIELDS)


def _create_table() -> None:
    op.create_table(
        "case_search",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("case_instance.id"), primary_key=True),
        sa.Column("customer", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("contact_key", sa.Text(), nullable=False),
        sa.Column("contact_last4", sa.String(4), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
    )
    op.create_index("ix_case_search_contact_last4", "case_search", ["contact_last4"])


def _sqlite() -> None:
    last4 = "substr({}, -4)"
    def field(name, row="NEW"):
        return f"CAST(json_extract({row}.data, '$.{name}') AS TEXT)"

    names = "customer, contact, contact_key, facts"
    old, new = (", ".join(f"{row}.{c}" for c in names.split(", ")) for row in ("old", "new"))
    op.execute(f"CREATE VIRTUAL TABLE case_search_fts USING fts5({names}, content='case_search', "
               "content_rowid='case_id', tokenize='trigram')")
    op.execute(f"CREATE TRIGGER case_search_fts_insert AFTER INSERT ON case_search BEGIN "
               f"INSERT INTO case_search_fts (rowid, {names}) VALUES (new.case_id, {new}); END")
    op.execute(f"CREATE TRIGGER case_search_fts_update AFTER UPDATE ON case_search BEGIN "
               f"INSERT INTO case_search_fts (case_search_fts, rowid, {names}) VALUES ('delete', old.case_id, {old}); "
               f"INSERT INTO case_search_fts (rowid, {names}) VALUES (new.case_id, {new}); END")
    op.execute(f"CREATE TRIGGER case_search_fts_delete AFTER DELETE ON case_search BEGIN "
               f"INSERT INTO case_search_fts (case_search_fts, rowid, {names}) VALUES ('delete', old.case_id, {old}); "
               f"END")
    op.execute(f"CREATE TRIGGER case_search_insert AFTER INSERT ON case_instance BEGIN "
               f"INSERT INTO case_search ({COLUMNS}) VALUES (NEW.id, {_values(field, last4)}); END")
    changed = _changed(field).replace("IS DISTINCT FROM", "IS NOT")
    op.execute(f"CREATE TRIGGER case_search_update AFTER UPDATE OF data ON case_instance WHEN {changed} BEGIN "
               f"UPDATE case_search SET ({COLUMNS.split(', ', 1)[1]}) = "
               f"({_values(field, last4)}) WHERE case_id = NEW.id; END")
    op.execute(f"INSERT INTO case_search ({COLUMNS}) SELECT NEW.id, {_values(field, last4)} FROM case_instance AS NEW")


def _trigram_schema() -> str | None:
    """The schema holding pg_trgm, creating the extension if this user may; None (with a warning) if not."""
    bind = op.get_bind()
    found = bind.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                 "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar()
    if found:
        return found
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION pg_trgm"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm is not installed and this user may not create it (%s): the case search by "
                    "customer, contact and text scans case_search instead of a trigram index; the README "
                    "(Running on PostgreSQL) says how to add the index later", str(exc.orig).splitlines()[0])
        return None
    return bind.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                                "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar()


def trigram_index_sql(schema: str) -> str:
    """The statement creating the GIN trigram index in the schema of ``pg_trgm``."""
    ops = f"{schema}.gin_trgm_ops"
    return (f"CREATE INDEX {TRIGRAM_INDEX} ON case_search USING gin "
            f"(customer {ops}, contact {ops}, contact_key {ops}, facts {ops})")


def _postgresql() -> None:
    last4 = "right({}, 4)"
    def field(name, row="NEW"):
        return f"({row}.data ->> '{name}')"

    op.execute(f"""
        CREATE FUNCTION case_search_index() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO case_search ({COLUMNS}) VALUES (NEW.id, {_values(field, last4)});
            ELSE
                UPDATE case_search SET ({COLUMNS.split(', ', 1)[1]}) = ({_values(field, last4)}) WHERE case_id = NEW.id;
            END IF;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER case_search_insert AFTER INSERT ON case_instance "
               "FOR EACH ROW EXECUTE FUNCTION case_search_index()")
    op.execute(f"CREATE TRIGGER case_search_update AFTER UPDATE OF data ON case_instance "
               f"FOR EACH ROW WHEN ({_changed(field)}) EXECUTE FUNCTION case_search_index()")
    op.execute(f"INSERT INTO case_search ({COLUMNS}) SELECT NEW.id, {_values(field, last4)} FROM case_instance AS NEW")
    schema = _trigram_schema()
    if schema:
        op.execute(trigram_index_sql(schema))


def upgrade() -> None:
    _create_table()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER case_search_update ON case_instance")
        op.execute("DROP TRIGGER case_search_insert ON case_instance")
        op.execute("DROP FUNCTION case_search_index()")
    else:
        for name in ("case_search_update", "case_search_insert"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE case_search_fts")
    op.drop_table("case_search")
