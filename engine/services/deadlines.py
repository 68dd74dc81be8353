"""Deadlines: pause and resume a case's clock (N-4), agreed extensions, and the calendar overrides behind them.

Pausing keeps, for each waiting timer, the time it had left: working time for
timers computed from the business calendar (``due_in_working_days`` ...), clock
time for plain durations (``PT24H``). Resuming makes each due again after
exactly that much, counted from the resume. Every pause, resume and extension
is an audit event with its reason.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..bpmn import EngineError
from ..rules import calendar as cal
from ..store.models import Case, CalendarOverride, UserTask
from .core import Actor, CaseRef, Core, audit_row
from .errors import InvalidRequest, NotFound, PermissionDenied


def _case_for(session: Session, case_id: int, actor: Actor) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    if "admin" in actor.groups:
        return case
    open_tasks = session.scalars(select(UserTask).where(UserTask.case_id == case_id, UserTask.state == "ready"))
    if not any(actor.may_work_on(task) for task in open_tasks):
        raise PermissionDenied(f"{actor.username} works on no open task of case {case_id}")
    return case


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required (N-4: it is told to the customer and recorded)")
    return reason.strip()


def pause(core: Core, session: Session, case_id: int, reason: str, actor: Actor, now: datetime) -> CaseRef:
    """Stop the case's deadline clock while it waits on the customer (N-4)."""
    case, reason = _case_for(session, case_id, actor), _reason(reason)
    calendar = core.calendar(session)

    def remaining(due: datetime, kind: str) -> float:
        if kind == "clock":
            return (due - now).total_seconds()
        return cal.working_seconds_between(calendar, now, due)

    instance = core.instance(session, case)
    try:
        step = instance.pause(core.host(session, case.id, actor, now), now, remaining)
    except EngineError as exc:
        raise InvalidRequest(str(exc)) from exc
    left = instance.paused_remaining()
    return core.persist(session, case, instance, step, actor, now,
                        [audit_row(case, "paused", actor, now, data={"reason": reason, "remaining_seconds": left})])


def resume(core: Core, session: Session, case_id: int, actor: Actor, now: datetime) -> CaseRef:
    """Restart a paused case's deadline clock with the time each deadline had left."""
    case = _case_for(session, case_id, actor)
    calendar = core.calendar(session)

    def due(left: float, kind: str) -> datetime:
        if kind == "clock":
            return now + timedelta(seconds=left)
        return cal.add_working_seconds(calendar, now, left) if left > 0 else now

    instance = core.instance(session, case)
    paused_at = instance.paused_at
    try:
        step = instance.resume(core.host(session, case.id, actor, now), now, due)
    except EngineError as exc:
        raise InvalidRequest(str(exc)) from exc
    dues = {t.element_id: t.due_at.isoformat() for t in step.moved_timers()}
    return core.persist(session, case, instance, step, actor, now,
                        [audit_row(case, "resumed", actor, now, data={"paused_at": paused_at, "due": dues})])


def extend(core: Core, session: Session, case_id: int, working_days: int, reason: str, actor: Actor,
           now: datetime, element_id: str | None = None) -> CaseRef:
    """Move the case's waiting deadlines (or one of them) by ``working_days`` for a reason told to the customer."""
    case, reason = _case_for(session, case_id, actor), _reason(reason)
    if working_days < 1:
        raise InvalidRequest("an extension is at least one working day")
    calendar = core.calendar(session)
    day = (datetime.combine(date.min, calendar.day_end) - datetime.combine(date.min, calendar.day_start)).total_seconds()

    def new_due(due: datetime, kind: str) -> datetime:
        return cal.add_working_seconds(calendar, due, working_days * day)

    instance = core.instance(session, case)
    try:
        step = instance.move_timers(core.host(session, case.id, actor, now), now, new_due, element_id)
    except EngineError as exc:
        raise InvalidRequest(str(exc)) from exc
    dues = {t.element_id: t.due_at.isoformat() for t in step.moved_timers()}
    return core.persist(session, case, instance, step, actor, now, [audit_row(
        case, "extended", actor, now, data={"reason": reason, "working_days": working_days, "due": dues})])


# --- calendar overrides (the State Council's yearly notice) ---

def list_overrides(session: Session) -> list[CalendarOverride]:
    return list(session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)))


def set_override(core: Core, session: Session, day: date, workday: bool, note: str, actor: Actor,
                 now: datetime) -> CalendarOverride:
    """Mark ``day`` a workday or a day off (administrators only); replaces an existing entry."""
    if "admin" not in actor.groups:
        raise PermissionDenied(f"{actor.username} may not change the calendar")
    row = session.get(CalendarOverride, day) or CalendarOverride(day=day)
    row.workday, row.note, row.changed_by, row.changed_at = workday, note or "", actor.username, now
    session.add(row)
    session.info.setdefault("after_commit", []).append(core.forget_calendar)
    return row


def remove_override(core: Core, session: Session, day: date, actor: Actor) -> None:
    """Delete the override of ``day`` (administrators only)."""
    if "admin" not in actor.groups:
        raise PermissionDenied(f"{actor.username} may not change the calendar")
    if session.execute(delete(CalendarOverride).where(CalendarOverride.day == day)).rowcount == 0:
        raise NotFound(f"no override for {day.isoformat()}")
    session.info.setdefault("after_commit", []).append(core.forget_calendar)
