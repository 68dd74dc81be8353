"""Frozen plain views the services hand to the web, the CLI and the scheduler: never ORM rows.

Each screen has its page view (``CasePage``, ``TaskPage``, ``InboxPage``, ...),
read in one transaction; commands answer with a ``CaseRef``. ``serialize.plain``
turns any of them into JSON-ready data, the same for the API and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "AccountView", "AuditEntry", "CalendarOverrideView", "CasePage", "CaseRef", "CaseSummary", "CaseView",
    "DeductionView", "DueTimer", "InboxPage", "IntakePage", "PathStep", "Report", "ReportTable", "TaskPage",
    "TaskRef", "TaskView", "VersionView",
]


@dataclass(frozen=True)
class TaskRef:
    """A user task a command left READY: enough for a client to open it next."""

    id: str
    element_id: str
    name: str
    candidate_groups: tuple[str, ...]
    assignee: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class CaseRef:
    """What a command did to a case: its id, status and the user tasks it now waits on."""

    id: int
    status: str
    open_tasks: tuple[TaskRef, ...]


@dataclass(frozen=True)
class TaskView:
    """A user task as lists and forms show it; ``overdue`` is judged at the instant it was read."""

    id: str
    case_id: int
    element_id: str
    name: str
    lane: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    state: str                          # ready | completed | cancelled
    form: tuple[dict[str, Any], ...]
    documentation: str
    created_at: datetime
    due_at: datetime | None
    claimed_at: datetime | None
    ended_at: datetime | None
    completed_by: str | None
    overdue: bool


@dataclass(frozen=True)
class CaseView:
    """A case's head and facts (its serialized workflow stays in the store)."""

    id: int
    process_key: str
    version_id: int
    pinned: dict[str, int]
    status: str                         # running | completed | incident
    revision: int                       # how many commands have written the case
    category: str | None
    data: dict[str, Any]
    incident: str | None
    started_by: str
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class CaseSummary:
    """A line of a case list."""

    id: int
    process_key: str
    version_id: int
    status: str
    category: str | None
    started_by: str
    started_at: datetime
    ended_at: datetime | None
    incident: str | None
    complainant: str | None
    demo: str | None = None             # the mark of a demo case (``complaints demo cases``)


@dataclass(frozen=True)
class DueTimer:
    """A waiting timer of a case and when it is due."""

    id: str
    case_id: int
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One audit event: an element's lifecycle step, or an action on the case."""

    id: int
    case_id: int
    version_id: int
    at: datetime
    lifecycle: str
    element_id: str | None
    element_name: str | None
    element_type: str | None
    flow_id: str | None
    actor: str | None
    task_id: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class PathStep:
    """One step of the executed path: a flow taken or an element completed."""

    kind: str                           # flow | element
    id: str


@dataclass(frozen=True)
class DeductionView:
    """A ledger entry (S-7): a booking or its reversal."""

    id: int
    kind: str                           # booking | reversal
    case_id: int
    rule_id: str
    subject: str
    subject_kind: str                   # person | unit | kpi
    subject_name: str
    role: str
    department: str
    amount: Decimal
    unit: str                           # points | yuan
    month: str
    element_id: str
    booked_by: str
    booked_at: datetime
    reverses: int | None
    reason: str | None


@dataclass(frozen=True)
class CasePage:
    """The case screen: facts, every task, waiting timers, audit trail, executed path and deductions."""

    case: CaseView
    tasks: tuple[TaskView, ...]
    timers: tuple[DueTimer, ...]
    events: tuple[AuditEntry, ...]
    path: tuple[PathStep, ...]
    deductions: tuple[DeductionView, ...]

    @property
    def open_tasks(self) -> tuple[TaskView, ...]:
        return tuple(t for t in self.tasks if t.state == "ready")


@dataclass(frozen=True)
class TaskPage:
    """The task screen: the task with its form, beside the facts of its case."""

    task: TaskView
    case: CaseView


@dataclass(frozen=True)
class InboxPage:
    """One page of an inbox by due time; ``next_cursor`` opens the next page (None on the last)."""

    tasks: tuple[TaskView, ...]
    next_cursor: str | None
    assigned: int                       # READY tasks assigned to the person, all pages
    claimable: dict[str, int]           # unclaimed READY tasks each of the person's groups may claim
    processes: tuple[str, ...] = field(default=())   # deployed process keys, for the process filter


@dataclass(frozen=True)
class IntakePage:
    """The intake screen: the start form of a process and the category tree of the active profile."""

    process_key: str
    fields: tuple[dict[str, Any], ...]
    categories: tuple[dict[str, Any], ...]      # {"code", "name", "depth"} in tree order


@dataclass(frozen=True)
class VersionView:
    """A deployed process version and how many of its cases are open."""

    id: int
    key: str
    version: int
    name: str
    file_name: str
    sha256: str
    deployed_by: str
    deployed_at: datetime
    running: int


@dataclass(frozen=True)
class AccountView:
    """A person who signs in, with the groups the organisation gives them."""

    username: str
    display_name: str
    groups: frozenset[str]
    locale: str


@dataclass(frozen=True)
class CalendarOverrideView:
    """An administrator's calendar entry for one date."""

    date: date
    workday: bool
    note: str
    changed_by: str
    changed_at: datetime


@dataclass(frozen=True)
class ReportTable:
    """One table of a report: column keys, rows, and per row the drill-down filter of its cases (or None)."""

    key: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    drill: tuple[dict[str, Any] | None, ...]


@dataclass(frozen=True)
class Report:
    """A report of one period (P-1 week, P-2 and P-4 month, P-3 quarter), for all or one department."""

    key: str
    period: str
    start: datetime
    end: datetime
    department: str | None
    generated_at: datetime
    tables: tuple[ReportTable, ...]
    due: tuple[date, ...] = ()          # the days it is due (schedules of data/reports.toml)

    def table(self, key: str) -> ReportTable:
        """Return the table ``key``."""
        return next(t for t in self.tables if t.key == key)
