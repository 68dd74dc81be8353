"""The engine's views as template data: the serializer's JSON plus what a person reads (``labels``)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from engine.services.serialize import plain

from .labels import BEIJING, labels, short

__all__ = ["BEIJING", "case", "case_summary", "event", "ledger_entry", "task"]


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
