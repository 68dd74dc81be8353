"""Deadlines and time, for staff and the scheduler: pause, resume and extend a case's clock (N-4), the timer
sweep, the crisis watch (C-2) and the business calendar with its overrides.

Pausing keeps, for each waiting timer, the time it had left: working time for
timers computed from the business calendar (``due_in_working_days`` ...), clock
time for plain durations (``PT24H``). Resuming makes each due again after
exactly that much, counted from the resume. Every pause, resume and extension
is an audit event with its reason.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..bpmn import EngineError
from ..rules import calendar as cal
from ..store import rows
from ..store.db import after_commit
from ..store.models import Case, CalendarOverride, Timer, UserTask
from . import crisis
from .convert import override_view
from .core import SCHEDULER, Actor, CaseHead, Core, audit_row
from .errors import CaseCancelled, ConcurrentUpdate, InvalidRequest, NotFound, StepOverBudget
from .views import CalendarOverrideView, CaseRef

__all__ = ["DeadlineService", "extend", "fire_due_timers", "pause", "remove_override", "resume", "set_override"]

log = logging.getLogger(__name__)


def _case_for(core: Core, session: Session, case_id: int, actor: Actor) -> CaseHead:
    """Return a case whose deadlines the actor may move: one of its open tasks is theirs, or they may move any."""
    case = rows.case_head(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
    if case.status == "cancelled":
        raise CaseCancelled(case.id)
    if core.policy.allows(actor.groups, "any_deadline"):
        return case
    open_tasks = session.scalars(select(UserTask).where(UserTask.case_id == case_id, UserTask.state == "ready"))
    if not any(actor.may_work_on(task) for task in open_tasks):
        core.policy.require(actor, "any_deadline", f"move the deadlines of case {case_id}, on none of whose "
                                                   "open tasks they work")
    return case


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required (N-4: it is told to the customer and recorded)",
                             code="reason_required")
    return reason.strip()


def pause(core: Core, session: Session, case_id: int, reason: str, actor: Actor, now: datetime) -> CaseRef:
    """Stop the case's deadline clock while it waits on the customer (N-4)."""
    case, reason = _case_for(core, session, case_id, actor), _reason(reason)
    calendar = core.calendar(session)

    def remaining(due: datetime, kind: str) -> float:
        if kind == "clock":
            return (due - now).total_seconds()
        return cal.working_seconds_between(calendar, now, due)

    instance = core.instance(session, case)
    try:
        step = core.step(case, lambda: instance.pause(core.host(session, case.id, actor, now), now, remaining))
    except EngineError as exc:
        raise InvalidRequest(str(exc), code="deadline_state") from exc
    left = instance.paused_remaining()
    return core.persist(session, case, instance, step, actor, now,
                        [audit_row(case, "paused", actor, now, data={"reason": reason, "remaining_seconds": left})])


def resume(core: Core, session: Session, case_id: int, actor: Actor, now: datetime) -> CaseRef:
    """Restart a paused case's deadline clock with the time each deadline had left."""
    case = _case_for(core, session, case_id, actor)
    calendar = core.calendar(session)

    def due(left: float, kind: str) -> datetime:
        if kind == "clock":
            return now + timedelta(seconds=left)
        return cal.add_working_seconds(calendar, now, left) if left > 0 else now

    instance = core.instance(session, case)
    paused_at = instance.paused_at
    try:
        step = core.step(case, lambda: instance.resume(core.host(session, case.id, actor, now), now, due))
    except EngineError as exc:
        raise InvalidRequest(str(exc), code="deadline_state") from exc
    dues = {t.element_id: t.due_at.isoformat() for t in step.moved_timers()}
    return core.persist(session, case, instance, step, actor, now,
                        [audit_row(case, "resumed", actor, now, data={"paused_at": paused_at, "due": dues})])


def extend(core: Core, session: Session, case_id: int, working_days: int, reason: str, actor: Actor,
           now: datetime, element_id: str | None = None) -> CaseRef:
    """Move the case's waiting deadlines (or one of them) by ``working_days`` for a reason told to the customer."""
    case, reason = _case_for(core, session, case_id, actor), _reason(reason)
    if working_days < 1:
        raise InvalidRequest("an extension is at least one working day", code="extension_too_short")
    calendar = core.calendar(session)
    day = (datetime.combine(date.min, calendar.day_end) - datetime.combine(date.min, calendar.day_start)).total_seconds()

    def new_due(due: datetime, kind: str) -> datetime:
        return cal.add_working_seconds(calendar, due, working_days * day)

    instance = core.instance(session, case)
    try:
        step = core.step(case, lambda: instance.move_timers(core.host(session, case.id, actor, now), now, new_due,
                                                            element_id))
    except EngineError as exc:
        raise InvalidRequest(str(exc), code="deadline_state") from exc
    dues = {t.element_id: t.due_at.isoformat() for t in step.moved_timers()}
    return core.persist(session, case, instance, step, actor, now, [audit_row(
        case, "extended", actor, now, data={"reason": reason, "working_days": working_days, "due": dues})])


# --- calendar overrides (the State Council's yearly notice) ---

def set_override(core: Core, session: Session, day: date, workday: bool, note: str, actor: Actor,
                 now: datetime) -> None:
    """Mark ``day`` a workday or a day off; replaces an existing entry."""
    core.policy.require(actor, "edit_calendar", "change the calendar")
    row = session.get(CalendarOverride, day) or CalendarOverride(day=day)
    row.workday, row.note, row.changed_by, row.changed_at = workday, note or "", actor.username, now
    session.add(row)
    after_commit(session, core.forget_calendar)


def remove_override(core: Core, session: Session, day: date, actor: Actor) -> None:
    """Delete the override of ``day``."""
    core.policy.require(actor, "edit_calendar", "change the calendar")
    if session.execute(delete(CalendarOverride).where(CalendarOverride.day == day)).rowcount == 0:
        raise NotFound(f"no override for {day.isoformat()}", code="override_not_found", day=day.isoformat())
    after_commit(session, core.forget_calendar)


# --- the timer sweep (the scheduler) ---

def next_due_timer(session: Session, now: datetime, skip: set[str]) -> tuple[str, int] | None:
    """Return (timer id, case id) of one timer due before ``now`` whose case no other sweeper or command holds,
    locking that case.

    The lock is on the case row, not the timer row: two timers of one case are
    fired by one sweeper, so two sweepers never wait on each other's rows.
    """
    # A case put in incident because a step went over budget waits for an administrator, not for the next sweep.
    # A cancelled case has no timers left (its cancel deleted them); should one remain, it never fires.
    stuck = Case.status == "incident"
    query = (select(Timer.id, Timer.case_id).join(Case, Case.id == Timer.case_id)
             .where(Timer.due_at < now, ~(stuck & Case.incident.like(f"{StepOverBudget.PREFIX}%")),
                    Case.status != "cancelled")
             .order_by(Timer.due_at).limit(1).with_for_update(of=Case, skip_locked=True))
    if skip:
        query = query.where(Timer.id.not_in(skip))
    row = session.execute(query).first()
    return (row.id, row.case_id) if row else None


def fire_case_timers(core: Core, session: Session, case_id: int, now: datetime) -> int:
    """Advance a case to ``now``; return how many of its timers fired."""
    case = rows.case_head(session, case_id)
    instance = core.instance(session, case)
    step = core.step(case, lambda: instance.advance(core.host(session, case.id, SCHEDULER, now), now))
    core.persist(session, case, instance, step, SCHEDULER, now)
    return sum(1 for e in step.events if e.lifecycle == "timer_fired")


def fire_due_timers(core: Core, now: datetime, limit: int = 10_000) -> dict[str, int]:
    """Fire every timer due before ``now``, one case per transaction; a broken case is logged and skipped."""
    fired = failed = conflicts = 0
    skip: set[str] = set()
    for _ in range(limit):
        due = None
        try:
            with core.command(SCHEDULER) as session:
                due = next_due_timer(session, now, skip)
                if due is None:
                    break
                count = fire_case_timers(core, session, due[1], now)
                if count == 0:
                    skip.add(due[0])        # not firable now; do not pick it again in this sweep
                fired += count
        except ConcurrentUpdate:
            conflicts += 1
            skip.add(due[0])
        except StepOverBudget as exc:      # rolled back; the case is now in incident (core.command)
            failed += 1
            skip.add(due[0])
            log.error("timer sweep: case %s of timer %s: %s", due[1], due[0], exc)
        except Exception:  # noqa: BLE001 - one broken case must not block the sweep
            if due is None:
                raise           # the sweep itself cannot read timers: nothing to skip
            failed += 1
            skip.add(due[0])
            log.exception("timer sweep: case %s of timer %s failed", due[1], due[0])
    return {"fired": fired, "failed": failed, "conflicts": conflicts}


class DeadlineService:
    """Deadlines and time: pause, resume and extend a case (N-4), the timer sweep and the crisis watch (the
    scheduler), and the business calendar. Each call is one transaction, the sweep one per case."""

    def __init__(self, core: Core):
        self._core = core

    def pause(self, case_id: int, reason: str, actor: Actor) -> CaseRef:
        """N-4: stop the case's deadline clock while it waits on the customer."""
        with self._core.command(actor) as session:
            return pause(self._core, session, case_id, reason, actor, self._core.clock())

    def resume(self, case_id: int, actor: Actor) -> CaseRef:
        """N-4: restart the deadline clock with the time each deadline had left."""
        with self._core.command(actor) as session:
            return resume(self._core, session, case_id, actor, self._core.clock())

    def extend(self, case_id: int, working_days: int, reason: str, actor: Actor,
               element_id: str | None = None) -> CaseRef:
        """N-4: move the case's deadlines by working days for a reason told to the customer."""
        with self._core.command(actor) as session:
            return extend(self._core, session, case_id, working_days, reason, actor, self._core.clock(), element_id)

    def fire_due_timers(self, now: datetime | None = None) -> dict[str, int]:
        """Fire every timer due before ``now`` (default: the clock); return fired, failed and conflict counts."""
        return fire_due_timers(self._core, now or self._core.clock())

    def detect_crises(self, rules: crisis.CrisisRules | Path | None = None) -> list[int]:
        """C-2: start the crisis process for categories over the warning thresholds (once per category and day),
        by the thresholds given, or those of a file, or the installation's ``crisis.toml``."""
        if not isinstance(rules, crisis.CrisisRules):
            rules = crisis.load_crisis_rules(rules or self._core.settings.path("crisis.toml"))
        return crisis.detect_crises(self._core, rules, self._core.clock())

    def calendar(self) -> cal.BusinessCalendar:
        """Return the business calendar in force (the rules plus the administrators' overrides)."""
        with self._core.db.transaction(write=False) as session:
            return self._core.calendar(session)

    def holiday_coverage(self) -> cal.HolidayCoverage:
        """Tell how far statutory holidays are known and whether next year's notice is due (at the clock's today)."""
        calendar = self.calendar()
        return cal.holiday_coverage(calendar, self._core.clock().astimezone(calendar.tz).date())

    def overrides(self) -> list[CalendarOverrideView]:
        """Return the administrators' calendar entries by date."""
        with self._core.db.transaction(write=False) as session:
            return [override_view(o) for o in session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))]

    def set_override(self, day: date, workday: bool, note: str, actor: Actor) -> None:
        """Mark ``day`` a workday or a day off (those who may edit the calendar)."""
        with self._core.db.transaction() as session:
            set_override(self._core, session, day, workday, note, actor, self._core.clock())

    def remove_override(self, day: date, actor: Actor) -> None:
        """Delete the calendar entry of ``day``."""
        with self._core.db.transaction() as session:
            remove_override(self._core, session, day, actor)
