"""A command's transaction: its writes and COMMIT travel together on PostgreSQL, and a stale case writes nothing.

On PostgreSQL the driver runs in autocommit mode and the engine begins and ends
transactions itself (engine/store/db.py): BEGIN goes out with the first
statement, and the last writes of a command carry its COMMIT in their pipeline
(``Batch.run(commit=True)``). Optimistic concurrency must survive that: the case
update refuses a stale revision inside the database (migration 0005), so the
COMMIT that follows it in the pipeline becomes a rollback (SPEC A-1: nothing
half-written).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.exc import OperationalError

from engine.services import ConcurrentUpdate, ProcessEngine
from engine.services import cases
from engine.store.db import Database, StatementAfterCommit
from engine.store.models import AuditEvent, Case, ProcessVersion, UserTask
from engine.store.prepared import Batch, Prepared
from tests.conftest import fixture_bytes

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc)
ONLY_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _counts(db) -> tuple[int, int, int]:
    """Return (revision of the only case, audit events, READY tasks)."""
    with db.transaction(write=False) as session:
        return (session.scalar(select(Case.revision)),
                session.scalar(select(func.count()).select_from(AuditEvent)),
                session.scalar(select(func.count()).select_from(UserTask).where(UserTask.state == "ready")))


@pytest.fixture
def waiting(engine, handler):
    """Deploy loop.bpmn and start a case: return (task id of 'investigate', case id)."""
    engine.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    case_id = engine.start_case("loop_demo", {"delays": 0, "responsible_group": "market"}).id
    return engine.inbox(handler)[0].id, case_id


def test_a1_a_command_whose_case_changed_under_it_writes_nothing(engine, waiting, handler, clock):
    """Another writer moved the revision between the command's read and its write: ConcurrentUpdate, no row."""
    task_id, case_id = waiting
    before = _counts(engine.db)
    with pytest.raises(ConcurrentUpdate):
        with engine.db.transaction() as session:
            task, case = cases._task_and_case(session, task_id)
            instance = engine.instance(session, case)
            step = instance.complete(engine.host(session, case.id, handler, clock()), clock(), task_id,
                                     {"note": "late", "info_sufficient": True})
            # What a concurrent command's commit would have done to the row since this command read it.
            session.execute(update(Case).where(Case.id == case_id).values(revision=Case.revision + 1))
            engine.persist(session, case, instance, step, handler, clock())
    assert _counts(engine.db) == before
    assert engine.case(case_id).tasks[0].state == "ready"


@ONLY_POSTGRESQL
def test_a1_postgresql_refuses_the_stale_write_in_the_database_and_skips_its_commit(db_url, engine, waiting, handler,
                                                                                 clock, topics):
    """Two real connections: the second command commits while the first runs; the first's pipeline rolls back.

    (On SQLite the first command's BEGIN IMMEDIATE makes the second wait, so this interleaving cannot happen.)
    """
    task_id, case_id = waiting
    second = ProcessEngine(Database(db_url), clock, topics)
    try:
        with pytest.raises(ConcurrentUpdate) as refused:
            with engine.db.transaction() as session:
                task, case = cases._task_and_case(session, task_id)
                instance = engine.instance(session, case)
                step = instance.complete(engine.host(session, case.id, handler, clock()), clock(), task_id,
                                         {"note": "first", "info_sufficient": True})
                second.complete(task_id, {"note": "second", "info_sufficient": True}, handler)
                engine.persist(session, case, instance, step, handler, clock())
    finally:
        second.db.dispose()
    assert refused.value.__cause__.orig.sqlstate == "40001"
    detail = engine.case(case_id)
    completions = [e.data for e in detail.events if e.element_id == "investigate" and e.lifecycle == "completed"]
    assert completions == [{"note": "second", "info_sufficient": True}]
    assert [t.name for t in detail.tasks if t.state == "ready"] == ["Reply to customer"]


def _version(conn) -> int:
    return conn.execute(insert(ProcessVersion).returning(ProcessVersion.id), {
        "key": "p", "version": 1, "name": "p", "file_name": "p.bpmn", "xml": b"<x/>", "sha256": "0" * 64,
        "calls": [], "deployed_by": "ada", "deployed_at": NOW}).scalar_one()


@ONLY_POSTGRESQL
def test_a_batch_that_commits_is_durable_before_sqlalchemy_commits_and_ends_the_transaction(db):
    pv = ProcessVersion.__table__.c
    rename = Prepared(update(ProcessVersion.__table__).where(pv.id == bindparam("vid")).values(name=bindparam("name")))
    with db.write_engine.begin() as conn:
        vid = _version(conn)
    with db.write_engine.connect() as conn:
        batch = Batch(conn)
        batch.add(rename, {"vid": vid, "name": "renamed"})
        assert batch.run(commit=True) == [1]
        with db.write_engine.connect() as other:            # another connection sees it: the COMMIT went out
            assert other.execute(select(ProcessVersion.name)).scalar_one() == "renamed"
        with pytest.raises(StatementAfterCommit):
            conn.execute(select(ProcessVersion.name))
        conn.commit()                                       # nothing left to commit: no error, no round trip
        assert conn.execute(select(ProcessVersion.name)).scalar_one() == "renamed"     # a new transaction


@ONLY_POSTGRESQL
def test_a1_a_failing_statement_in_a_committing_batch_rolls_back_the_whole_pipeline(db):
    pv = ProcessVersion.__table__.c
    rename = Prepared(update(ProcessVersion.__table__).where(pv.id == bindparam("vid")).values(name=bindparam("name")))
    divide = Prepared(select(text("1 / 0")).where(pv.id == bindparam("vid")))
    with db.write_engine.begin() as conn:
        vid = _version(conn)
    with pytest.raises(Exception, match="division by zero"):
        with db.write_engine.begin() as conn:
            batch = Batch(conn)
            batch.add(rename, {"vid": vid, "name": "renamed"})
            batch.add(divide, {"vid": vid})
            batch.run(commit=True)
    with db.write_engine.connect() as conn:
        assert conn.execute(select(ProcessVersion.name)).scalar_one() == "p"


def test_a1_statements_of_a_transaction_that_fails_later_are_all_rolled_back(db):
    """The first statement carries the transaction's BEGIN on PostgreSQL: what follows it is inside."""
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            session.connection().execute(insert(ProcessVersion), {
                "key": "p", "version": 1, "name": "p", "file_name": "p.bpmn", "xml": b"<x/>", "sha256": "0" * 64,
                "calls": [], "deployed_by": "ada", "deployed_at": NOW})
            session.execute(update(ProcessVersion).values(name="second statement"))
            raise RuntimeError("the command fails after two statements")
    with db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 0


@ONLY_POSTGRESQL
def test_a_postgresql_transaction_is_one_server_transaction_from_its_first_statement(db):
    with db.write_engine.begin() as conn:
        first = conn.exec_driver_sql("SELECT txid_current()").scalar_one()
        second = conn.exec_driver_sql("SELECT txid_current()").scalar_one()
    assert first == second, "without its BEGIN each statement would be a transaction of its own"
    with db.write_engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT txid_current()").scalar_one() != first


def test_sessions_are_reused_per_thread_without_what_a_failed_transaction_left(db):
    """A closed session begins again; a failed command's after-commit work does not follow it into the next one."""
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        with db.transaction() as failed:
            failed.info.setdefault("after_commit", []).append(lambda: ran.append("failed command"))
            raise RuntimeError("the command fails before its commit")
    with db.transaction() as outer:
        assert outer is failed, "the thread's idle session is taken again"
        assert outer.info == {}
        with db.transaction() as inner:
            assert inner is not outer, "a transaction inside another gets a session of its own"
            inner.execute(select(func.count()).select_from(Case))
        outer.info.setdefault("after_commit", []).append(lambda: ran.append("outer command"))
    assert ran == ["outer command"]
    with db.transaction() as again, db.transaction() as second:
        assert {again, second} == {outer, inner}, "both stay idle for the thread's next transactions"


ONLY_SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@ONLY_SQLITE
def test_a1_a_sqlite_write_transaction_takes_the_write_lock_at_its_begin_and_listeners_hear_it(db):
    """BEGIN IMMEDIATE goes out on the driver cursor (no execution context), still heard by statement listeners;
    from then on a second writer waits, so two commands never interleave their read and their write."""
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
            assert not raised.value.connection_invalidated
            holder.execute("ROLLBACK")
            conn.rollback()
            with conn.begin():
                assert conn.exec_driver_sql("SELECT count(*) FROM case_instance").scalar_one() == 0
    finally:
        holder.close()
