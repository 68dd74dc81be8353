"""What every service holds: the database, clock, topics, calendar, settings and policy, the caches of parsed
versions and loaded workflows, and ``persist``, which writes one step of a case (without committing)."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..bpmn.budget import DEFAULT_LIMITS
from ..bpmn import BudgetExceeded, Bundle, Host, Instance, Limits, Step, load_limits, make_bundle
from ..rules import calendar as cal
from ..rules.intake import load_categories
from ..rules.labels import load_fields, load_groups
from ..settings import RuleFile, Settings
from ..store import rows
from ..store.db import Database, after_commit
from ..store.models import CalendarOverride
from ..store.rows import CaseHead, TaskHead, VersionHead
from . import adherence
from .clocks import Clock, system_clock
from .errors import ConcurrentUpdate, NotFound, StepOverBudget
from .policy import Policy, load_policy
from .topics import TopicContext, TopicRegistry
from .views import CaseRef, TaskRef

__all__ = ["Actor", "CLOSED", "CaseHead", "Core", "SCHEDULER", "SYSTEM", "TaskHead", "VersionHead", "audit_row"]


@dataclass(frozen=True)
class Actor:
    """Who acts: a username and the groups the organisation model gives them."""

    username: str
    groups: frozenset[str] = field(default_factory=frozenset)

    def may_work_on(self, task) -> bool:
        """Tell whether the task is assigned to the actor or offered to them or one of their groups."""
        return (
            task.assignee == self.username
            or self.username in task.candidate_users
            or bool(self.groups.intersection(task.candidate_groups))
        )


SYSTEM = Actor("system", frozenset({"admin"}))
CLOSED = ("completed", "cancelled")         # the statuses of a case that ended: nothing runs on it any more
SCHEDULER = Actor("scheduler", frozenset())
CALENDAR_TTL_SECONDS = 60.0
T = TypeVar("T")


def audit_row(case: CaseHead, lifecycle: str, actor: Actor, now: datetime, *, data: Any = None,
              task_id: str | None = None, element_id: str | None = None, element_name: str | None = None,
              element_type: str | None = None, flow_id: str | None = None) -> dict[str, Any]:
    """Return one ``audit_event`` row of ``case``: an element's lifecycle step or, without an element, a case action."""
    return {"case_id": case.id, "version_id": case.version_id, "task_id": task_id, "element_id": element_id,
            "element_name": element_name, "element_type": element_type, "flow_id": flow_id,
            "lifecycle": lifecycle, "actor": actor.username, "at": now, "data": data}


def case_ref(case_id: int, step: Step) -> CaseRef:
    """Return what a command tells its caller: the case and the user tasks it now waits on."""
    return CaseRef(case_id, step.status, tuple(
        TaskRef(v.task_id, v.element_id, v.name, tuple(v.candidate_groups), v.assignee, v.due_at)
        for v in step.ready))


class _InstanceCache:
    """Workflows kept in memory after a successful commit, valid only for the revision they were saved at."""

    def __init__(self, size: int = 256):
        self._items: OrderedDict[int, tuple[int, Instance]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def take(self, case_id: int, revision: int) -> Instance | None:
        with self._lock:
            entry = self._items.pop(case_id, None)
        return entry[1] if entry and entry[0] == revision else None

    def keep(self, case_id: int, revision: int, instance: Instance) -> None:
        if self._size == 0:
            return
        with self._lock:
            self._items[case_id] = (revision, instance)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def calendar_functions(calendar: cal.BusinessCalendar, now: datetime) -> dict[str, Any]:
    """Return the deadline functions BPMN timer expressions call, bound to ``now``."""

    def start(at: Any) -> datetime:
        return now if at is None else (at if isinstance(at, datetime) else datetime.fromisoformat(str(at)))

    return {
        "due_in_working_days": lambda n, at=None: cal.due_in_working_days(calendar, start(at), n).isoformat(),
        "working_hours": lambda h, at=None: cal.working_hours(calendar, start(at), h).isoformat(),
        "clock_hours": lambda h, at=None: cal.clock_hours(calendar, start(at), h).isoformat(),
        "next_day_at": lambda hhmm, at=None: cal.next_day_at(calendar, start(at), hhmm).isoformat(),
        # N-4 (001 第七条 自接到投诉之日起): the receipt instant the intake's deadlines count from.
        "receipt_instant": lambda received: cal.receipt_instant(calendar, now, received).isoformat(),
    }


class Core:
    """The engine's shared state; services receive it and open their transactions with ``core.db``."""

    def __init__(self, db: Database, clock: Clock = system_clock, topics: TopicRegistry | None = None,
                 calendar: cal.BusinessCalendar | None = None, cache_instances: bool = True,
                 settings: Settings | None = None):
        self.db = db
        self.clock = clock
        self.topics = topics or TopicRegistry()
        self.settings = settings or Settings()
        self.base_calendar = calendar or cal.BusinessCalendar()
        self._policy = RuleFile(self.settings.path("policy.toml"), load_policy)
        self._budget = RuleFile(self.settings.path("budget.toml"), load_limits)
        # What people read for codes (group names, data labels and kinds, the category tree): re-read on change.
        self._groups = RuleFile(self.settings.path("groups.toml"), load_groups)
        self._fields = RuleFile(self.settings.path("fields.toml"), load_fields)
        self._categories = RuleFile(self.settings.path("categories.toml"), load_categories)
        self._calendar: tuple[float, cal.BusinessCalendar] | None = None
        # Keeps the workflow of a case after its commit; a revision mismatch (another worker wrote) reloads.
        self.instances = _InstanceCache(256 if cache_instances else 0)
        self._bundles: dict[tuple, Bundle] = {}
        self._xml: dict[int, tuple[str, bytes]] = {}

    def with_clock(self, clock: Clock) -> Core:
        """Return a core on the same database and caches whose clock is ``clock``."""
        other = copy.copy(self)
        other.clock = clock
        return other

    @property
    def policy(self) -> Policy:
        """Return the policy in force (``policy.toml``, read again when it changes)."""
        return self._policy.get()

    @property
    def limits(self) -> Limits:
        """Return the budget of one command (``budget.toml``, read again when it changes)."""
        return self._budget.get() if self._budget.path.exists() else DEFAULT_LIMITS

    @property
    def group_names(self):
        return self._groups.get()

    @property
    def field_labels(self):
        return self._fields.get()

    @property
    def categories(self):
        return self._categories.get()

    # --- versions and bundles ---

    def pin(self, session: Session, key: str) -> dict[str, int]:
        """Pin ``key`` and every process it calls, transitively, to their latest versions."""
        latest = rows.latest_versions(session)
        if key not in latest:
            raise NotFound(f"process {key!r} is not deployed", code="process_not_deployed", process_key=key)
        pinned: dict[str, int] = {}
        todo = [key]
        while todo:
            current = todo.pop()
            if current in pinned:
                continue
            if current not in latest:
                raise NotFound(f"process {current!r}, called by {key!r}, is not deployed",
                               code="process_not_deployed", process_key=current)
            pinned[current] = latest[current].id
            todo.extend(latest[current].calls)
        return pinned

    def bundle(self, session: Session, top_key: str, pinned: dict[str, int]) -> Bundle:
        """Return the parsed specs of a pinned version set, parsed once per process."""
        cache_key = (top_key, tuple(sorted(pinned.items())))
        bundle = self._bundles.get(cache_key)
        if bundle is None:
            missing = [vid for vid in pinned.values() if vid not in self._xml]
            if missing:
                self._xml.update(rows.version_xml(session, missing))
            bundle = make_bundle(top_key, {self._xml[vid][0]: self._xml[vid][1] for vid in pinned.values()})
            self._bundles[cache_key] = bundle
        return bundle

    def instance(self, session: Session, case: CaseHead) -> Instance:
        """Return the case's workflow at its revision: from the cache, else restored from its stored state."""
        cached = self.instances.take(case.id, case.revision)
        if cached is not None:
            return cached
        stored = rows.load_state(session, case.id)
        if stored is None or stored[1] != case.revision:
            raise ConcurrentUpdate(f"case {case.id} changed while this command ran; nothing was written")
        return Instance.load(self.bundle(session, case.process_key, case.pinned), stored[0])

    # --- running a command ---

    def host(self, session: Session, case_id: int, actor: Actor, now: datetime) -> Host:
        """Return what a step may call: the deadline functions and the service-task topics."""
        def call_topic(topic: str, params: dict[str, Any], data: dict[str, Any], element_id: str):
            handler = self.topics.get(topic)
            ctx = TopicContext(session, case_id, element_id, now, actor.username, dict(data))
            # A savepoint from the handler's first use of ctx.session: a failing handler leaves nothing behind.
            result = ctx.run(handler, params)
            declared = self.topics.sets(topic)
            if declared is not None and result and not set(result) <= declared:
                raise LookupError(f"service topic {topic!r} returned {sorted(set(result) - declared)}, which it "
                                  f"does not declare it sets ({sorted(declared)})")
            return result

        return Host(calendar_functions(self.calendar(session), now), call_topic, self.limits)

    def step(self, case: CaseHead | None, run: Callable[[], T]) -> T:
        """Run one engine command of ``case``; over budget, raise ``StepOverBudget`` (see ``command``)."""
        try:
            return run()
        except BudgetExceeded as exc:      # the half-run workflow is dropped: only a commit caches one
            raise StepOverBudget(case.id if case else None, case.revision if case else None, exc.kind,
                                 exc.reason) from None

    @contextlib.contextmanager
    def command(self, actor: Actor) -> Iterator[Session]:
        """Yield the session of one command's transaction.

        A step over budget rolls the whole transaction back (nothing it wrote
        stays); then, in a transaction of its own, the case goes to incident with
        the reason, and ``StepOverBudget`` goes on to the caller.
        """
        try:
            with self.db.transaction() as session:
                yield session
        except StepOverBudget as exc:
            if exc.case_id is not None:
                self.record_over_budget(exc, actor)
            raise

    def record_over_budget(self, exc: StepOverBudget, actor: Actor) -> None:
        """Put the case of ``exc`` in incident at the revision the failed command read (its state unchanged)."""
        now = self.clock()
        with self.db.transaction() as session:
            case = rows.case_head(session, exc.case_id)
            if case is None or case.revision != exc.revision:
                return          # another command wrote the case meanwhile: it is not stuck at that revision
            rows.update_case(session, case.id, case.revision, {
                "status": "incident", "incident": exc.incident, "revision": case.revision + 1, "updated_at": now})
            rows.insert_events(session, [audit_row(case, "incident", actor, now, data={
                "error": exc.incident, "budget": exc.kind})])

    def calendar(self, session: Session) -> cal.BusinessCalendar:
        """Return the business calendar with the administrators' overrides (re-read at most once a minute)."""
        if self._calendar is None or time.monotonic() - self._calendar[0] > CALENDAR_TTL_SECONDS:
            found = session.execute(select(CalendarOverride.day, CalendarOverride.workday))
            calendar = dataclasses.replace(self.base_calendar, overrides={r.day: r.workday for r in found})
            self._calendar = (time.monotonic(), calendar)
        return self._calendar[1]

    def forget_calendar(self) -> None:
        """Drop the cached calendar so that the next command reads the overrides again."""
        self._calendar = None

    def persist(self, session: Session, case: CaseHead, instance: Instance, step: Step, actor: Actor,
                now: datetime, extra_events: list[dict[str, Any]] = ()) -> CaseRef:
        """Write one step: the case (only at the revision the command read), task, timer and audit rows.

        Nothing here commits: the transaction belongs to the service, which may
        run more commands in it. The workflow is cached once the commit succeeds.
        """
        values = {"state": instance.dump(), "revision": case.revision + 1, "status": step.status,
                  "data": step.data, "incident": step.error if step.status == "incident" else None,
                  "updated_at": now, "ended_at": now if step.status in CLOSED else None,
                  "category": step.data.get("category")}
        if not rows.update_case(session, case.id, case.revision, values):
            raise ConcurrentUpdate(f"case {case.id} changed while this command ran; nothing was written")
        rows.end_tasks(session, [{"task_id": tid, "new_state": state, "ended_at": now,
                                  "by": actor.username if state == "completed" else None}
                                 for tid, state in step.gone_ready().items()])
        rows.insert_tasks(session, [{
            "id": v.task_id, "case_id": case.id, "element_id": v.element_id, "name": v.name, "lane": v.lane,
            "candidate_groups": v.candidate_groups, "candidate_users": v.candidate_users, "assignee": v.assignee,
            "state": "ready", "form": v.form, "documentation": v.documentation, "created_at": now,
            "due_at": v.due_at, "claimed_at": now if v.assignee else None, "ended_at": None, "completed_by": None,
        } for v in step.new_ready()])
        rows.write_timers(session, step.gone_timers(),
                          [{"timer_id": t.task_id, "new_due": t.due_at} for t in step.moved_timers()],
                          [{"id": t.task_id, "case_id": case.id, "element_id": t.element_id, "due_at": t.due_at,
                            "created_at": now} for t in step.new_timers()])
        if step.moved_timers():
            # Open tasks take the new due time of the boundary timers a pause, resume or extension moved.
            rows.move_task_dues(session, [{"task_id": v.task_id, "new_due": v.due_at} for v in step.ready
                                          if v.task_id in step.ready_before and v.due_from_timer])
        rows.insert_events(session, [
            audit_row(case, e.lifecycle, actor, now, data=e.data, task_id=e.task_id, element_id=e.element_id,
                      element_name=e.name, element_type=e.element_type, flow_id=e.flow_id)
            for e in step.events] + list(extra_events))
        adherence.record_deadlines(session, case.id, instance.bundle, step, now)
        case.revision, case.status = values["revision"], values["status"]
        revision = case.revision
        after_commit(session, lambda: self.instances.keep(case.id, revision, instance))
        return case_ref(case.id, step)
