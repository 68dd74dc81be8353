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


# --- compliance ---

def bar(share: float | None, width: int = 240) -> int:
    """Return the length in pixels of a bar for a share between 0 and 1 (0 for none)."""
    return 0 if share is None else round(max(0.0, min(1.0, share)) * width)


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def conformance(summary) -> dict[str, Any]:
    """Return a selection's conformance with the bars of its chart (fitness per version and month)."""
    rows = [{**plain(r), "share": percent(r.fitting / r.cases if r.cases else None),
             "bar": bar(r.fitting / r.cases if r.cases else None)} for r in summary.rows]
    return {**plain(summary), "fitness": percent(summary.fitness), "rows": rows,
            "deviating": [{**plain(d), "started": when(d.started_at)} for d in summary.deviating]}


def adherence(report) -> dict[str, Any]:
    """Return adherence rows per rule (months summed) with their bars, the detailed rows and the missed ones."""
    rules: dict[str, dict[str, Any]] = {}
    for r in report.rows:
        rule = rules.setdefault(r.rule_id or "—", {"rule_id": r.rule_id or "—", "kind": r.kind, "deadlines": 0,
                                                    "met": 0, "missed": 0, "open": 0, "late_minutes": 0,
                                                    "late_counted": 0, "late_minutes_max": 0})
        for key in ("deadlines", "met", "missed", "open", "late_minutes", "late_counted"):
            rule[key] += getattr(r, key)
        rule["late_minutes_max"] = max(rule["late_minutes_max"], r.late_minutes_max)
    for rule in rules.values():
        decided = rule["met"] + rule["missed"]
        rule["rate"] = percent(rule["met"] / decided if decided else None)
        rule["bar"] = bar(rule["met"] / decided if decided else None)
    return {"rules": sorted(rules.values(), key=lambda r: r["rule_id"]),
            "rows": [{**plain(r), "rate": percent(r.rate)} for r in report.rows],
            "missed": [{**plain(m), "due": when(m.due_at), "done": when(m.done_at)} for m in report.missed]}


def case_conformance(judged) -> dict[str, Any]:
    return {**plain(judged),
            "deviations": [{**plain(d), "when": when(d.at)} for d in judged.deviations],
            "overrides": [{**plain(o), "when": when(o.at)} for o in judged.overrides]}


def heatmap(h) -> dict[str, Any]:
    return {**plain(h), "deviating": [{**plain(d), "started": when(d.started_at)} for d in h.deviating]}
