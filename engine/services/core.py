"""Shared machinery of the services: bundles of pinned versions, the instance cache, the host, persisting a step."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Integer, bindparam, func, select, true
from sqlalchemy import case as sql_case
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..bpmn import Bundle, Host, Instance, Step, make_bundle
from ..rules import calendar as cal
from ..store.models import AuditEvent, CalendarOverride, Case, ProcessVersion, Timer, UserTask
from ..store.prepared import Batch, Prepared
from .clocks import Clock, system_clock
from .errors import ConcurrentUpdate, NotFound
from .topics import TopicContext, TopicRegistry


@dataclass(frozen=True)
class Actor:
    """Who acts: a username and the groups the organisation model gives them."""

    username: str
    groups: frozenset[str] = field(default_factory=frozenset)

    def may_work_on(self, task: UserTask | TaskHead) -> bool:
        return (
            task.assignee == self.username
            or self.username in task.candidate_users
            or bool(self.groups.intersection(task.candidate_groups))
        )


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


@dataclass(frozen=True)
class TaskRef:
    """A user task a command left READY: enough for a client to open it next."""

    id: str
    element_id: str
    name: str
    candidate_groups: tuple[str, ...]


@dataclass(frozen=True)
class CaseRef:
    """What a command did to a case: its id, status and the user tasks now READY."""

    id: int
    status: str
    ready: tuple[TaskRef, ...]

    @classmethod
    def of(cls, case_id: int, step: Step) -> CaseRef:
        return cls(case_id, step.status, tuple(TaskRef(v.task_id, v.element_id, v.name, tuple(v.candidate_groups))
                                               for v in step.ready))


def audit_row(case: Case | CaseHead, lifecycle: str, actor: Actor, now: datetime, *, data: Any = None,
              task_id: str | None = None, element_id: str | None = None, element_name: str | None = None,
              element_type: str | None = None, flow_id: str | None = None) -> dict[str, Any]:
    """Return one ``audit_event`` row of ``case``: an element's lifecycle step or, without an element, a case action."""
    return {"case_id": case.id, "version_id": case.version_id, "task_id": task_id, "element_id": element_id,
            "element_name": element_name, "element_type": element_type, "flow_id": flow_id,
            "lifecycle": lifecycle, "actor": actor.username, "at": now, "data": data}


CALENDAR_TTL_SECONDS = 60.0

SYSTEM = Actor("system", frozenset({"admin"}))
SCHEDULER = Actor("scheduler", frozenset())


class _InstanceCache:
    """Workflows kept in memory after a successful commit, valid only for the revision they were saved at."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[int, tuple[int, Instance]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, case_id: int, revision: int) -> Instance | None:
        with self._lock:
            entry = self._items.pop(case_id, None)
        return entry[1] if entry and entry[0] == revision else None

    def keep(self, case_id: int, revision: int, instance: Instance) -> None:
        if self._size == 0:
            return
        with self._lock:
            self._items[case_id] = (revision, instance)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def calendar_functions(calendar: cal.BusinessCalendar, now: datetime) -> dict[str, Any]:
    """Return the deadline functions BPMN timer expressions call, bound to ``now``."""

    def start(at: Any) -> datetime:
        return now if at is None else (at if isinstance(at, datetime) else datetime.fromisoformat(str(at)))

    return {
        "due_in_working_days": lambda n, at=None: cal.due_in_working_days(calendar, start(at), n).isoformat(),
        "working_hours": lambda h, at=None: cal.working_hours(calendar, start(at), h).isoformat(),
        "clock_hours": lambda h, at=None: cal.clock_hours(calendar, start(at), h).isoformat(),
        "next_day_at": lambda hhmm, at=None: cal.next_day_at(calendar, start(at), hhmm).isoformat(),
    }


class Core:
    """What every service needs: database, clock, topics, calendar and the caches."""

    def __init__(self, db, clock: Clock = system_clock, topics: TopicRegistry | None = None,
                 calendar: cal.BusinessCalendar | None = None, cache_instances: bool = True):
        self.db = db
        self.clock = clock
        self.topics = topics or TopicRegistry()
        self.base_calendar = calendar or cal.BusinessCalendar()
        self._calendar: tuple[float, cal.BusinessCalendar] | None = None
        # Keeps the workflow of a case after its commit; a revision mismatch (another worker wrote) reloads.
        self.instances = _InstanceCache(256 if cache_instances else 0)
        self._bundles: dict[tuple, Bundle] = {}
        self._xml: dict[int, tuple[str, bytes]] = {}

    # --- versions and bundles ---

    def latest_versions(self, session: Session) -> dict[str, VersionHead]:
        """Return the newest version (id, key, version, sha256, calls) of each process key."""
        return {row[1]: VersionHead(*row) for row in _LATEST_VERSIONS.run(session.connection(), {})}

    def pin(self, session: Session, key: str) -> dict[str, int]:
        """Pin ``key`` and every process it calls, transitively, to their latest versions."""
        latest = self.latest_versions(session)
        if key not in latest:
            raise NotFound(f"process {key!r} is not deployed")
        pinned: dict[str, int] = {}
        todo = [key]
        while todo:
            current = todo.pop()
            if current in pinned:
                continue
            if current not in latest:
                raise NotFound(f"process {current!r}, called by {key!r}, is not deployed")
            pinned[current] = latest[current].id
            todo.extend(latest[current].calls)
        return pinned

    def bundle(self, session: Session, top_key: str, pinned: dict[str, int]) -> Bundle:
        cache_key = (top_key, tuple(sorted(pinned.items())))
        bundle = self._bundles.get(cache_key)
        if bundle is None:
            missing = [vid for vid in pinned.values() if vid not in self._xml]
            if missing:
                for row in session.execute(select(ProcessVersion.id, ProcessVersion.key, ProcessVersion.xml)
                                           .where(ProcessVersion.id.in_(missing))):
                    self._xml[row.id] = (row.key, row.xml)
            bundle = make_bundle(top_key, {self._xml[vid][0]: self._xml[vid][1] for vid in pinned.values()})
            self._bundles[cache_key] = bundle
        return bundle

    def instance(self, session: Session, case: Case | CaseHead) -> Instance:
        cached = self.instances.take(case.id, case.revision)
        if cached is not None:
            return cached
        if isinstance(case, Case):
            state = case.state
        else:
            rows = _LOAD_STATE.run(session.connection(), {"case_id": case.id})
            if not rows or rows[0][1] != case.revision:
                raise ConcurrentUpdate(f"case {case.id} changed while this command ran; nothing was written")
            state = rows[0][0]
        return Instance.load(self.bundle(session, case.process_key, case.pinned), state)

    # --- running a command ---

    def host(self, session: Session, case_id: int, actor: Actor, now: datetime) -> Host:
        def call_topic(topic: str, params: dict[str, Any], data: dict[str, Any], element_id: str):
            handler = self.topics.get(topic)
            ctx = TopicContext(session, case_id, element_id, now, actor.username, dict(data))
            # A savepoint from the handler's first use of ctx.session: a failing handler leaves nothing behind.
            return ctx.run(handler, params)

        return Host(calendar_functions(self.calendar(session), now), call_topic)

    def calendar(self, session: Session) -> cal.BusinessCalendar:
        """Return the business calendar with the administrators' overrides (re-read at most once a minute)."""
        if self._calendar is None or time.monotonic() - self._calendar[0] > CALENDAR_TTL_SECONDS:
            rows = session.execute(select(CalendarOverride.day, CalendarOverride.workday))
            calendar = dataclasses.replace(self.base_calendar, overrides={r.day: r.workday for r in rows})
            self._calendar = (time.monotonic(), calendar)
        return self._calendar[1]

    def forget_calendar(self) -> None:
        """Drop the cached calendar so that the next command reads the overrides again."""
        self._calendar = None

    def persist(self, session: Session, case: Case | CaseHead, instance: Instance, step: Step, actor: Actor,
                now: datetime, extra_events: list[dict[str, Any]] = ()) -> CaseRef:
        """Write a step, the last writes of its command: the case (revision-checked), task rows, timer rows and
        audit events. They end the command's transaction (nothing may run after them in it); on PostgreSQL the
        COMMIT travels in their pipeline.
        """
        session.flush()         # what a topic handler left pending goes out before the COMMIT, not after
        values = {
            "case_id": case.id, "old_revision": case.revision, "state": instance.dump(),
            "revision": case.revision + 1, "status": step.status, "data": step.data,
            "incident": step.error if step.status == "incident" else None, "updated_at": now,
            "ended_at": now if step.status == "completed" else None, "category": step.data.get("category"),
        }
        batch = Batch(session.connection())
        # Pipelined, the rowcount arrives after the COMMIT: there the database itself refuses a stale revision.
        batch.add(_UPDATE_CASE_GUARDED if batch.pipelined else _UPDATE_CASE, values)
        self._write_tasks(batch, case.id, step, actor, now)
        self._write_timers(batch, case.id, step, now)
        self._move_task_dues(batch, step)
        events = [audit_row(case, e.lifecycle, actor, now, data=e.data, task_id=e.task_id, element_id=e.element_id,
                            element_name=e.name, element_type=e.element_type, flow_id=e.flow_id)
                  for e in step.events] + list(extra_events)
        if events:
            batch.add(INSERT_EVENT, events)
        # One round trip on PostgreSQL; if the revision check fails the caller rolls the rest back.
        stale = f"case {case.id} changed while this command ran; nothing was written"
        try:
            updated = batch.run(commit=True)[0]
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) == SERIALIZATION_FAILURE:
                raise ConcurrentUpdate(stale) from error
            raise
        if updated != 1:
            raise ConcurrentUpdate(stale)
        for key in ("revision", "status"):
            if isinstance(case, Case):
                # The row is written; keep the loaded object in step without making it dirty.
                set_committed_value(case, key, values[key])
            else:
                setattr(case, key, values[key])
        session.info.setdefault("after_commit", []).append(
            lambda: self.instances.keep(case.id, case.revision, instance))
        return CaseRef.of(case.id, step)

    @staticmethod
    def _write_tasks(batch: Batch, case_id: int, step: Step, actor: Actor, now: datetime) -> None:
        gone = step.gone_ready()
        if gone:
            # A trigger (migration 0004) drops the inbox index rows of a task whose state leaves 'ready';
            # the task row keeps its candidate lists as history.
            batch.add(_END_TASK, [{"task_id": tid, "state": state, "ended_at": now,
                              "completed_by": actor.username if state == "completed" else None}
                             for tid, state in gone.items()])
        new = step.new_ready()
        if new:
            # A trigger (migration 0004) indexes each new task under its candidate groups and users.
            batch.add(_INSERT_TASK, [{
                "id": v.task_id, "case_id": case_id, "element_id": v.element_id, "name": v.name, "lane": v.lane,
                "candidate_groups": v.candidate_groups, "candidate_users": v.candidate_users,
                "assignee": v.assignee, "state": "ready", "form": v.form, "documentation": v.documentation,
                "created_at": now, "due_at": v.due_at, "claimed_at": now if v.assignee else None, "ended_at": None,
                "completed_by": None,
            } for v in new])

    @staticmethod
    def _move_task_dues(batch: Batch, step: Step) -> None:
        """Give open tasks the new due time of the boundary timers a pause, resume or extension moved."""
        if not step.moved_timers():
            return
        rows = [{"task_id": v.task_id, "due_at": v.due_at} for v in step.ready
                if v.task_id in step.ready_before and v.due_from_timer]
        if rows:
            batch.add(_MOVE_TASK_DUE, rows)

    @staticmethod
    def _write_timers(batch: Batch, case_id: int, step: Step, now: datetime) -> None:
        gone = step.gone_timers()
        if gone:
            batch.add(_DELETE_TIMER, [{"timer_id": tid} for tid in gone])
        moved = step.moved_timers()
        if moved:
            batch.add(_MOVE_TIMER, [{"timer_id": t.task_id, "due_at": t.due_at} for t in moved])
        new = step.new_timers()
        if new:
            batch.add(_INSERT_TIMER, [
                {"id": t.task_id, "case_id": case_id, "element_id": t.element_id, "due_at": t.due_at, "created_at": now}
                for t in new
            ])


# Statements of the hot path, built once: a command only binds values.
_pv = ProcessVersion.__table__.c
_newest = select(_pv.key, func.max(_pv.version).label("v")).group_by(_pv.key).subquery()
_LATEST_VERSIONS = Prepared(select(_pv.id, _pv.key, _pv.version, _pv.sha256, _pv.calls).join(
    _newest, (_pv.key == _newest.c.key) & (_pv.version == _newest.c.v)))
_case, _task, _timer = Case.__table__.c, UserTask.__table__.c, Timer.__table__.c


def _update_case(revision_check) -> Prepared:
    """The case update of a command: new state and head, only where ``revision_check`` holds."""
    return Prepared(Case.__table__.update().where(_case.id == bindparam("case_id"), revision_check).values(
        {k: bindparam(k) for k in ("state", "revision", "status", "data", "incident", "updated_at", "ended_at",
                                   "category")}))


_OLD_REVISION = bindparam("old_revision", type_=Integer)
_UPDATE_CASE = _update_case(_case.revision == _OLD_REVISION)
# PostgreSQL (migration 0005): a stale revision raises SQLSTATE 40001 in the database, which rolls back the whole
# pipeline, COMMIT included. CASE evaluates its branches in order: the function runs only on a mismatch.
_UPDATE_CASE_GUARDED = _update_case(sql_case(
    (_case.revision == _OLD_REVISION, true()),
    else_=func.case_revision_conflict(_case.id, _case.revision, _OLD_REVISION, type_=Boolean)))
SERIALIZATION_FAILURE = "40001"
_LOAD_STATE = Prepared(select(_case.state, _case.revision).where(_case.id == bindparam("case_id")))
_END_TASK = Prepared(UserTask.__table__.update().where(_task.id == bindparam("task_id")).values(
    state=bindparam("state"), ended_at=bindparam("ended_at"), completed_by=bindparam("completed_by")))
_DELETE_TIMER = Prepared(Timer.__table__.delete().where(_timer.id == bindparam("timer_id")))
_INSERT_TASK = Prepared(UserTask.__table__.insert(), keys=[
    "id", "case_id", "element_id", "name", "lane", "candidate_groups", "candidate_users", "assignee", "state", "form",
    "documentation", "created_at", "due_at", "claimed_at", "ended_at", "completed_by"])
_INSERT_TIMER = Prepared(Timer.__table__.insert(), keys=["id", "case_id", "element_id", "due_at", "created_at"])
_MOVE_TIMER = Prepared(Timer.__table__.update().where(_timer.id == bindparam("timer_id")).values(
    due_at=bindparam("due_at")))
_MOVE_TASK_DUE = Prepared(UserTask.__table__.update().where(_task.id == bindparam("task_id")).values(
    due_at=bindparam("due_at")))
INSERT_EVENT = Prepared(AuditEvent.__table__.insert().inline(), keys=[
    "case_id", "version_id", "task_id", "element_id", "element_name", "element_type", "flow_id", "lifecycle", "actor",
    "at", "data"])
