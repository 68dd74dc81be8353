"""Rows of the store to the frozen views of ``views``: the one place where ORM objects become plain data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..store.models import AuditEvent, CalendarOverride, Case, DeductionEntry, ProcessVersion, Timer
from .views import (
    AuditEntry, CalendarOverrideView, CaseSummary, CaseView, DeductionView, DueTimer, TaskView, VersionView,
)


def task_view(t: Any, now: datetime) -> TaskView:
    """Return a user task row (ORM object or Core row) as a view; overdue when READY and due before ``now``."""
    return TaskView(
        t.id, t.case_id, t.element_id, t.name, t.lane, tuple(t.candidate_groups), tuple(t.candidate_users),
        t.assignee, t.state, tuple(t.form), t.documentation, t.created_at, t.due_at, t.claimed_at, t.ended_at,
        t.completed_by, bool(t.state == "ready" and t.due_at is not None and t.due_at < now))


def case_view(c: Case) -> CaseView:
    return CaseView(c.id, c.process_key, c.version_id, dict(c.pinned), c.status, c.revision, c.category, dict(c.data or {}),
                    c.incident, c.started_by, c.started_at, c.updated_at, c.ended_at)


def case_summary(c: Case) -> CaseSummary:
    data = c.data or {}
    return CaseSummary(c.id, c.process_key, c.version_id, c.status, c.category, c.started_by, c.started_at,
                       c.ended_at, c.incident, data.get("complainant_name"), data.get("demo"), data.get("contact"),
                       data.get("responsible_department"))


def timer_view(t: Timer) -> DueTimer:
    return DueTimer(t.id, t.case_id, t.element_id, t.due_at)


def event_view(e: AuditEvent) -> AuditEntry:
    return AuditEntry(e.id, e.case_id, e.version_id, e.at, e.lifecycle, e.element_id, e.element_name,
                      e.element_type, e.flow_id, e.actor, e.task_id, e.data)


def deduction_view(e: DeductionEntry) -> DeductionView:
    return DeductionView(e.id, e.kind, e.case_id, e.rule_id, e.subject, e.subject_kind, e.subject_name, e.role,
                         e.department, e.amount, e.unit, e.month, e.element_id, e.booked_by, e.booked_at,
                         e.reverses, e.reason)


def version_view(v: ProcessVersion, running: int) -> VersionView:
    return VersionView(v.id, v.key, v.version, v.name, v.file_name, v.sha256, v.deployed_by, v.deployed_at, running)


def override_view(o: CalendarOverride) -> CalendarOverrideView:
    return CalendarOverrideView(o.day, o.workday, o.note, o.changed_by, o.changed_at)
