"""The command hot path: prepared statements bind like the ORM, and the database keeps the inbox index."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import bindparam, event, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from engine.store.db import Database
from engine.store.migrate import upgrade
from engine.store.models import AuditEvent, Case, ProcessVersion, TaskCandidate, UserTask
from engine.store.prepared import Batch, Prepared

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc)


def _version_and_case(conn) -> int:
    version_id = conn.execute(insert(ProcessVersion).returning(ProcessVersion.id), {
        "key": "p", "version": 1, "name": "p", "file_name": "p.bpmn", "xml": b"<x/>", "sha256": "0" * 64,
        "calls": [], "deployed_by": "ada", "deployed_at": NOW}).scalar_one()
    return conn.execute(insert(Case).returning(Case.id), {
        "process_key": "p", "version_id": version_id, "pinned": {"p": version_id}, "status": "running",
        "category": None, "revision": 0, "state": "", "data": {}, "incident": None, "started_by": "ada",
        "started_at": NOW, "updated_at": NOW, "ended_at": None}).scalar_one()


def _task(task_id: str, case_id: int, groups: list[str], users: list[str], state: str = "ready") -> dict:
    return {"id": task_id, "case_id": case_id, "element_id": "e", "name": "n", "lane": None,
            "candidate_groups": groups, "candidate_users": users, "assignee": None, "state": state, "form": [],
            "documentation": "", "created_at": NOW, "due_at": None, "claimed_at": None, "ended_at": None,
            "completed_by": None}


def _index(conn) -> set[tuple[str, str, str]]:
    return set(conn.execute(select(TaskCandidate.task_id, TaskCandidate.kind, TaskCandidate.name)).all())


def test_the_database_indexes_a_ready_task_under_each_distinct_candidate(db):
    with db.write_engine.begin() as conn:
        case_id = _version_and_case(conn)
        conn.execute(insert(UserTask), [_task("t1", case_id, ["market", "market", "handler"], ["hans"]),
                                        _task("t2", case_id, ["market"], [], state="completed")])
        assert _index(conn) == {("t1", "group", "market"), ("t1", "group", "handler"), ("t1", "user", "hans")}

        conn.execute(update(UserTask).where(UserTask.id == "t1").values(assignee="hans", claimed_at=NOW))
        assert len(_index(conn)) == 3, "a claim keeps the task in its candidates' inbox index"

        conn.execute(update(UserTask).where(UserTask.id == "t1").values(state="cancelled"))
        assert _index(conn) == set()
        row = conn.execute(select(UserTask.candidate_groups).where(UserTask.id == "t1")).scalar_one()
        assert row == ["market", "market", "handler"], "the task row keeps its candidates as history"


def test_migration_0004_rebuilds_the_index_from_the_ready_tasks(db_url):
    database = Database(db_url)
    try:
        upgrade(database.write_engine, "0003")
        with database.write_engine.begin() as conn:
            case_id = _version_and_case(conn)
            conn.execute(insert(UserTask), [_task("ready", case_id, ["market"], ["mia"]),
                                            _task("done", case_id, ["market"], [], state="completed")])
            conn.execute(insert(TaskCandidate), [{"task_id": "done", "kind": "group", "name": "stale"}])
        upgrade(database.write_engine)
        with database.write_engine.connect() as conn:
            assert _index(conn) == {("ready", "group", "market"), ("ready", "user", "mia")}
    finally:
        database.dispose()


def test_prepared_statements_store_and_read_values_as_the_orm_does(db):
    stamp = datetime(2025, 3, 3, 9, 30, 15, 123456, tzinfo=timezone.utc)
    data = {"amount": str(Decimal("12.50")), "nested": {"list": [1, "two", None]}, "empty": None}
    insert_event = Prepared(insert(AuditEvent.__table__), keys=[
        "case_id", "version_id", "task_id", "element_id", "element_name", "element_type", "flow_id", "lifecycle",
        "actor", "at", "data"])
    read_event = Prepared(select(AuditEvent.__table__.c.at, AuditEvent.__table__.c.data)
                          .where(AuditEvent.__table__.c.task_id == bindparam("task_id")))
    with db.write_engine.begin() as conn:
        case_id = _version_and_case(conn)
        version_id = conn.execute(select(Case.version_id)).scalar_one()
        row = {"case_id": case_id, "version_id": version_id, "element_id": "e", "element_name": "n",
               "element_type": "userTask", "flow_id": None, "lifecycle": "completed", "actor": "ada"}
        insert_event.run(conn, [dict(row, task_id="prepared", at=stamp, data=data),
                            dict(row, task_id="prepared-none", at=stamp, data=None)])
        conn.execute(insert(AuditEvent), [dict(row, task_id="core", at=stamp, data=data),
                                          dict(row, task_id="core-none", at=stamp, data=None)])
        raw = {r.task_id: (r.at, r.data) for r in conn.execute(text("SELECT task_id, at, data FROM audit_event"))}
        assert raw["prepared"] == raw["core"] and raw["prepared-none"] == raw["core-none"], \
            "the same bytes reach the database either way"
        assert read_event.run(conn, {"task_id": "prepared"}) == [(stamp, data)]
    with db.transaction(write=False) as session:
        loaded = {e.task_id: (e.at, e.data) for e in session.scalars(select(AuditEvent))}
    assert loaded["prepared"] == loaded["core"] == (stamp, data)
    assert loaded["prepared-none"] == loaded["core-none"]


def test_prepared_statements_fire_the_engine_events_statement_counters_rely_on(db):
    seen: list[str] = []
    event.listen(db.write_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, params, context, many: seen.append(statement))
    count = Prepared(select(Case.__table__.c.id).where(Case.__table__.c.status == bindparam("status")))
    with db.write_engine.begin() as conn:
        assert count.run(conn, {"status": "running"}) == []
    assert seen[-1] == count.sql(db.write_engine.dialect)


def test_a_batch_returns_rows_and_rowcounts_in_order_and_tells_listeners(db):
    seen: list[str] = []
    event.listen(db.write_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, params, context, many: seen.append(statement))
    c = Case.__table__.c
    bump = Prepared(update(Case.__table__).where(c.id == bindparam("case_id"), c.revision == bindparam("old"))
                    .values(revision=bindparam("revision")))
    read = Prepared(select(c.revision, c.started_at).where(c.id == bindparam("case_id")))
    with db.write_engine.begin() as conn:
        case_id = _version_and_case(conn)
    with db.write_engine.begin() as conn:
        seen.clear()
        batch = Batch(conn)
        batch.add(read, {"case_id": case_id})
        batch.add(bump, {"case_id": case_id, "old": 0, "revision": 1})
        batch.add(bump, {"case_id": case_id, "old": 0, "revision": 2})      # the revision check fails: 0 rows
        batch.add(read, {"case_id": case_id})
        assert batch.run() == [[(0, NOW)], 1, 0, [(1, NOW)]]
    assert [s for s in seen if not s.startswith("BEGIN")] == [read.sql(conn.dialect), bump.sql(conn.dialect),
                                                                bump.sql(conn.dialect), read.sql(conn.dialect)]


def test_a_failing_batch_raises_the_sqlalchemy_error_and_the_transaction_writes_nothing(db):
    with db.write_engine.begin() as conn:
        case_id = _version_and_case(conn)
        conn.execute(insert(UserTask), [_task("t1", case_id, ["market"], [])])
    insert_task = Prepared(insert(UserTask.__table__), keys=list(_task("x", 0, [], [])))
    bump = Prepared(update(Case.__table__).where(Case.__table__.c.id == bindparam("case_id"))
                    .values(revision=bindparam("revision")))
    with pytest.raises(IntegrityError):
        with db.write_engine.begin() as conn:
            batch = Batch(conn)
            batch.add(bump, {"case_id": case_id, "revision": 7})
            batch.add(insert_task, [_task("t1", case_id, ["market"], [])])       # duplicate key
            batch.run()
    with db.write_engine.connect() as conn:
        assert conn.execute(select(Case.revision)).scalar_one() == 0
        assert _index(conn) == {("t1", "group", "market")}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)    # an in-process SQLite cannot be cut off
def test_a_batch_on_a_lost_postgresql_connection_invalidates_it(db):
    read = Prepared(select(Case.__table__.c.id))
    with db.write_engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        conn.commit()
        with db.write_engine.connect() as other:
            other.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        batch = Batch(conn)
        batch.add(read, {})
        with pytest.raises(DBAPIError) as lost:
            batch.run()
        assert lost.value.connection_invalidated and conn.invalidated
    with db.write_engine.connect() as conn:         # the pool hands out a fresh connection, not the dead one
        batch = Batch(conn)
        batch.add(read, {})
        assert batch.run() == [[]]
