"""Deadline adherence (及时率, SPEC A-2): the ``deadline`` rows every command keeps, and the figures per rule.

A deadline is a boundary timer: set when the timer starts waiting, moved by an
extension or a resume (a pause keeps the due time it had), *met* when the
activity it watches completes before it fires, *missed* when it fires. For a
reminder (non-interrupting) the activity goes on: when it completes, the
lateness is the time from the due time to then, counted in working time where
the rule counts working days (its documentation says "working days" or 工作日, or
its expression calls ``due_in_working_days``, ``working_hours``) and in clock time
otherwise. An interrupting deadline that fires ends its activity
(the case escalates): missed, without a lateness.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..bpmn import Bundle, Step
from ..rules import calendar as cal
from ..store.models import NO_DUE, Case, Deadline, ProcessVersion
from .views import AdherenceRow, MissedDeadline

__all__ = ["adherence", "kind_of", "record_deadlines", "rule_of"]

RULE_ID = re.compile(r"\b([A-Z]-\d+[a-z]?)\b")
# A rule counts working time when the timer's documentation says so ("3 working days", 工作日) or its expression
# calls the working-time functions; otherwise lateness is clock time (24 h, 2 hours, next day 17:00).
WORKING_WORDS = re.compile(r"working (day|hour)|工作日|工作时")
WORKING = ("due_in_working_days", "working_hours")
_deadline = Deadline.__table__


def rule_of(info: dict[str, Any]) -> str | None:
    """Return the first rule id the element's documentation cites (``N-4 (001 第七条) ...`` -> ``N-4``)."""
    found = RULE_ID.search(info.get("documentation", ""))
    return found.group(1) if found else None


def kind_of(info: dict[str, Any]) -> str:
    """Return how a deadline's lateness is counted: ``working`` time or ``clock`` time."""
    if WORKING_WORDS.search(info.get("documentation", "")) or any(f in info.get("timer", "") for f in WORKING):
        return "working"
    return "clock"


def record_deadlines(session: Session, case_id: int, bundle: Bundle, step: Step, now: datetime) -> None:
    """Write what the step did to the case's deadlines: new ones, moved ones, met, missed or cancelled ones."""
    elements = bundle.elements
    new = [t for t in step.new_timers() if _is_deadline(elements.get(t.element_id, {}))]
    if new:
        session.execute(insert(Deadline), [{
            "id": t.task_id, "case_id": case_id, "element_id": t.element_id,
            "attached_to": elements[t.element_id]["attached_to"], "rule_id": rule_of(elements[t.element_id]),
            "kind": kind_of(elements[t.element_id]),
            "interrupting": elements[t.element_id]["interrupting"],
            "department": step.data.get("responsible_department"), "outcome": "open", "set_at": now,
            "due_at": t.due_at, "fired_at": None, "ended_at": None} for t in new])
    moved = [t for t in step.moved_timers() if t.due_at < NO_DUE]       # a pause parks timers: keep their due
    for timer in moved:
        session.execute(update(Deadline).where(Deadline.id == timer.task_id).values(due_at=timer.due_at))
    gone = step.gone_timers()
    completed = {e.element_id for e in step.events if e.lifecycle == "completed"}
    if gone:
        fired = {e.task_id for e in step.events if e.lifecycle == "timer_fired"}
        for row in session.execute(select(Deadline.id, Deadline.attached_to, Deadline.interrupting)
                                   .where(Deadline.id.in_(gone), Deadline.outcome == "open")):
            if row.id in fired:
                values = {"outcome": "missed", "fired_at": now, "ended_at": now if row.interrupting else None}
            elif row.attached_to in completed:
                values = {"outcome": "met", "ended_at": now}
            else:
                values = {"outcome": "cancelled", "ended_at": now}
            session.execute(update(Deadline).where(Deadline.id == row.id).values(**values))
    watched = completed & bundle_watched(bundle)
    if watched:     # reminders that fired: the watched activity is done now, which gives the lateness
        session.execute(update(Deadline).where(
            Deadline.case_id == case_id, Deadline.outcome == "missed", Deadline.ended_at.is_(None),
            Deadline.attached_to.in_(watched)).values(ended_at=now))


_WATCHED: dict[int, frozenset[str]] = {}


def _is_deadline(info: dict[str, Any]) -> bool:
    """A boundary timer is a deadline; a boundary timer cycle (C-6 每隔1小时) is a rhythm, never met or missed."""
    return bool(info.get("attached_to")) and info.get("timer_kind") != "timeCycle"


def bundle_watched(bundle: Bundle) -> frozenset[str]:
    """Return the activities of a bundle that a boundary timer watches."""
    found = _WATCHED.get(id(bundle))
    if found is None:
        found = _WATCHED[id(bundle)] = frozenset(
            info["attached_to"] for info in bundle.elements.values() if _is_deadline(info) and "timer" in info)
    return found


def lateness_minutes(calendar: cal.BusinessCalendar, kind: str, due: datetime, done: datetime) -> int:
    """Return how many minutes after ``due`` the work was done: working minutes for working-day rules."""
    if done <= due:
        return 0
    seconds = cal.working_seconds_between(calendar, due, done) if kind == "working" else (done - due).total_seconds()
    return round(seconds / 60)


def adherence(session: Session, calendar: cal.BusinessCalendar, conditions: list, now: datetime
              ) -> tuple[tuple[AdherenceRow, ...], tuple[MissedDeadline, ...]]:
    """Return adherence per rule, process version, department and month of the due time, and the missed ones."""
    query = (select(Deadline, Case.process_key, ProcessVersion.version)
             .join(Case, Case.id == Deadline.case_id).join(ProcessVersion, ProcessVersion.id == Case.version_id)
             .where(*conditions, Deadline.outcome != "cancelled").order_by(Deadline.due_at))
    groups: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, 0, 0, None])
    missed: list[MissedDeadline] = []
    for deadline, key, version in session.execute(query):
        month = deadline.due_at.astimezone(calendar.tz).strftime("%Y-%m")
        group = groups[(deadline.rule_id or "", key, version, deadline.department or "", month, deadline.kind)]
        group[0] += 1
        outcome = deadline.outcome
        if outcome == "open" and deadline.due_at < now:
            outcome = "missed"          # due and not yet swept: missed all the same
        if outcome == "met":
            group[1] += 1
        elif outcome == "missed":
            group[2] += 1
            late = None
            if deadline.ended_at is not None and not deadline.interrupting:
                late = lateness_minutes(calendar, deadline.kind, deadline.due_at, deadline.ended_at)
                group[4] += late
                group[5] = max(group[5], late)
                group[6] = (group[6] or 0) + 1
            missed.append(MissedDeadline(deadline.case_id, deadline.rule_id, deadline.element_id, key, version,
                                         deadline.department, deadline.due_at, deadline.ended_at, late,
                                         deadline.kind))
        else:
            group[3] += 1
    rows = tuple(AdherenceRow(rule, key, version, department or None, month, kind, n, met, miss, open_, late_sum,
                              late_max, late_n or 0)
                 for (rule, key, version, department, month, kind), (n, met, miss, open_, late_sum, late_max, late_n)
                 in sorted(groups.items()))
    return rows, tuple(missed)
