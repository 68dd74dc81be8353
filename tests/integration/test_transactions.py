"""The unit of work: only ``Database.transaction()`` commits, so a service may run several commands in one
transaction; a command whose case changed under it writes nothing (SPEC A-1: nothing half-written)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.exc import OperationalError

from engine.services import SYSTEM, ConcurrentUpdate, ProcessEngine
from engine.services import cases
from engine.services.core import Core
from engine.store.db import Database, after_commit
from engine.store.models import AuditEvent, Case, ProcessVersion, UserTask
from tests.conftest import fixture_bytes

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc)
ONLY_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
ONLY_SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
LOOP = {"delays": 0, "responsible_group": "market"}


def _counts(db) -> tuple[int, int, int]:
    """Return (cases, audit events, READY tasks)."""
    with db.transaction(write=False) as session:
        return (session.scalar(select(func.count()).select_from(Case)),
                session.scalar(select(func.count()).select_from(AuditEvent)),
                session.scalar(select(func.count()).select_from(UserTask).where(UserTask.state == "ready")))


@pytest.fixture
def core(db, clock, topics):
    """The engine's core on the test database, loop.bpmn deployed (commands run on it inside a test's transaction)."""
    core = Core(db, clock, topics, cache_instances=False)
    ProcessEngine(db, clock, topics).admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    return core


def test_a_service_runs_two_commands_in_one_transaction_and_both_commit_together(db, core, handler, clock):
    with db.transaction() as session:
        first = cases.start_case(core, session, "loop_demo", LOOP, SYSTEM, clock())
        second = cases.start_case(core, session, "loop_demo", LOOP, SYSTEM, clock())
        task = first.open_tasks[0]
        cases.claim(core, session, task.id, handler, clock())    # a third command, on what the first wrote
    assert first.id != second.id
    assert _counts(db)[0] == 2
    with db.transaction(write=False) as session:
        assert session.get(UserTask, task.id).assignee == handler.username


def test_a1_when_the_transaction_fails_after_two_commands_neither_is_written(db, core, clock):
    before = _counts(db)
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            cases.start_case(core, session, "loop_demo", LOOP, SYSTEM, clock())
            cases.start_case(core, session, "loop_demo", LOOP, SYSTEM, clock())
            raise RuntimeError("the service fails after its second command")
    assert _counts(db) == before


def test_a1_a_command_whose_case_changed_under_it_writes_nothing(db, core, handler, clock):
    ref = ProcessEngine(db, clock, core.topics).cases.start("loop_demo", LOOP)
    task_id = ref.open_tasks[0].id
    before = _counts(db)
    with pytest.raises(ConcurrentUpdate):
        with db.transaction() as session:
            task, case = cases.task_and_case(session, task_id)
            instance = core.instance(session, case)
            step = instance.complete(core.host(session, case.id, handler, clock()), clock(), task_id,
                                     {"note": "late", "info_sufficient": True})
            # What a concurrent command's commit would have done to the row since this command read it.
            session.execute(update(Case).where(Case.id == case.id).values(revision=Case.revision + 1))
            core.persist(session, case, instance, step, handler, clock())
    assert _counts(db) == before


@ONLY_POSTGRESQL
def test_a1_the_later_of_two_commands_on_one_case_finds_its_revision_gone_and_writes_nothing(db_url, db, core,
                                                                                           handler, clock, topics):
    """Two real connections: the second command commits while the first runs; the first's update matches no row.

    (On SQLite the first command's BEGIN IMMEDIATE makes the second wait, so this interleaving cannot happen.)
    """
    engine = ProcessEngine(db, clock, topics)
    ref = engine.cases.start("loop_demo", LOOP)
    task_id = ref.open_tasks[0].id
    second = ProcessEngine(Database(db_url), clock, topics)
    try:
        with pytest.raises(ConcurrentUpdate):
            with db.transaction() as session:
                task, case = cases.task_and_case(session, task_id)
                instance = core.instance(session, case)
                step = instance.complete(core.host(session, case.id, handler, clock()), clock(), task_id,
                                         {"note": "first", "info_sufficient": True})
                second.cases.complete(task_id, {"note": "second", "info_sufficient": True}, handler)
                core.persist(session, case, instance, step, handler, clock())
    finally:
        second.dispose()
    page = engine.reads.case_page(ref.id, SYSTEM)
    completions = [e.data for e in page.events if e.element_id == "investigate" and e.lifecycle == "completed"]
    assert completions == [{"note": "second", "info_sufficient": True}]
    assert [t.name for t in page.open_tasks] == ["Reply to customer"]


def test_callbacks_run_after_the_commit_and_never_after_a_rollback(db):
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        with db.transaction() as failed:
            after_commit(failed, lambda: ran.append("failed"))
            raise RuntimeError("the command fails before its commit")
    with db.transaction() as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]


def test_a1_statements_of_a_transaction_that_fails_later_are_all_rolled_back(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            session.execute(insert(ProcessVersion), {
                "key": "p", "version": 1, "name": "p", "file_name": "p.bpmn", "xml": b"<x/>", "sha256": "0" * 64,
                "calls": [], "deployed_by": "ada", "deployed_at": NOW})
            session.execute(update(ProcessVersion).values(name="second statement"))
            raise RuntimeError("the command fails after two statements")
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 0


@ONLY_POSTGRESQL
def test_a_postgresql_transaction_is_one_server_transaction(db):
    with db.transaction() as session:
        first = session.execute(select(func.txid_current())).scalar_one()
        second = session.execute(select(func.txid_current())).scalar_one()
    assert first == second
    with db.transaction() as session:
        assert session.execute(select(func.txid_current())).scalar_one() != first


@ONLY_SQLITE
def test_a1_a_sqlite_write_transaction_takes_the_write_lock_at_its_begin(db):
    """BEGIN IMMEDIATE (SQLAlchemy's pysqlite recipe): from then on a second writer waits, so two commands never
    interleave their read and their write."""
    import sqlite3

    heard: list[str] = []
    event.listen(db.write_engine, "before_cursor_execute", lambda *args: heard.append(args[2]))
    other = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None, timeout=0)
    try:
        with db.transaction() as session:
            session.connection()
            assert heard == ["BEGIN IMMEDIATE"]
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")        # the command committed: the lock is free again
        other.execute("ROLLBACK")
    finally:
        other.close()


@ONLY_SQLITE
def test_a_begin_that_cannot_take_the_lock_raises_sqlalchemys_error_and_the_connection_recovers(db):
    import sqlite3

    holder = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with db.write_engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA busy_timeout=20")
            with pytest.raises(OperationalError, match="database is locked") as raised:
                conn.begin()
            assert "BEGIN IMMEDIATE" in str(raised.value)
            holder.execute("ROLLBACK")
            conn.rollback()
            with conn.begin():
                assert conn.exec_driver_sql("SELECT count(*) FROM case_instance").scalar_one() == 0
    finally:
        holder.close()
