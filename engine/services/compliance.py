"""Compliance (SPEC §10): what every case executed against the documented process it ran on.

Each case's audit trail is replayed on SpiffWorkflow against the exact versions
the case pinned at its start (its call activities' versions too), see
``engine.bpmn.replay``. Cases with the same versions and the same trail are
one *variant*, replayed once: a selection of 100,000 cases of a handful of
variants costs a handful of replays plus one read. Administrator actions
(retry, pause, resume, extension, reversal, ...) are overrides, listed beside
the deviations and never counted as one.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable

from sqlalchemy import aggregate_order_by, and_, func, select
from sqlalchemy.orm import Session

from ..bpmn.replay import REPLAYED, Deviation, TrailStep, replay
from ..store.models import AuditEvent, Case, ProcessVersion
from . import eventlogs
from .adherence import adherence
from .core import Actor, Core
from .errors import InvalidRequest, NotFound
from .views import (
    AdherenceReport, CaseConformance, LogCheck, VersionHeatmap, ConformanceSummary, DeviatingCase, DeviationCount, DeviationView, FitnessRow, OverrideView,
)

__all__ = ["ComplianceService", "ELEMENT_LIFECYCLES", "Selection", "is_override"]

# The lifecycles of an element's own steps; every other audit entry is an action on the case (an override).
ELEMENT_LIFECYCLES = frozenset({"ready", "completed", "cancelled", "timer_fired", "incident", "joined", "claimed",
                                "unclaimed"})
DEVIATING_LIST = 200            # cases listed in a summary's deviation list


def is_override(lifecycle: str) -> bool:
    """Tell whether an audit entry is an action on the case outside the model (admin_action, paused, ...)."""
    return lifecycle not in ELEMENT_LIFECYCLES


@dataclass(frozen=True)
class Selection:
    """Which cases a compliance question is about; every field narrows it (None: any)."""

    process_key: str | None = None
    version: int | None = None
    category: str | None = None         # a category code and everything under it
    department: str | None = None       # the responsible department the routing gave the case
    status: str | None = None           # running | completed | incident | cancelled
    start: date | None = None           # cases started on or after this day (Beijing time)
    end: date | None = None             # ... and before the end of this day

    @classmethod
    def parse(cls, args) -> Selection:
        """Return the selection of query parameters or CLI options (process, version, category, department,
        status, from, to: text); InvalidRequest naming a bad one."""
        version = args.get("version") or None
        if version is not None:
            try:
                version = int(version)
            except ValueError:
                raise InvalidRequest("version must be a whole number", code="invalid_version") from None
        status = args.get("status") or None
        if status not in (None, "running", "completed", "incident", "cancelled"):
            raise InvalidRequest("status must be running, completed, incident or cancelled", code="invalid_status")
        return cls(args.get("process") or None, version, args.get("category") or None,
                   args.get("department") or None, status, parse_day(args.get("from"), "from"),
                   parse_day(args.get("to"), "to"))

    def where(self, tz) -> list:
        """Return the SQL conditions on ``case_instance`` (and ``process_version``) of the selection."""
        conditions = []
        if self.process_key:
            conditions.append(Case.process_key == self.process_key)
        if self.version is not None:
            conditions.append(ProcessVersion.version == self.version)
        if self.category:
            conditions.append((Case.category == self.category) | Case.category.startswith(self.category + "."))
        if self.department:
            conditions.append(Case.data["responsible_department"].as_string() == self.department)
        if self.status:
            conditions.append(Case.status == self.status)
        if self.start:
            conditions.append(Case.started_at >= datetime.combine(self.start, time(), tz))
        if self.end:
            conditions.append(Case.started_at < datetime.combine(self.end + timedelta(days=1), time(), tz))
        return conditions


class _Variants:
    """Replay results per (versions, trail, ended), shared by every call of one engine (bounded, thread-safe)."""

    def __init__(self, size: int = 4096):
        self._items: OrderedDict[tuple, tuple[Deviation, ...]] = OrderedDict()
        self._size, self._lock = size, threading.Lock()

    def get(self, key: tuple, compute) -> tuple[Deviation, ...]:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = compute()
        with self._lock:
            self._items[key] = found
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return found


def _trail_key(trail: Iterable[tuple[str, str]]) -> tuple[TrailStep, ...]:
    return tuple(TrailStep(element, lifecycle) for element, lifecycle in trail)


def _version_numbers(session: Session) -> dict[int, tuple[str, int]]:
    return {row.id: (row.key, row.version)
            for row in session.execute(select(ProcessVersion.id, ProcessVersion.key, ProcessVersion.version))}


def _case_trails(session: Session, conditions: list, is_postgres: bool
                 ) -> tuple[dict[int, str], dict[str, tuple[TrailStep, ...]]]:
    """Return, per selected case, the key of its trail's variant, and each variant's trail (compared entries)."""
    compared = and_(AuditEvent.lifecycle.in_(REPLAYED), AuditEvent.element_id.is_not(None))
    cases = select(Case.id).join(ProcessVersion, ProcessVersion.id == Case.version_id).where(*conditions)
    if is_postgres:
        # The database builds each case's trail and hands back its digest: 100,000 cases are 100,000 short rows,
        # and only one trail per variant travels.
        joined = aggregate_order_by(func.aggregate_strings(AuditEvent.element_id + "|" + AuditEvent.lifecycle, ","),
                                    AuditEvent.id)
        per_case = dict(session.execute(select(AuditEvent.case_id, func.md5(joined))
                                        .where(compared, AuditEvent.case_id.in_(cases)).group_by(AuditEvent.case_id)).all())
        sample: dict[str, int] = {}
        for case_id, digest in per_case.items():
            sample.setdefault(digest, case_id)
        variants = {}
        if sample:
            found = session.execute(select(AuditEvent.case_id, joined).where(
                compared, AuditEvent.case_id.in_(list(sample.values()))).group_by(AuditEvent.case_id))
            by_case = {case_id: text for case_id, text in found}
            variants = {digest: _trail_key(tuple(entry.split("|", 1)) for entry in by_case[case_id].split(","))
                        for digest, case_id in sample.items()}
        return per_case, variants
    rows: dict[int, list[tuple[str, str]]] = defaultdict(list)
    query = (select(AuditEvent.case_id, AuditEvent.element_id, AuditEvent.lifecycle)
             .where(compared, AuditEvent.case_id.in_(cases)).order_by(AuditEvent.case_id, AuditEvent.id))
    for case_id, element_id, lifecycle in session.execute(query):
        rows[case_id].append((element_id, lifecycle))
    per_case, variants = {}, {}
    for case_id, trail in rows.items():
        key = ",".join(f"{e}|{lc}" for e, lc in trail)
        per_case[case_id] = key
        if key not in variants:
            variants[key] = _trail_key(trail)
    return per_case, variants


def _overrides(session: Session, case_ids: Iterable[int] | None, conditions: list) -> dict[int, list[AuditEvent]]:
    query = select(AuditEvent).where(AuditEvent.lifecycle.not_in(ELEMENT_LIFECYCLES)).order_by(AuditEvent.id)
    if case_ids is not None:
        query = query.where(AuditEvent.case_id.in_(list(case_ids)))
    else:
        query = query.where(AuditEvent.case_id.in_(
            select(Case.id).join(ProcessVersion, ProcessVersion.id == Case.version_id).where(*conditions)))
    found: dict[int, list[AuditEvent]] = defaultdict(list)
    for event in session.scalars(query):
        found[event.case_id].append(event)
    return found


def _override_view(event: AuditEvent) -> OverrideView:
    data = event.data or {}
    return OverrideView(data.get("action") or event.lifecycle, event.at, event.actor, data.get("reason"), data or None)


class ComplianceService:
    """For the compliance group and administrators (``see_compliance``): conformance of one case or a selection."""

    def __init__(self, core: Core):
        self._core = core
        self._variants = _Variants()

    def _require(self, actor: Actor, what: str) -> None:
        self._core.policy.require(actor, "see_compliance", what)

    def _deviations(self, session: Session, process_key: str, pinned: dict[str, int], status: str,
                    trail: tuple[TrailStep, ...], moves: tuple[tuple[int, int], ...] = ()) -> tuple[Deviation, ...]:
        """Replay a trail (once per variant); ``moves``: (position, version id) of repairs that moved the case,
        ``pinned`` then being the versions it started on."""
        key = (process_key, tuple(sorted(pinned.items())), status == "completed", trail, moves)

        def judge():
            bundles = [(position, self._core.bundle(session, process_key, {**pinned, process_key: vid}))
                       for position, vid in moves]
            return replay(self._core.bundle(session, process_key, pinned), trail, status == "completed",
                          moves=bundles)

        return self._variants.get(key, judge)

    def _judge_events(self, session: Session, case, events: list[AuditEvent]):
        """Return (compared entries, deviations) of a case from its events: repairs that moved it to another
        version (``admin_action`` with ``version: {from, to}``) split the trail; each part is judged on its
        version, the replay moving on as the repair did."""
        compared, moves, first = [], [], None
        for index, event in enumerate(events):
            if event.element_id and event.lifecycle in REPLAYED:
                compared.append(event)
            moved = (event.data or {}).get("version") if event.lifecycle == "admin_action" else None
            if isinstance(moved, dict) and moved.get("to"):
                # The repair's own step (its retry) was written just before it, at its instant, by its actor.
                back = index
                while back > 0 and (events[back - 1].at, events[back - 1].actor) == (event.at, event.actor):
                    back -= 1
                own = sum(1 for e in events[back:index] if e.element_id and e.lifecycle in REPLAYED)
                first = moved["from"] if first is None else first
                moves.append((len(compared) - own, int(moved["to"])))
        pinned = dict(case.pinned) if first is None else {**case.pinned, case.process_key: int(first)}
        trail = _trail_key((e.element_id, e.lifecycle) for e in compared)
        return compared, self._deviations(session, case.process_key, pinned, case.status, trail, tuple(moves))

    def case(self, case_id: int, actor: Actor) -> CaseConformance:
        """Return one case judged against the versions it ran on, with each deviation's time and actor."""
        self._require(actor, "see the conformance of cases")
        with self._core.db.transaction(write=False) as session:
            case = session.get(Case, case_id)
            if case is None:
                raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
            events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                          .order_by(AuditEvent.id)))
            compared, deviations = self._judge_events(session, case, events)
            bundle = self._core.bundle(session, case.process_key, dict(case.pinned))
            numbers = _version_numbers(session)
        views = []
        for deviation in deviations:
            shown = compared[deviation.position] if deviation.position < len(compared) else None
            at = shown.at if shown else (case.ended_at or case.updated_at)
            info = bundle.elements.get(deviation.element_id, {})
            views.append(DeviationView(deviation.kind, deviation.element_id, info.get("name", ""),
                                       at, shown.actor if shown else None, info.get("type", "")))
        return CaseConformance(
            case.id, case.process_key, numbers[case.version_id][1],
            {key: numbers[vid][1] for key, vid in case.pinned.items()}, case.status, not deviations,
            tuple(views), tuple(_override_view(e) for e in events if is_override(e.lifecycle)),
            tuple(e.element_id for e in compared if e.lifecycle != "ready"))

    def summary(self, actor: Actor, selection: Selection = Selection(), limit: int = DEVIATING_LIST
                ) -> ConformanceSummary:
        """Return the conformance of every case of the selection: fitness per version and month, the commonest
        deviations and the deviating cases (the first ``limit``, newest first)."""
        self._require(actor, "see the conformance of cases")
        return self._summary(selection.where(self._core.base_calendar.tz), limit)

    def _summary(self, conditions: list, limit: int) -> ConformanceSummary:
        tz = self._core.base_calendar.tz
        is_postgres = self._core.db.write_engine.dialect.name == "postgresql"
        with self._core.db.transaction(write=False) as session:
            heads = session.execute(
                select(Case.id, Case.process_key, Case.version_id, Case.pinned, Case.status, Case.category,
                       Case.data["responsible_department"].as_string(), Case.started_at)
                .join(ProcessVersion, ProcessVersion.id == Case.version_id).where(*conditions)
                .order_by(Case.id.desc())).all()
            per_case, trails = _case_trails(session, conditions, is_postgres)
            overrides = _overrides(session, None, conditions)
            numbers = _version_numbers(session)
            rows: dict[tuple[str, int, str], list[int]] = defaultdict(lambda: [0, 0])
            counts: Counter = Counter()
            deviating, fitting, pinned_sets = [], 0, {}
            judged: dict[tuple, tuple[Deviation, ...]] = {}      # per variant: a string key, hashed once
            moved = {case_id for case_id, events in overrides.items()
                     if any(isinstance((e.data or {}).get("version"), dict) for e in events)}
            for case_id, key, version_id, pinned, status, category, department, started_at in heads:
                variant = (key, tuple(sorted(pinned.items())), status == "completed", per_case.get(case_id, ""))
                deviations = judged.get(variant) if case_id not in moved else None
                if case_id in moved:        # repaired onto another version: judged part by part (rare)
                    case = session.get(Case, case_id)
                    events = list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                                  .order_by(AuditEvent.id)))
                    deviations = self._judge_events(session, case, events)[1]
                elif deviations is None:
                    trail = trails[variant[3]] if variant[3] else ()
                    deviations = judged[variant] = self._deviations(session, key, dict(pinned), status, trail)
                month = started_at.astimezone(tz).strftime("%Y-%m")
                row = rows[(key, numbers[version_id][1], month)]
                row[0] += 1
                if not deviations:
                    row[1] += 1
                    fitting += 1
                    continue
                pinned_sets[key] = dict(pinned)
                for kind, element in {(d.kind, d.element_id) for d in deviations}:
                    counts[(key, kind, element)] += 1
                if len(deviating) < limit:
                    deviating.append(DeviatingCase(
                        case_id, key, numbers[version_id][1], status, category, department, started_at,
                        tuple((d.kind, d.element_id) for d in deviations), len(overrides.get(case_id, ()))))
            names = self._element_names(session, pinned_sets)
        return ConformanceSummary(
            len(heads), fitting, sum(1 for case_id, *_ in heads if case_id in overrides),
            tuple(FitnessRow(key, version, month, n, fit) for (key, version, month), (n, fit) in sorted(rows.items())),
            tuple(DeviationCount(key, kind, element, name, n, element_type)
                  for (key, kind, element), n in counts.most_common()
                  for name, element_type in [names.get(element, ("", ""))]),
            tuple(deviating), len(judged))

    def adherence(self, actor: Actor, selection: Selection = Selection()) -> AdherenceReport:
        """Return deadline adherence (及时率) per rule, process version, department and month, and what was missed."""
        self._require(actor, "see deadline adherence")
        with self._core.db.transaction(write=False) as session:
            rows, missed = adherence(session, self._core.calendar(session), selection.where(self._core.base_calendar.tz),
                                     self._core.clock())
        return AdherenceReport(rows, missed)

    def heatmap(self, actor: Actor, version_id: int) -> VersionHeatmap:
        """Return how often each element and flow of a version ran, over every case that ran on it (called
        processes too), and on which elements the cases deviated."""
        self._require(actor, "see the conformance of cases")
        with self._core.db.transaction(write=False) as session:
            version = session.get(ProcessVersion, version_id)
            if version is None:
                raise NotFound(f"process version {version_id} does not exist", code="version_not_found",
                               version_id=version_id)
            key, number, name = version.key, version.version, version.name
            on_it = Case.pinned[key].as_integer() == version_id
            cases = select(Case.id).where(on_it)
            counted = and_(AuditEvent.case_id.in_(cases), AuditEvent.lifecycle.in_(("completed", "timer_fired")))
            elements = dict(session.execute(select(AuditEvent.element_id, func.count()).where(
                counted, AuditEvent.element_id.is_not(None)).group_by(AuditEvent.element_id)).all())
            flows = dict(session.execute(select(AuditEvent.flow_id, func.count()).where(
                counted, AuditEvent.flow_id.is_not(None)).group_by(AuditEvent.flow_id)).all())
        summary = self._summary([on_it], DEVIATING_LIST)
        deviations: Counter = Counter()
        for count in summary.deviations:
            deviations[count.element_id] += count.cases
        return VersionHeatmap(version_id, key, number, name, summary.cases, summary.fitting, elements, flows,
                              dict(deviations), summary.deviations, summary.deviating)

    def export(self, actor: Actor, selection: Selection = Selection(), fmt: str = "xes") -> bytes:
        """A-3: return the event log of the selected cases as XES (IEEE 1849) or CSV, with lifecycle and resource."""
        self._require(actor, "export event logs")
        with self._core.db.transaction(write=False) as session:
            return eventlogs.export(session, selection.where(self._core.base_calendar.tz), fmt)

    def check_log(self, actor: Actor, content: bytes, fmt: str, process_key: str, version: int,
                  mapping: dict[str, str] | None = None, match_by: str = "either", closed: bool = False
                  ) -> LogCheck:
        """Check another system's event log (CSV with ``mapping`` of case, activity, timestamp, resource; or XES)
        against a process version (``closed``: its cases are finished); nothing is stored."""
        self._require(actor, "check imported event logs")
        events = eventlogs.parse_log(content, fmt, mapping or {}, self._core.base_calendar.tz)
        with self._core.db.transaction(write=False) as session:
            return eventlogs.check_log(self._core, session, events, process_key, version, match_by, closed)

    def _element_names(self, session: Session, pinned_sets: dict[str, dict[str, int]]) -> dict[str, tuple[str, str]]:
        """Return the name and BPMN type of the elements of one pinned version set per process key."""
        names: dict[str, tuple[str, str]] = {}
        for key, pinned in pinned_sets.items():
            names.update({e: (info.get("name", ""), info.get("type", ""))
                          for e, info in self._core.bundle(session, key, pinned).elements.items()})
        return names


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def parse_day(text: str | None, field: str) -> date | None:
    """Return a YYYY-MM-DD parameter as a date (None when empty); InvalidRequest naming the field otherwise."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:     # beyond them a day's bounds leave the calendar
        raise InvalidRequest(f"{field} must be a date YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}",
                             code="invalid_date", field=field)
    return day
