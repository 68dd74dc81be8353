"""Engine rows to plain data for templates and JSON: templates never see ORM objects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

BEIJING = timezone(timedelta(hours=8))


def when(value: datetime | None) -> str | None:
    """Return an instant as Beijing wall time for people to read."""
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if value else None


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def task(t, now: datetime) -> dict[str, Any]:
    return {
        "id": t.id, "case_id": t.case_id, "element_id": t.element_id, "name": t.name, "lane": t.lane,
        "candidate_groups": list(t.candidate_groups), "candidate_users": list(t.candidate_users),
        "assignee": t.assignee, "state": t.state, "form": list(t.form), "documentation": t.documentation,
        "created_at": iso(t.created_at), "due_at": iso(t.due_at), "due": when(t.due_at),
        "overdue": bool(t.state == "ready" and t.due_at and t.due_at < now),
        "completed_by": t.completed_by, "ended_at": iso(t.ended_at),
    }


def group_counts(tasks: list[dict[str, Any]], groups: frozenset[str]) -> dict[str, int]:
    """Count the unclaimed tasks each of the person's groups may claim."""
    counts = {g: 0 for g in sorted(groups)}
    for t in tasks:
        if t["assignee"] is None:
            for g in groups.intersection(t["candidate_groups"]):
                counts[g] += 1
    return counts


def event(e) -> dict[str, Any]:
    return {"id": e.id, "at": iso(e.at), "when": when(e.at), "lifecycle": e.lifecycle, "element_id": e.element_id,
            "element_name": e.element_name, "element_type": e.element_type, "flow_id": e.flow_id,
            "actor": e.actor, "task_id": e.task_id, "data": e.data}


def ledger_entry(e) -> dict[str, Any]:
    amount = e.amount if isinstance(e.amount, Decimal) else Decimal(str(e.amount))
    return {"id": e.id, "rule_id": e.rule_id, "subject": e.subject, "name": e.subject_name, "role": e.role,
            "department": e.department, "amount": format(amount.normalize(), "f"), "unit": e.unit,
            "month": e.month, "reason": e.reason, "reverses": e.reverses}


def case_summary(c) -> dict[str, Any]:
    return {"id": c.id, "process_key": c.process_key, "version_id": c.version_id, "status": c.status,
            "category": c.category, "started_by": c.started_by, "started_at": iso(c.started_at),
            "started": when(c.started_at), "ended_at": iso(c.ended_at), "incident": c.incident,
            "complainant": (c.data or {}).get("complainant_name")}


def case(detail, now: datetime, path: list | None = None, ledger: list | None = None) -> dict[str, Any]:
    """Return a case page's data: facts, tasks (open and done), timers, audit trail, path and deductions."""
    tasks = [task(t, now) for t in detail.tasks]
    return {
        **case_summary(detail.case), "data": detail.case.data, "pinned": detail.case.pinned,
        "tasks": tasks, "open_tasks": [t for t in tasks if t["state"] == "ready"],
        "timers": [{"id": t.id, "element_id": t.element_id, "due_at": iso(t.due_at), "due": when(t.due_at)}
                   for t in detail.timers],
        "events": [event(e) for e in detail.events], "path": path or [],
        "deductions": [ledger_entry(e) for e in (ledger or [])],
    }
