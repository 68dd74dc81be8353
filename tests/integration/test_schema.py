"""The Alembic migrations create exactly the tables the models describe, on every database."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.store.models import Base

# The case search's trigram index (migration 0012) is the database's own kind of object, which the models do not
# describe: SQLite's FTS5 table and its shadow tables, PostgreSQL's GIN index over pg_trgm's operator class.
TRIGRAM_OBJECTS = ("case_search_fts", "ix_case_search_trgm")


def _described(obj, name, type_, reflected, compare_to) -> bool:
    return not (name or "").startswith(TRIGRAM_OBJECTS)


def test_migrations_match_the_models(db):
    with db.write_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"include_object": _described}),
                                Base.metadata)
    assert diff == []
