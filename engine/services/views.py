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
    "AccountView", "AdherenceReport", "AdherenceRow", "AuditEntry", "CalendarOverrideView", "CaseConformance",
    "CasePage", "CaseRef", "CaseSearchPage", "CaseSummary", "CaseView", "ConformanceSummary", "DeductionView",
    "DeviatingCase", "DeviationCount", "DeviationView", "Directory", "DueTimer", "FitnessRow", "ImportedTrace",
    "InboxPage", "IntakePage", "LogCheck", "MailView", "MissedDeadline", "OverrideView", "PathStep", "ReplayedCaseRef",
    "Report", "ReportTable", "TaskPage", "TaskRef", "TaskView", "VersionHeatmap", "VersionView",
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

    @property
    def replayed(self) -> bool:
        return False


@dataclass(frozen=True)
class ReplayedCaseRef(CaseRef):
    """The case an intake's form token had already started (issue 18): nothing new was started."""

    replayed: bool = True               # type: ignore[assignment]


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
    contact: str | None = None
    department: str | None = None       # the responsible department (I-4)


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
    # The form fields of the case in the order people filled them (the start form, then each task's form) and
    # the name and type of every element of its pinned versions: what the UI labels facts and steps with.
    fields: tuple[dict[str, Any], ...] = ()
    elements: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def open_tasks(self) -> tuple[TaskView, ...]:
        return tuple(t for t in self.tasks if t.state == "ready")


@dataclass(frozen=True)
class TaskPage:
    """The task screen: the task with its form, beside the facts of its case."""

    task: TaskView
    case: CaseView
    fields: tuple[dict[str, Any], ...] = ()          # as CasePage.fields


@dataclass(frozen=True)
class InboxPage:
    """One page of an inbox by due time; ``next_cursor`` opens the next page (None on the last)."""

    tasks: tuple[TaskView, ...]
    next_cursor: str | None
    assigned: int                       # READY tasks assigned to the person, all pages
    claimable: dict[str, int]           # unclaimed READY tasks each of the person's groups may claim
    processes: tuple[str, ...] = field(default=())   # deployed process keys, for the process filter
    cases: dict[int, CaseSummary] = field(default_factory=dict)   # the cases of the page's tasks (their context)


@dataclass(frozen=True)
class CaseSearchPage:
    """One page of a case search in its sort order; ``next_cursor`` opens the next page (None on the last)."""

    cases: tuple[CaseSummary, ...]
    next_cursor: str | None
    sort: str


@dataclass(frozen=True)
class Directory:
    """Names for codes, for labels and pickers: people, units, groups, categories (zh, en), process names and
    the kinds and labels of case data (``data/fields.toml``)."""

    people: dict[str, dict[str, Any]]            # username -> {"name", "unit", "groups"}
    units: dict[str, dict[str, Any]]             # key -> {"name", "kind", "parent", "head", "group"}
    groups: dict[str, tuple[str, str]]           # key -> (Chinese, English)
    categories: dict[str, tuple[str, str]]       # code -> (Chinese, English), in tree order
    processes: dict[str, str]                    # key -> name of its newest version
    fields: dict[str, Any]                       # data key -> engine.rules.labels.FieldLabel


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


# --- compliance (SPEC §10, A-1..A-3) ---

@dataclass(frozen=True)
class DeviationView:
    """A difference between what a case did and its documented process (A-2)."""

    kind: str                           # skipped | unexpected | out_of_order | repeated
    element_id: str
    element_name: str
    at: datetime | None                 # when the trail showed it (for skipped: the step that came instead)
    actor: str | None
    element_type: str = ""              # the BPMN tag (exclusiveGateway...): what an unnamed element is called


@dataclass(frozen=True)
class OverrideView:
    """An administrator's or handler's action on a case outside the model: retry, pause, resume, extension..."""

    action: str                         # retry | paused | resumed | extended | reverse_deduction | ...
    at: datetime
    actor: str | None
    reason: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True)
class CaseConformance:
    """One case judged against the exact process versions it ran on: fits, or its deviations."""

    case_id: int
    process_key: str
    version: int                        # the version number of the case's process
    versions: dict[str, int]            # every pinned process key -> version number (call activities too)
    status: str
    fits: bool
    deviations: tuple[DeviationView, ...]
    overrides: tuple[OverrideView, ...]
    path: tuple[str, ...]               # the elements completed, in order (what the diagram highlights)


@dataclass(frozen=True)
class FitnessRow:
    """Cases and fitting cases of one process version in one month (Beijing time of the start)."""

    process_key: str
    version: int
    month: str
    cases: int
    fitting: int


@dataclass(frozen=True)
class DeviationCount:
    """How many cases of the selection show one kind of deviation on one element."""

    process_key: str
    kind: str
    element_id: str
    element_name: str
    cases: int
    element_type: str = ""              # the BPMN tag (exclusiveGateway...): what an unnamed element is called


@dataclass(frozen=True)
class DeviatingCase:
    """A case of the deviation list: where it ran and what deviated (times on its conformance page)."""

    case_id: int
    process_key: str
    version: int
    status: str
    category: str | None
    department: str | None
    started_at: datetime
    deviations: tuple[tuple[str, str], ...]     # (kind, element id)
    overrides: int


@dataclass(frozen=True)
class ConformanceSummary:
    """Conformance of a selection of cases: share fitting per version and month, commonest deviations, the list."""

    cases: int
    fitting: int
    overridden: int
    rows: tuple[FitnessRow, ...]
    deviations: tuple[DeviationCount, ...]
    deviating: tuple[DeviatingCase, ...]
    variants: int                       # distinct trails replayed

    @property
    def fitness(self) -> float | None:
        return None if self.cases == 0 else self.fitting / self.cases


@dataclass(frozen=True)
class AdherenceRow:
    """Deadlines of one rule, process version, department and month of their due time: met, missed, open."""

    rule_id: str
    process_key: str
    version: int
    department: str | None
    month: str
    kind: str                           # working | clock: the time lateness is counted in
    deadlines: int
    met: int
    missed: int
    open: int
    late_minutes: int                   # summed over the missed reminders whose activity was done later
    late_minutes_max: int
    late_counted: int                   # how many missed deadlines have a lateness

    @property
    def rate(self) -> float | None:
        """Return the share met of the deadlines decided (met or missed), None when none is."""
        decided = self.met + self.missed
        return None if decided == 0 else self.met / decided


@dataclass(frozen=True)
class MissedDeadline:
    """A deadline a case missed: when it was due, when its activity was done, by how much."""

    case_id: int
    rule_id: str | None
    element_id: str
    process_key: str
    version: int
    department: str | None
    due_at: datetime
    done_at: datetime | None
    late_minutes: int | None            # None: an interrupting deadline (the case escalated) or not done yet
    kind: str


@dataclass(frozen=True)
class AdherenceReport:
    """Deadline adherence (及时率) of a selection: rows per rule, version, department and month; the missed ones."""

    rows: tuple[AdherenceRow, ...]
    missed: tuple[MissedDeadline, ...]


@dataclass(frozen=True)
class ImportedTrace:
    """One case of an imported log, judged against the chosen process version."""

    case: str
    events: int
    fits: bool
    deviations: tuple[DeviationView, ...]


@dataclass(frozen=True)
class LogCheck:
    """An imported event log (CSV or XES) checked against one process version; nothing of it is stored."""

    process_key: str
    version: int
    traces: int
    fitting: int
    cases: tuple[ImportedTrace, ...]


@dataclass(frozen=True)
class VersionHeatmap:
    """A process version's diagram data: how often each element and flow ran, where cases deviated."""

    version_id: int
    process_key: str
    version: int
    name: str
    cases: int
    fitting: int
    elements: dict[str, int]            # element id -> times completed (loops counted)
    flows: dict[str, int]               # sequence flow id -> times taken
    deviations: dict[str, int]          # element id -> cases deviating there
    deviation_counts: tuple[DeviationCount, ...]
    deviating: tuple[DeviatingCase, ...]
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


@dataclass(frozen=True)
class MailView:
    """A message of the mail outbox as administrators see it (dead letters with their last error)."""

    id: int
    source: str
    notification_id: int | None
    recipients: tuple[str, ...]
    subject: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attachment_name: str | None
