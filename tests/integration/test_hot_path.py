"""The inbox index: the database keeps, for every READY task, a row per person or group that sees it, with its
sort key; claims, due moves and ends rewrite it (migration 0006)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select, update

from engine.store.db import Database
from engine.store.migrate import upgrade
from engine.store.models import NO_DUE, Case, ProcessVersion, TaskCandidate, UserTask

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc)


def _version_and_case(conn) -> int:
    version_id = conn.execute(insert(ProcessVersion).returning(ProcessVersion.id), {
        "key": "p", "version": 1, "name": "p", "file_name": "p.bpmn", "xml": b"<x/>", "sha256": "0" * 64,
        "calls": [], "deployed_by": "ada", "deployed_at": NOW}).scalar_one()
    return conn.execute(insert(Case).returning(Case.id), {
        "process_key": "p", "version_id": version_id, "pinned": {"p": version_id}, "status": "running",
        "category": None, "revision": 0, "state": "", "data": {}, "incident": None, "started_by": "ada",
        "started_at": NOW, "updated_at": NOW, "ended_at": None}).scalar_one()


def _task(task_id: str, case_id: int, groups: list[str], users: list[str], state: str = "ready",
          due_at: datetime | None = None, assignee: str | None = None) -> dict:
    return {"id": task_id, "case_id": case_id, "element_id": "e", "name": "n", "lane": None,
            "candidate_groups": groups, "candidate_users": users, "assignee": assignee, "state": state, "form": [],
            "documentation": "", "created_at": NOW, "due_at": due_at, "claimed_at": None, "ended_at": None,
            "completed_by": None}


def _index(conn) -> set[tuple]:
    return set(conn.execute(select(TaskCandidate.task_id, TaskCandidate.kind, TaskCandidate.name,
                                   TaskCandidate.due_sort)).all())


def test_the_database_indexes_a_ready_task_under_each_distinct_candidate_then_under_its_assignee(db):
    due = NOW + timedelta(days=3)
    with db.write_engine.begin() as conn:
        case_id = _version_and_case(conn)
        conn.execute(insert(UserTask), [_task("t1", case_id, ["market", "market", "handler"], ["hans"], due_at=due),
                                        _task("t2", case_id, ["market"], [], state="completed")])
        assert _index(conn) == {("t1", "group", "market", due), ("t1", "group", "handler", due),
                                ("t1", "user", "hans", due)}

        conn.execute(update(UserTask).where(UserTask.id == "t1").values(assignee="hans", claimed_at=NOW))
        assert _index(conn) == {("t1", "assignee", "hans", due)}, "a claimed task leaves its candidates' inbox"

        conn.execute(update(UserTask).where(UserTask.id == "t1").values(assignee=None, claimed_at=None))
        assert len(_index(conn)) == 3, "given back, it is offered to its candidates again"

        later = due + timedelta(days=2)
        conn.execute(update(UserTask).where(UserTask.id == "t1").values(due_at=later))
        assert {row[3] for row in _index(conn)} == {later}, "a moved deadline moves the task in every inbox"

        conn.execute(update(UserTask).where(UserTask.id == "t1").values(state="cancelled"))
        assert _index(conn) == set()
        row = conn.execute(select(UserTask.candidate_groups).where(UserTask.id == "t1")).scalar_one()
        assert row == ["market", "market", "handler"], "the task row keeps its candidates as history"


def test_a_task_without_a_deadline_sorts_after_every_deadline(db):
    with db.write_engine.begin() as conn:
        case_id = _version_and_case(conn)
        conn.execute(insert(UserTask), [_task("t1", case_id, ["market"], [])])
        assert _index(conn) == {("t1", "group", "market", NO_DUE)}


def test_migration_0006_rebuilds_the_index_from_the_ready_tasks(db_url):
    database = Database(db_url)
    try:
        upgrade(database.write_engine, "0005")
        due = NOW + timedelta(hours=5)
        with database.write_engine.begin() as conn:
            case_id = _version_and_case(conn)
            conn.execute(insert(UserTask), [_task("ready", case_id, ["market"], ["mia"], due_at=due),
                                            _task("mine", case_id, ["market"], [], assignee="mia"),
                                            _task("done", case_id, ["market"], [], state="completed")])
        upgrade(database.write_engine)
        with database.write_engine.connect() as conn:
            assert _index(conn) == {("ready", "group", "market", due), ("ready", "user", "mia", due),
                                    ("mine", "assignee", "mia", NO_DUE)}
    finally:
        database.dispose()
