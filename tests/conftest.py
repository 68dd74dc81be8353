"""Fixtures: a fresh, migrated database per test on SQLite and (when configured) PostgreSQL, a fixed clock, the engine."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.persisted import shared_pg_trgm
from engine.services import Actor, FixedClock, ProcessEngine, TopicRegistry
from engine.store.db import Database
from engine.store.migrate import upgrade

FIXTURES = Path(__file__).parent / "fixtures"
PROCESSES = Path(__file__).parent.parent / "processes"
SHANGHAI = timezone(timedelta(hours=8))
PG_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _backends() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if PG_URL or IN_CI:
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


def _pg_available() -> str | None:
    if not PG_URL:
        return "TEST_DATABASE_URL is not set"
    try:
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        return f"PostgreSQL at TEST_DATABASE_URL is not reachable: {exc}"
    return None


@pytest.fixture(params=_backends())
def db_url(request, tmp_path):
    """Yield the URL of a fresh empty database of each backend under test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    problem = _pg_available()
    if problem:
        if IN_CI:
            pytest.fail(f"CI=true needs PostgreSQL: {problem}")
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        shared_pg_trgm(conn)
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def db(db_url):
    """Yield a migrated database."""
    database = Database(db_url)
    upgrade(database.write_engine)
    yield database
    database.dispose()


@pytest.fixture
def clock():
    """A fixed clock on Monday 2025-03-03 09:00 Beijing time."""
    return FixedClock(datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture
def notifications():
    """Collects what the ``notify`` test topic was called with."""
    return []


@pytest.fixture
def topics(notifications):
    """A topic registry with a recording ``notify`` handler."""
    registry = TopicRegistry()

    def notify(ctx, to, template):
        notifications.append({"case": ctx.case_id, "to": to, "template": template})
        return {"notified": template}

    registry.add("notify", notify)
    return registry


@pytest.fixture
def engine(db, clock, topics):
    """A process engine on the test database, clock and topics.

    The in-memory instance cache is off, so every command restores the case from
    its stored state: each test also proves the save/restore between steps.
    """
    return ProcessEngine(db, clock, topics, cache_instances=False)


@pytest.fixture
def handler():
    return Actor("hans", frozenset({"handler"}))


@pytest.fixture
def market():
    return Actor("mia", frozenset({"market"}))


@pytest.fixture
def admin():
    return Actor("ada", frozenset({"admin"}))


def fixture_bytes(name: str) -> bytes:
    """Return the bytes of a BPMN file under tests/fixtures."""
    return (FIXTURES / name).read_bytes()


def stored_state(engine, case_id: int) -> str:
    """Return the serialized workflow a case is stored with (a raw read through the engine's test session)."""
    from engine.store.models import Case

    with engine.store_session() as session:
        return session.get(Case, case_id).state


def messages(errors) -> dict[str, str]:
    """Return FormInvalid's per-field errors as their English messages."""
    return {name: error.message for name, error in errors.items()}


# --- traceability (tests/processes/test_traceability.py): which BPMN elements each test's cases executed ---

EXECUTED: dict[str, set[str]] = {}      # test function name -> ids of the elements its cases executed
DRIVE_CHECK = "test_traceability.py::test_every_rule_test_drives_an_element_citing_the_rule"


@pytest.fixture(autouse=True)
def _record_executed_elements(request, monkeypatch):
    """Record the element ids of every audit event the test's cases write (the engine's own write path)."""
    from engine.store import rows

    seen = EXECUTED.setdefault(request.node.originalname, set())
    original = rows.insert_events

    def recording(session, events):
        seen.update(e["element_id"] for e in events if e.get("element_id"))
        return original(session, events)

    monkeypatch.setattr(rows, "insert_events", recording)


def pytest_collection_modifyitems(session, config, items):
    """Run the drive check last, when every other selected test has recorded what it executed."""
    last = [item for item in items if item.nodeid.endswith(DRIVE_CHECK)]
    items[:] = [item for item in items if item not in last] + last
