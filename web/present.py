"""The engine's views as template data: the serializer's JSON plus what a person reads (``labels``)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from engine.services.serialize import plain

from .labels import BEIJING, labels, short

__all__ = ["BEIJING", "case", "case_summary", "event", "ledger_entry", "task", "when"]


def when(value) -> str | None:
    """Return an instant as the person reads it (Beijing time, their language), or None."""
    return labels().when(value) if value else None


def task(t) -> dict[str, Any]:
    lb = labels()
    return {**plain(t), "name": short(t.name), "due": lb.when(t.due_at) if t.due_at else None,
            "groups_text": lb.groups(t.candidate_groups), "assignee_name": lb.person(t.assignee) if t.assignee else None,
            "state_text": lb.task_state(t.state), "completed_by_name": lb.person(t.completed_by)}


def ledger_entry(e) -> dict[str, Any]:
    lb = labels()
    amount = lb.money(e.amount) if e.unit == "yuan" else f"{plain(e.amount)}"
    return {**plain(e), "name": e.subject_name, "department_name": lb.unit(e.department), "amount_text": amount,
            "unit_text": "" if e.unit == "yuan" else _("points") if e.unit == "points" else e.unit}


def case_summary(c) -> dict[str, Any]:
    lb = labels()
    found = plain(c)
    data = getattr(c, "data", None)
    found.update(started=lb.when(c.started_at), ended=lb.when(c.ended_at) if c.ended_at else None,
                 complainant=(data or {}).get("complainant_name") if data is not None else c.complainant,
                 status_text=lb.status(c.status), category_text=lb.category(c.category),
                 process_name=lb.process(c.process_key), started_by_name=lb.person(c.started_by),
                 contact=getattr(c, "contact", None) or (data or {}).get("contact"),
                 department_name=lb.unit(getattr(c, "department", None) or (data or {}).get("responsible_department")))
    return found


def case(page) -> dict[str, Any]:
    """Return a case page's data: facts, tasks (open and done), timers, audit trail, path and deductions."""
    lb = labels()
    tasks = [task(t) for t in page.tasks]
    return {
        **case_summary(page.case), "data": page.case.data, "pinned": page.case.pinned,
        "facts": lb.facts(page.case.data, page.fields),
        "tasks": tasks, "open_tasks": [t for t in tasks if t["state"] == "ready"],
        "timers": [{**plain(t), "due": lb.when(t.due_at), "name": lb.element(t.element_id, page.elements)}
                   for t in page.timers],
        "events": [lb.event(e, page.elements) for e in page.events], "path": plain(page.path),
        "deductions": [ledger_entry(e) for e in page.deductions],
    }


def event(e, elements: dict | None = None) -> dict[str, Any]:
    return labels().event(e, elements or {})


# --- compliance ---

def bar(share: float | None, width: int = 240) -> int:
    """Return the length in pixels of a bar for a share between 0 and 1 (0 for none)."""
    return 0 if share is None else round(max(0.0, min(1.0, share)) * width)


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def _steps(deviations) -> list[dict[str, Any]]:
    """Return deviations (``DeviationView``, ``DeviationCount``) with the name a person reads for their element:
    its own, or for an unnamed one what it is (a decision, an automatic step), never its id."""
    lb = labels()
    return [{**plain(d), "element_text": lb.element(d.element_id, {d.element_id: {
        "name": d.element_name, "type": d.element_type}})} for d in deviations]


def _deviating(cases, counts) -> list[dict[str, Any]]:
    """Return deviating cases with each deviation as (kind, element name), the names taken from ``counts``."""
    named = {d["element_id"]: d["element_text"] for d in counts}
    lb = labels()
    return [{**plain(c), "started": when(c.started_at), "process_name": lb.process(c.process_key),
             "status_text": lb.status(c.status),
             "deviations": [(kind, named.get(element) or lb.element(element, {})) for kind, element in c.deviations]}
            for c in cases]


def conformance(summary) -> dict[str, Any]:
    """Return a selection's conformance with the bars of its chart (fitness per version and month)."""
    lb = labels()
    rows = [{**plain(r), "share": percent(r.fitting / r.cases if r.cases else None), "process_name": lb.process(
        r.process_key), "bar": bar(r.fitting / r.cases if r.cases else None)} for r in summary.rows]
    counts = [{**d, "process_name": lb.process(d["process_key"])} for d in _steps(summary.deviations)]
    return {**plain(summary), "fitness": percent(summary.fitness), "rows": rows, "deviations": counts,
            "deviating": _deviating(summary.deviating, counts)}


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
    lb = labels()
    return {**plain(judged), "process_name": lb.process(judged.process_key), "status_text": lb.status(judged.status),
            "deviations": [{**d, "when": when(d["at"]), "actor_name": lb.person(d["actor"]) if d["actor"] else None}
                           for d in _steps(judged.deviations)],
            "overrides": [{**plain(o), "when": when(o.at)} for o in judged.overrides]}


def heatmap(h) -> dict[str, Any]:
    counts = _steps(h.deviation_counts)
    return {**plain(h), "process_name": labels().process(h.process_key), "deviation_counts": counts,
            "deviating": _deviating(h.deviating, counts)}
