"""The crisis monitor (003; C-3, C-4, C-6, C-7): the open crises, the hourly count of complaints of each crisis's
category with the change against the hour before, and the 1 h / 2 h / 3 WD deadlines with their state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ..store.models import Case, UserTask

__all__ = ["CrisisDeadline", "CrisisHour", "CrisisView", "monitor"]

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class CrisisHour:
    """One clock hour: complaints of the category registered in it, and the change against the hour before."""

    start: datetime
    count: int
    change_ratio: Decimal | None        # None when the hour before had none (C-6: no ratio to compare with)


@dataclass(frozen=True)
class CrisisDeadline:
    """A crisis deadline (C-3 1 h, C-4 2 h, C-7 3 working days): its task, due and done times, state."""

    element_id: str
    rule: str
    name: str | None
    due_at: datetime | None
    ended_at: datetime | None
    state: str                          # pending (not reached yet) | open | overdue | done | late


@dataclass(frozen=True)
class CrisisView:
    case_id: int
    category: str | None
    issue: str | None
    started_at: datetime
    status: str
    hours: tuple[CrisisHour, ...]
    deadlines: tuple[CrisisDeadline, ...]


def _hours(session: Session, category: str | None, first: datetime, last: datetime,
           processes: tuple[str, ...]) -> tuple[CrisisHour, ...]:
    starts = []
    at = first
    while at <= last:
        starts.append(at)
        at += HOUR
    if not category:
        return tuple(CrisisHour(s, 0, None) for s in starts)
    counts = session.execute(select(*[
        func.coalesce(func.sum(case((and_(Case.started_at >= s, Case.started_at < s + HOUR), 1), else_=0)), 0)
        for s in starts]).where(Case.category == category, Case.process_key.in_(processes),
                                Case.started_at >= starts[0], Case.started_at < starts[-1] + HOUR)).one()
    hours, previous = [], None
    for s, n in zip(starts, counts):
        ratio = None if not previous else (Decimal(n - previous) / Decimal(previous)).quantize(Decimal("0.0001"))
        hours.append(CrisisHour(s, int(n), ratio))
        previous = int(n)
    return tuple(hours)


def _state(task: UserTask | None, now: datetime) -> str:
    if task is None:
        return "pending"
    if task.state == "completed":
        return "late" if task.due_at and task.ended_at and task.ended_at > task.due_at else "done"
    return "overdue" if task.due_at and task.due_at < now else "open"


def _deadline(element: str, rule: str, task: UserTask | None, now: datetime, tz) -> CrisisDeadline:
    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz) if moment else None

    return CrisisDeadline(element, rule, task.name if task else None, local(task.due_at if task else None),
                          local(task.ended_at if task else None), _state(task, now))


def monitor(session: Session, tz, now: datetime, process: str, deadlines: dict[str, str],
            intake_processes: tuple[str, ...], before_hours: int = 3, max_hours: int = 48) -> list[CrisisView]:
    """Return the running crises (and those closed in the last day), newest first."""
    crises = session.scalars(select(Case).where(Case.process_key == process).where(
        Case.ended_at.is_(None) | (Case.ended_at >= now - timedelta(days=1)))     # a cancelled one has ended too
        .order_by(Case.started_at.desc(), Case.id.desc())).all()
    views = []
    for crisis in crises:
        local = crisis.started_at.astimezone(tz)
        first = local.replace(minute=0, second=0, microsecond=0) - before_hours * HOUR
        end = (crisis.ended_at or now).astimezone(tz).replace(minute=0, second=0, microsecond=0)
        first = max(first, end - (max_hours - 1) * HOUR)
        tasks = {t.element_id: t for t in session.scalars(
            select(UserTask).where(UserTask.case_id == crisis.id, UserTask.element_id.in_(tuple(deadlines)))
            .order_by(UserTask.created_at))}
        data = crisis.data or {}
        category = data.get("crisis_category") or crisis.category
        views.append(CrisisView(
            crisis.id, category, data.get("issue_description"), local, crisis.status,
            _hours(session, category, first, end, intake_processes),
            tuple(_deadline(element, rule, tasks.get(element), now, tz) for element, rule in deadlines.items())))
    return views
