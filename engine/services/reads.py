"""Reads, one per screen, each one transaction returning one page view: the inbox, a task, a case, case lists,
the intake form. They read rows, never workflows, and apply who may see what (``policy``)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import literal, or_, select, tuple_
from sqlalchemy.orm import Session

from ..bpmn import start_form
from ..rules.calendar import holiday_coverage
from ..store import inbox, search
from ..store.models import AuditEvent, Case, DeductionEntry, ProcessVersion, Timer, UserTask
from .convert import case_summary, case_view, deduction_view, event_view, task_view, timer_view
from .core import Actor, Core
from .errors import InvalidRequest, NotFound, PermissionDenied
from . import organisation
from .views import CasePage, CaseSearchPage, CaseSummary, Directory, InboxPage, IntakePage, PathStep, TaskPage

__all__ = ["MAX_PAGE", "PAGE_SIZE", "ReadService", "executed_path"]

PAGE_SIZE, MAX_PAGE = 50, 500


# A cursor is the sort key of a page's last task: due and creation time in microseconds since 1970 (UTC), then
# the task id. Every string of this form is a position in the inbox, so the API describes it by its pattern.
CURSOR = re.compile(r"(\d{1,18})\.(\d{1,18})\.([0-9A-Za-z-]{1,36})")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LAST = datetime.max.replace(tzinfo=timezone.utc)


def _cursor(key: inbox.SortKey) -> str:
    due, created, task_id = key
    return f"{(due - _EPOCH) // timedelta(microseconds=1)}.{(created - _EPOCH) // timedelta(microseconds=1)}.{task_id}"


def _instant(micros: str) -> datetime:
    """A position in time; one past the last datetime is after every task (an empty page)."""
    value = int(micros)
    return _EPOCH + timedelta(microseconds=value) if value < (_LAST - _EPOCH) // timedelta(microseconds=1) else _LAST


def _after(cursor: str) -> inbox.SortKey:
    found = CURSOR.fullmatch(cursor)
    if found is None:
        raise InvalidRequest("the cursor is not one this inbox gave", code="invalid_cursor")
    return _instant(found[1]), _instant(found[2]), found[3]


# Case search orders: the column and whether it runs newest first; ties are broken by the case number.
SORTS = {"newest": ("id", True), "oldest": ("id", False), "updated": ("updated_at", True)}


def _search_cursor(value: Any, case_id: int, sort: str) -> str:
    raw = json.dumps([sort, value.isoformat() if isinstance(value, datetime) else value, case_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _search_after(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        made_for, value, case_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if made_for != sort:
            raise ValueError(made_for)
        return (datetime.fromisoformat(value) if SORTS[sort][0] != "id" else int(value)), int(case_id)
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise InvalidRequest("the cursor is not one this search gave", code="invalid_cursor") from None


def executed_path(events) -> tuple[PathStep, ...]:
    """Return the executed path of audit events: every flow taken and element completed, in order, loops repeated."""
    path: list[PathStep] = []
    for event in events:
        if event.lifecycle == "joined" and event.flow_id:
            path.append(PathStep("flow", event.flow_id))
        if event.lifecycle not in ("completed", "timer_fired"):
            continue
        if event.flow_id:
            path.append(PathStep("flow", event.flow_id))
        path.append(PathStep("element", event.element_id))
    return tuple(path)


class ReadService:
    """What each screen shows, for the person asking; one read transaction per call."""

    def __init__(self, core: Core):
        self._core = core

    def inbox(self, actor: Actor, *, process_key: str | None = None, category: str | None = None,
              due_before: datetime | None = None, overdue: bool = False, include_claimable: bool = True,
              page_size: int = PAGE_SIZE, cursor: str | None = None) -> InboxPage:
        """Return a page of the READY tasks assigned to ``actor`` and (unless told not to) those their groups and
        they by name may claim, by due time, with the counts per group; ``cursor`` continues a previous page."""
        if not 1 <= page_size <= MAX_PAGE:
            raise InvalidRequest(f"page size must be 1 to {MAX_PAGE}", code="invalid_page_size", max=MAX_PAGE)
        now = self._core.clock()
        bounds = [d for d in (due_before, now if overdue else None) if d is not None]
        with self._core.db.transaction(write=False) as session:
            found = inbox.page(session, actor.username, actor.groups, limit=page_size + 1,
                               after=_after(cursor) if cursor else None, include_claimable=include_claimable,
                               process_key=process_key, category=category,
                               due_before=min(bounds) if bounds else None)
            assigned, claimable = inbox.counts(session, actor.username, sorted(actor.groups))
            processes = inbox.process_keys(session)
            more = len(found) > page_size
            found = found[:page_size]
            case_ids = sorted({row.case_id for row, _ in found})
            cases = {c.id: case_summary(c) for c in session.scalars(select(Case).where(Case.id.in_(case_ids)))} \
                if case_ids else {}
        return InboxPage(tuple(task_view(row, now) for row, _ in found),
                         _cursor(found[-1][1]) if more else None, assigned, claimable, tuple(processes), cases)

    def task_page(self, task_id: str, actor: Actor) -> TaskPage:
        """Return a task with its case's facts, to its candidates, assignee and completer (or who may see any)."""
        with self._core.db.transaction(write=False) as session:
            task = session.get(UserTask, task_id)
            if task is None:
                raise NotFound(f"task {task_id} does not exist", code="task_not_found", task_id=task_id)
            if not (actor.may_work_on(task) or task.completed_by == actor.username
                    or self._core.policy.allows(actor.groups, "any_task")):
                raise PermissionDenied(f"{actor.username} may not see task {task_id}", code="not_candidate",
                                       task_id=task_id)
            case = session.get(Case, task.case_id)
            tasks = session.scalars(select(UserTask).where(UserTask.case_id == case.id).order_by(UserTask.created_at))
            return TaskPage(task_view(task, self._core.clock()), case_view(case), self._fields(session, case, tasks)[0])

    def case_page(self, case_id: int, actor: Actor) -> CasePage:
        """Return a case with its tasks, timers, audit trail, executed path and deductions, to someone who started
        it, works or worked on one of its tasks, or oversees cases."""
        now = self._core.clock()
        with self._core.db.transaction(write=False) as session:
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
            tasks = list(session.scalars(select(UserTask).where(UserTask.case_id == case_id)
                                         .order_by(UserTask.created_at)))
            involved = (case.started_by == actor.username or self._core.policy.allows(actor.groups, "oversee_cases")
                        or any(actor.may_work_on(t) or t.completed_by == actor.username for t in tasks))
            if not involved:
                raise PermissionDenied(f"{actor.username} may not see case {case_id}", code="not_involved",
                                       case_id=case_id)
            timers = session.scalars(select(Timer).where(Timer.case_id == case_id).order_by(Timer.due_at))
            events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                          .order_by(AuditEvent.id)))
            ledger = session.scalars(select(DeductionEntry).where(DeductionEntry.case_id == case_id)
                                     .order_by(DeductionEntry.id))
            fields, elements = self._fields(session, case, tasks)
            return CasePage(case_view(case), tuple(task_view(t, now) for t in tasks),
                            tuple(timer_view(t) for t in timers), tuple(event_view(e) for e in events),
                            executed_path(events), tuple(deduction_view(e) for e in ledger), fields, elements)

    def _fields(self, session: Session, case: Case, tasks) -> tuple[tuple[dict[str, Any], ...], dict[str, dict]]:
        """Return the case's form fields in the order they are filled (start form, then each task's) and the
        names and types of the elements of its pinned versions (parsed once per version set)."""
        bundle = self._core.bundle(session, case.process_key, dict(case.pinned))
        fields = {f["id"]: f for f in bundle.start_form or []}
        for task in tasks:
            for f in task.form or []:
                fields.setdefault(f["id"], f)
        elements = {eid: {"name": e["name"], "type": e["type"]} for eid, e in bundle.elements.items()}
        return tuple(fields.values()), elements

    def directory(self) -> Directory:
        """Return the names people read for codes: people, units, groups, categories, processes, data labels."""
        with self._core.db.transaction(write=False) as session:
            raw = organisation.stored_raw(session)
            names = dict(session.execute(select(ProcessVersion.key, ProcessVersion.name)
                                         .order_by(ProcessVersion.key, ProcessVersion.version)).all())
        people = {p["username"]: {"name": p["name"], "unit": p["unit"], "groups": tuple(p["groups"])}
                  for p in raw["person"]}
        units = {u["key"]: {k: u[k] for k in ("name", "kind", "parent", "head", "group")} for u in raw["unit"]}
        groups = dict(self._core.group_names)
        for unit in raw["unit"]:
            if unit["group"] and unit["group"] not in groups:
                groups[unit["group"]] = (unit["name"], unit["name"])
        categories = {c.code: (c.name, c.name_en) for c in self._core.categories.values()}
        return Directory(people, units, groups, categories, names, dict(self._core.field_labels))

    def case_list(self, actor: Actor, limit: int = 50) -> list[CaseSummary]:
        """Return the newest cases the actor started or worked on or, for those who oversee cases, every one."""
        query = select(Case).order_by(Case.id.desc()).limit(limit)
        if not self._core.policy.allows(actor.groups, "oversee_cases"):
            query = query.where(or_(Case.started_by == actor.username,
                                    Case.id.in_(select(UserTask.case_id).where(or_(
                                        UserTask.assignee == actor.username,
                                        UserTask.completed_by == actor.username)))))
        with self._core.db.transaction(write=False) as session:
            return [case_summary(c) for c in session.scalars(query)]

    def search_cases(self, actor: Actor, *, number: int | None = None, customer: str | None = None,
                     contact: str | None = None, text: str | None = None, category: str | None = None,
                     status: str | None = None, department: str | None = None, since: datetime | None = None,
                     until: datetime | None = None, process_key: str | None = None, sort: str = "newest",
                     page_size: int = PAGE_SIZE, cursor: str | None = None) -> CaseSearchPage:
        """Return a page of the cases the actor may see that match every filter given, in ``sort`` order
        (newest, oldest, updated: last changed first), paged by keyset (``cursor`` = the last page's
        ``next_cursor``): the cost of a page does not grow with how far one pages.

        ``customer``, ``contact`` and ``text`` match parts of the complainant's name, the contact and the facts
        (four digits of ``contact``: the last four of the number), through the index of ``store.search``;
        ``category`` takes the code and everything under it; ``department`` is the responsible department;
        ``since``/``until`` bound the start of the case (until exclusive)."""
        if not 1 <= page_size <= MAX_PAGE:
            raise InvalidRequest(f"page size must be 1 to {MAX_PAGE}", code="invalid_page_size", max=MAX_PAGE)
        if sort not in SORTS:
            raise InvalidRequest(f"sort must be one of {', '.join(SORTS)}", code="invalid_sort", sorts=list(SORTS))
        column, descending = SORTS[sort]
        key = getattr(Case, column)
        query = select(Case)
        if not self._core.policy.allows(actor.groups, "oversee_cases"):
            query = query.where(or_(Case.started_by == actor.username,
                                    Case.id.in_(select(UserTask.case_id).where(or_(
                                        UserTask.assignee == actor.username,
                                        UserTask.completed_by == actor.username)))))
        if number is not None:
            query = query.where(Case.id == number)
        sqlite = self._core.db.is_sqlite
        for field, wanted in (("customer", customer), ("facts", text)):
            if wanted and wanted.strip():
                query = query.where(search.text_condition(field, wanted.strip(), sqlite))
        if contact and contact.strip():
            query = query.where(search.contact_condition(contact.strip(), sqlite))
        if category:
            query = query.where(or_(Case.category == category, Case.category.startswith(category + ".")))
        if status:
            query = query.where(Case.status == status)
        if department:
            query = query.where(Case.data["responsible_department"].as_string() == department)
        if process_key:
            query = query.where(Case.process_key == process_key)
        if since:
            query = query.where(Case.started_at >= since)
        if until:
            query = query.where(Case.started_at < until)
        if cursor:
            value, last_id = _search_after(cursor, sort)
            after = tuple_(key, Case.id) < tuple_(literal(value, key.type), literal(last_id)) if descending else \
                tuple_(key, Case.id) > tuple_(literal(value, key.type), literal(last_id))
            query = query.where(after)
        order = (key.desc(), Case.id.desc()) if descending else (key.asc(), Case.id.asc())
        with self._core.db.transaction(write=False) as session:
            if customer or contact or text:
                search.custom_plans(session)
            found = list(session.scalars(query.order_by(*order).limit(page_size + 1)))
        more = len(found) > page_size
        found = found[:page_size]
        next_cursor = _search_cursor(getattr(found[-1], column), found[-1].id, sort) if more else None
        return CaseSearchPage(tuple(case_summary(c) for c in found), next_cursor, sort)

    def intake_page(self, key: str) -> IntakePage:
        """Return the start form of the newest version of ``key`` and the active profile's category tree.

        A field that ``fields.toml`` gives to other profiles only is left out (the intake of this profile does
        not ask it; its default applies)."""
        tree = self._core.categories
        labels, profile = self._core.field_labels, self._core.settings.profile
        with self._core.db.transaction(write=False) as session:
            fields = [f for f in _start_form(session, key)
                      if not (f["id"] in labels and labels[f["id"]].profiles
                              and profile not in labels[f["id"]].profiles)]
        return IntakePage(key, tuple(fields), tuple({"code": c.code, "name": c.name, "name_en": c.name_en,
                                                     "depth": c.code.count(".")}
                                                    for c in tree.values()))

    def health(self) -> dict[str, Any]:
        """Return what /health reports: deployed processes and the holiday calendar's coverage (one read)."""
        with self._core.db.transaction(write=False) as session:
            keys = list(session.execute(select(ProcessVersion.key)).scalars())
            calendar = self._core.calendar(session)
        coverage = holiday_coverage(calendar, self._core.clock().astimezone(calendar.tz).date())
        return {"processes": sorted(set(keys)), "versions": len(keys), "holidays": coverage}


def _start_form(session: Session, key: str) -> list[dict[str, Any]]:
    row = session.scalars(select(ProcessVersion).where(ProcessVersion.key == key)
                          .order_by(ProcessVersion.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"process {key!r} is not deployed", code="process_not_deployed", process_key=key)
    return start_form(key, row.xml) or []
