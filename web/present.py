"""The engine's views as template data: the serializer's JSON plus what a person reads (Beijing wall time)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from engine.services.serialize import plain

BEIJING = timezone(timedelta(hours=8))


def when(value: datetime | None) -> str | None:
    """Return an instant as Beijing wall time for people to read."""
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if value else None


def task(t) -> dict[str, Any]:
    return {**plain(t), "due": when(t.due_at)}


def event(e) -> dict[str, Any]:
    return {**plain(e), "when": when(e.at)}


def ledger_entry(e) -> dict[str, Any]:
    return {**plain(e), "name": e.subject_name}


def case_summary(c) -> dict[str, Any]:
    found = plain(c)
    found.update(started=when(c.started_at), complainant=(c.data or {}).get("complainant_name")
                 if hasattr(c, "data") else c.complainant)
    return found


def case(page) -> dict[str, Any]:
    """Return a case page's data: facts, tasks (open and done), timers, audit trail, path and deductions."""
    tasks = [task(t) for t in page.tasks]
    return {
        **case_summary(page.case), "data": page.case.data, "pinned": page.case.pinned,
        "tasks": tasks, "open_tasks": [t for t in tasks if t["state"] == "ready"],
        "timers": [{**plain(t), "due": when(t.due_at)} for t in page.timers],
        "events": [event(e) for e in page.events], "path": plain(page.path),
        "deductions": [ledger_entry(e) for e in page.deductions],
    }
