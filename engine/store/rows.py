"""The statements of a command: read a task and its case, write the case under its revision check, and the rows
lists query (user tasks, timers, audit events). Plain SQLAlchemy Core through the command's session; none commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from .models import AuditEvent, Case, ProcessVersion, Timer, UserTask

_case, _task, _timer, _pv = Case.__table__, UserTask.__table__, Timer.__table__, ProcessVersion.__table__


class VersionHead(NamedTuple):
    """The newest version of a process key, as deploy and start read it."""

    id: int
    key: str
    version: int
    sha256: str
    calls: list[str]


@dataclass
class CaseHead:
    """The columns of a case a command checks and writes, without its state and data (read only when needed)."""

    id: int
    process_key: str
    version_id: int
    pinned: dict[str, int]
    status: str
    revision: int
    incident: str | None = None


@dataclass
class TaskHead:
    """The columns of a user task a command checks: who may work on it and with which form."""

    id: str
    case_id: int
    element_id: str
    name: str
    state: str
    assignee: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    form: list[dict[str, Any]]
    completed_by: str | None
    claimed_at: datetime | None = None


_TASK_COLUMNS = (_task.c.id, _task.c.case_id, _task.c.element_id, _task.c.name, _task.c.state, _task.c.assignee,
                 _task.c.candidate_groups, _task.c.candidate_users, _task.c.form, _task.c.completed_by,
                 _task.c.claimed_at)
_CASE_COLUMNS = (_case.c.id, _case.c.process_key, _case.c.version_id, _case.c.pinned, _case.c.status,
                 _case.c.revision, _case.c.incident)
_newest = select(_pv.c.key, func.max(_pv.c.version).label("v")).group_by(_pv.c.key).subquery()
_LATEST = select(_pv.c.id, _pv.c.key, _pv.c.version, _pv.c.sha256, _pv.c.calls).join(
    _newest, (_pv.c.key == _newest.c.key) & (_pv.c.version == _newest.c.v))


def latest_versions(session: Session) -> dict[str, VersionHead]:
    """Return the newest version of each process key."""
    return {row.key: VersionHead(*row) for row in session.execute(_LATEST)}


def version_id_of(session: Session, key: str, version: int) -> int | None:
    """Return the id of version ``version`` of process ``key``, or None."""
    return session.scalar(select(ProcessVersion.id).where(ProcessVersion.key == key, ProcessVersion.version == version))


def version_xml(session: Session, version_ids: Iterable[int]) -> dict[int, tuple[str, bytes]]:
    """Return the process key and BPMN file of each version."""
    rows = session.execute(select(_pv.c.id, _pv.c.key, _pv.c.xml).where(_pv.c.id.in_(list(version_ids))))
    return {row.id: (row.key, row.xml) for row in rows}


# Statements built once: a command only binds values (building one costs more than SQLite spends running it).
_TASK_AND_CASE = (select(*_TASK_COLUMNS, *_CASE_COLUMNS).join(_case, _case.c.id == _task.c.case_id)
                  .where(_task.c.id == bindparam("task_id")))
_CASE_HEAD = select(*_CASE_COLUMNS).where(_case.c.id == bindparam("case_id"))
_LOAD_STATE = select(_case.c.state, _case.c.revision).where(_case.c.id == bindparam("case_id"))
_INSERT_CASE = insert(_case).returning(_case.c.id)
# The new values are bound by column name; the revision the command read has a name of its own.
_UPDATE_CASE = update(_case).where(_case.c.id == bindparam("case_id"), _case.c.revision == bindparam("read_revision"))
_CLAIM = update(_task).where(_task.c.id == bindparam("task_id"), _task.c.state == "ready",
                             _task.c.assignee.is_(None))
_HAND_OVER = update(_task).where(_task.c.id == bindparam("task_id"), _task.c.state == "ready",
                                 _task.c.assignee == bindparam("from_assignee")).values(
    assignee=bindparam("to_assignee"), claimed_at=bindparam("claimed_at"))
_UNCLAIM = update(_task).where(_task.c.id == bindparam("task_id")).values(assignee=None, claimed_at=None)
_DELETE_TIMERS = delete(_timer).where(_timer.c.id.in_(bindparam("timer_ids", expanding=True)))
_INSERT_TASK, _INSERT_TIMER, _INSERT_EVENTS = insert(_task), insert(_timer), insert(AuditEvent.__table__)


def task_and_case(session: Session, task_id: str) -> tuple[TaskHead, CaseHead] | None:
    """Read a task and the head of its case in one statement (not the state: a cached workflow usually has it)."""
    row = session.execute(_TASK_AND_CASE, {"task_id": task_id}).first()
    if row is None:
        return None
    return TaskHead(*row[:len(_TASK_COLUMNS)]), CaseHead(*row[len(_TASK_COLUMNS):])


def case_head(session: Session, case_id: int, lock: bool = False) -> CaseHead | None:
    """Read the head of a case; with ``lock`` hold its row until the transaction ends (PostgreSQL)."""
    row = session.execute(_CASE_HEAD.with_for_update() if lock else _CASE_HEAD, {"case_id": case_id}).first()
    return CaseHead(*row) if row else None


def load_state(session: Session, case_id: int) -> tuple[str, int] | None:
    """Return a case's serialized workflow and the revision it was saved at."""
    row = session.execute(_LOAD_STATE, {"case_id": case_id}).first()
    return (row.state, row.revision) if row else None


def insert_case(session: Session, row: dict[str, Any]) -> int:
    """Insert a case row; return its id."""
    return session.execute(_INSERT_CASE, row).scalar_one()


def update_case(session: Session, case_id: int, read_revision: int, values: dict[str, Any]) -> bool:
    """Write a case only if its revision is still the one the command read; return whether it was."""
    result = session.execute(_UPDATE_CASE, {**values, "case_id": case_id, "read_revision": read_revision})
    return result.rowcount == 1


def insert_tasks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert READY user tasks; the database indexes each for the inbox (migration 0006)."""
    if rows:
        session.execute(_INSERT_TASK, rows)


_END_TASK = update(_task).where(_task.c.id == bindparam("task_id")).values(
    state=bindparam("new_state"), ended_at=bindparam("ended_at"), completed_by=bindparam("by"))
_TASK_DUE = update(_task).where(_task.c.id == bindparam("task_id")).values(due_at=bindparam("new_due"))


def end_tasks(session: Session, rows: list[dict[str, Any]]) -> None:
    """Mark user tasks completed or cancelled (``task_id``, ``new_state``, ``ended_at``, ``by``); they stay as
    history and leave the inbox index."""
    if rows:
        session.execute(_END_TASK, rows)


def move_task_dues(session: Session, rows: list[dict[str, Any]]) -> None:
    """Give open tasks a new due time (``task_id``, ``new_due``)."""
    if rows:
        session.execute(_TASK_DUE, rows)


def claim_task(session: Session, task_id: str, assignee: str, now: datetime) -> bool:
    """Assign a READY unassigned task; return False when someone else took it first."""
    result = session.execute(_CLAIM, {"task_id": task_id, "assignee": assignee, "claimed_at": now})
    return result.rowcount == 1


def hand_over_task(session: Session, task_id: str, from_assignee: str, to_assignee: str, now: datetime) -> bool:
    """Give a claimed READY task to another assignee; return False when its assignee changed meanwhile."""
    result = session.execute(_HAND_OVER, {"task_id": task_id, "from_assignee": from_assignee,
                                          "to_assignee": to_assignee, "claimed_at": now})
    return result.rowcount == 1


def unclaim_task(session: Session, task_id: str) -> None:
    """Give a task back to its candidates."""
    session.execute(_UNCLAIM, {"task_id": task_id})


_MOVE_TIMER = update(_timer).where(_timer.c.id == bindparam("timer_id")).values(due_at=bindparam("new_due"))


def write_timers(session: Session, gone: Iterable[str], moved: list[dict[str, Any]],
                 new: list[dict[str, Any]]) -> None:
    """Delete the timers that fired or were cancelled, move the moved ones (``timer_id``, ``new_due``), add new ones."""
    gone = list(gone)
    if gone:
        session.execute(_DELETE_TIMERS, {"timer_ids": gone})
    if moved:
        session.execute(_MOVE_TIMER, moved)
    if new:
        session.execute(_INSERT_TIMER, new)


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Append audit events (the table refuses updates and deletes)."""
    if rows:
        session.execute(_INSERT_EVENTS, rows)
