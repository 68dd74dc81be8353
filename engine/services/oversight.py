"""Oversight, the start pages of the roles that watch cases rather than work one task (issue 18):
the complaint group's overview, a department head's department, the administrator's operations page
(incidents, timers the sweep should have fired, scheduler heartbeats, deployments). One read per page."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from ..store.models import AuditEvent, Case, OrgUnit, ProcessVersion, SchedulerBeat, TaskCandidate, Timer, UserTask
from .convert import case_summary, case_view, task_view, version_view
from .core import CLOSED, Actor, Core
from .errors import NotFound, PermissionDenied
from .views import CaseSummary, CaseView, TaskView, VersionView

__all__ = ["BEAT_LATE", "TIMER_LATE", "DepartmentPage", "OperationsPage", "OverviewPage", "OversightService",
           "RepairPage", "beat_name"]

TIMER_LATE = timedelta(minutes=2)      # a timer still waiting this long after its due time: the sweep is not firing it
BEAT_LATE = timedelta(minutes=1)       # a scheduler silent this long is shown as stopped
LIST = 50


@dataclass(frozen=True)
class OverviewPage:
    """The complaint group's overview (000 一.1): today's intake, unclaimed tasks, overdue by department,
    cases awaiting the call-back."""

    today: tuple[CaseSummary, ...]
    today_count: int
    unclaimed: dict[str, int]                       # candidate group -> unclaimed READY tasks
    overdue_by_department: dict[str, int]           # responsible department (unit key) -> overdue open tasks
    overdue: tuple[TaskView, ...]
    callbacks: tuple[TaskView, ...]


@dataclass(frozen=True)
class DepartmentPage:
    """A department head's view: the open cases routed to the departments they head, their overdue tasks."""

    departments: tuple[str, ...]
    open_cases: tuple[CaseSummary, ...]
    open_tasks: tuple[TaskView, ...]
    completed_this_month: int


@dataclass(frozen=True)
class OperationsPage:
    """The administrator's operations page."""

    incidents: tuple[CaseSummary, ...]
    late_timers: tuple[dict[str, Any], ...]          # {id, case_id, element_id, due_at}
    beats: tuple[dict[str, Any], ...]                # {name, beat_at, result, late}
    versions: tuple[VersionView, ...]


@dataclass(frozen=True)
class RepairPage:
    """The administrator's repair of one case: the failed step and its error, the start form of the case's
    version (its fields filled with the case's data), the versions of its process to move it to."""

    case: CaseView
    fields: tuple[dict[str, Any], ...]
    failed_element: str | None                      # the element the incident names, if any
    failed_name: str                                # that element's name in the BPMN ("" when unnamed)
    failed_type: str                                # that element's type (serviceTask, boundaryEvent ...)
    version: int                                    # the version number the case runs on
    versions: tuple[int, ...]                       # every deployed version number of its process


def beat_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _start_of_day(core: Core, now: datetime) -> datetime:
    tz = core.base_calendar.tz
    return datetime.combine(now.astimezone(tz).date(), time(), tz)


def _department(case_column=Case.data):
    return case_column["responsible_department"].as_string()


class OversightService:
    """The start pages of the overseeing roles; each call is one read transaction."""

    def __init__(self, core: Core):
        self._core = core

    def beat(self, name: str, result: dict[str, Any]) -> None:
        """Record that scheduler ``name`` swept now, with what the sweep did."""
        with self._core.db.transaction() as session:
            row = session.get(SchedulerBeat, name)
            if row is None:
                session.add(SchedulerBeat(name=name, beat_at=self._core.clock(), result=dict(result)))
            else:
                row.beat_at, row.result = self._core.clock(), dict(result)

    def overview(self, actor: Actor) -> OverviewPage:
        self._core.policy.require(actor, "oversee_cases", "see the complaint group's overview")
        now = self._core.clock()
        with self._core.db.transaction(write=False) as session:
            since = _start_of_day(self._core, now)
            today = select(Case).where(Case.started_at >= since)
            today_count = session.scalar(select(func.count()).select_from(today.subquery()))
            today_rows = session.scalars(today.order_by(Case.id.desc()).limit(LIST))
            unclaimed = dict(session.execute(
                select(TaskCandidate.name, func.count()).where(TaskCandidate.kind == "group")
                .group_by(TaskCandidate.name).order_by(TaskCandidate.name)).all())
            overdue_q = (select(UserTask, _department()).join(Case, Case.id == UserTask.case_id)
                         .where(UserTask.state == "ready", UserTask.due_at < now))
            overdue_rows = session.execute(overdue_q.order_by(UserTask.due_at)).all()
            by_department: dict[str, int] = {}
            for _, department in overdue_rows:
                by_department[department or ""] = by_department.get(department or "", 0) + 1
            callbacks = session.scalars(
                select(UserTask).join(TaskCandidate, TaskCandidate.task_id == UserTask.id)
                .where(TaskCandidate.kind == "group", TaskCandidate.name == "callback")
                .order_by(TaskCandidate.due_sort).limit(LIST))
            return OverviewPage(tuple(case_summary(c) for c in today_rows), today_count, unclaimed,
                                dict(sorted(by_department.items(), key=lambda kv: -kv[1])),
                                tuple(task_view(t, now) for t, _ in overdue_rows[:LIST]),
                                tuple(task_view(t, now) for t in callbacks))

    def department(self, actor: Actor) -> DepartmentPage:
        """The departments ``actor`` heads (org_unit.head): their open cases and open tasks, overdue first."""
        now = self._core.clock()
        with self._core.db.transaction(write=False) as session:
            keys = tuple(session.scalars(select(OrgUnit.key).where(OrgUnit.head == actor.username)
                                         .order_by(OrgUnit.key)))
            if not keys:
                raise PermissionDenied(f"{actor.username} heads no department", code="no_department")
            mine = _department().in_(keys)
            cases = session.scalars(select(Case).where(mine, Case.status.not_in(CLOSED))
                                    .order_by(Case.id.desc()).limit(LIST))
            tasks = session.scalars(select(UserTask).join(Case, Case.id == UserTask.case_id)
                                    .where(mine, UserTask.state == "ready")
                                    .order_by(UserTask.due_at.is_(None), UserTask.due_at).limit(LIST))
            month = datetime.combine(now.astimezone(self._core.base_calendar.tz).date().replace(day=1), time(),
                                     self._core.base_calendar.tz)
            done = session.scalar(select(func.count()).select_from(Case).where(
                mine, Case.status == "completed", Case.ended_at >= month))
            return DepartmentPage(keys, tuple(case_summary(c) for c in cases), tuple(task_view(t, now) for t in tasks),
                                  done or 0)

    def operations(self, actor: Actor) -> OperationsPage:
        self._core.policy.require(actor, "repair_cases", "see the operations page")
        now = self._core.clock()
        with self._core.db.transaction(write=False) as session:
            incidents = session.scalars(select(Case).where(Case.status == "incident").order_by(Case.updated_at))
            late = session.scalars(select(Timer).where(Timer.due_at < now - TIMER_LATE).order_by(Timer.due_at)
                                   .limit(LIST))
            beats = session.scalars(select(SchedulerBeat).order_by(SchedulerBeat.beat_at.desc()))
            running = dict(session.execute(select(Case.version_id, func.count()).where(Case.status.not_in(CLOSED))
                                           .group_by(Case.version_id)).all())
            versions = session.scalars(select(ProcessVersion).order_by(ProcessVersion.deployed_at.desc()).limit(20))
            late_timers = []
            for t in late:
                case = session.get(Case, t.case_id)
                element = self._core.bundle(session, case.process_key, dict(case.pinned)).elements.get(t.element_id, {})
                late_timers.append({"id": t.id, "case_id": t.case_id, "element_id": t.element_id, "due_at": t.due_at,
                                    "name": " ".join((element.get("name") or "").split())})
            return OperationsPage(
                tuple(case_summary(c) for c in incidents), tuple(late_timers),
                tuple({"name": b.name, "beat_at": b.beat_at, "result": dict(b.result),
                       "late": b.beat_at < now - BEAT_LATE} for b in beats),
                tuple(version_view(v, running.get(v.id, 0)) for v in versions))

    def repair_page(self, case_id: int, actor: Actor) -> RepairPage:
        """Return what an administrator needs to repair a case (one read)."""
        self._core.policy.require(actor, "repair_cases", "repair cases")
        with self._core.db.transaction(write=False) as session:
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
            bundle = self._core.bundle(session, case.process_key, dict(case.pinned))
            failed = session.scalar(select(AuditEvent.element_id).where(
                AuditEvent.case_id == case_id, AuditEvent.lifecycle == "incident", AuditEvent.element_id.is_not(None))
                .order_by(AuditEvent.id.desc()).limit(1)) if case.status == "incident" else None
            numbers = dict(session.execute(select(ProcessVersion.id, ProcessVersion.version)
                                           .where(ProcessVersion.key == case.process_key)).all())
            element = bundle.elements.get(failed or "", {})
            return RepairPage(case_view(case), tuple(bundle.start_form or ()), failed,
                              " ".join((element.get("name") or "").split()), element.get("type", ""),
                              numbers[case.version_id], tuple(sorted(numbers.values())))
