"""The compliance group's evidence: the event log of a selection as XES or CSV (A-3), and imported logs of other
systems (CSV with a column mapping, XES) replayed against a chosen process version."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..bpmn import Bundle
from ..bpmn.replay import TrailStep, replay
from ..conformance import LogError, LogEvent, read_csv, read_xes
from ..conformance.xes import ExportEvent, ExportTrace, csv_log, xes_log
from ..store.models import AuditEvent, Case, ProcessVersion
from .core import Core
from .errors import InvalidRequest, NotFound
from .views import DeviationView, ImportedTrace, LogCheck

__all__ = ["check_log", "export", "parse_log"]

GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}
EXPORTED = {"ready", "claimed", "unclaimed", "completed", "timer_fired", "cancelled", "incident"}


def activity_name(element_id: str, name: str | None) -> str:
    """Return the name an element is known by in a log: its BPMN name on one line, else its id."""
    return re.sub(r"\s+", " ", name or "").strip() or element_id


def _traces(session: Session, conditions: list) -> Iterable[ExportTrace]:
    cases = session.execute(
        select(Case.id, Case.process_key, ProcessVersion.version, Case.status, Case.category)
        .join(ProcessVersion, ProcessVersion.id == Case.version_id).where(*conditions).order_by(Case.id)).all()
    events: dict[int, list[ExportEvent]] = defaultdict(list)
    query = (select(AuditEvent).where(AuditEvent.case_id.in_(
        select(Case.id).join(ProcessVersion, ProcessVersion.id == Case.version_id).where(*conditions)))
        .order_by(AuditEvent.case_id, AuditEvent.id))
    for e in session.scalars(query):
        if e.element_id and (e.lifecycle not in EXPORTED or e.element_type in GATEWAYS):
            continue        # gateways and join arrivals are the model's plumbing, not work
        if e.element_id and e.lifecycle in EXPORTED:
            activity = activity_name(e.element_id, e.element_name)
        else:
            activity = (e.data or {}).get("action") or e.lifecycle
        lifecycle = e.lifecycle
        if lifecycle == "admin_action" and activity == "cancel":
            lifecycle = "case_cancelled"        # the administrator ended the case: XES's pi_abort
        reason = None if e.element_id else (e.data or {}).get("reason")
        events[e.case_id].append(ExportEvent(activity, e.element_id, e.element_type, lifecycle, e.actor, e.at,
                                             str(reason) if reason else None))
    return [ExportTrace(c.id, c.process_key, c.version, c.status, c.category, tuple(events.get(c.id, ())))
            for c in cases]


def export(session: Session, conditions: list, fmt: str) -> bytes:
    """Return the event log of the selected cases as ``xes`` or ``csv`` (UTF-8)."""
    traces = _traces(session, conditions)
    if fmt == "xes":
        return xes_log(traces, "complaints")
    if fmt == "csv":
        return csv_log(traces).encode("utf-8")
    raise InvalidRequest(f"unknown export format {fmt!r} (xes or csv)", code="invalid_format", format=fmt)


def parse_log(content: bytes, fmt: str, mapping: dict[str, str], tz) -> list[LogEvent]:
    """Read an imported log; InvalidRequest (code ``bad_log``, naming the row) when it cannot be read."""
    try:
        if fmt == "xes":
            return read_xes(content, tz)
        if fmt == "csv":
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                raise LogError("the CSV is not UTF-8 text") from None
            return read_csv(text, mapping, tz)
    except LogError as exc:
        raise InvalidRequest(str(exc), code="bad_log", row=exc.row, reason=exc.message) from None
    raise InvalidRequest(f"unknown log format {fmt!r} (csv or xes)", code="invalid_format", format=fmt)


def _matcher(bundle: Bundle, match_by: str):
    by_id = {e: e for e in bundle.elements}
    by_name: dict[str, str] = {}
    for element_id, info in bundle.elements.items():
        name = activity_name(element_id, info.get("name"))
        if info.get("name"):
            by_name.setdefault(name, element_id)
            by_name.setdefault(name.split(" (")[0].split("(")[0].strip(), element_id)
    tables = {"id": [by_id], "name": [by_name], "either": [by_id, by_name]}.get(match_by)
    if tables is None:
        raise InvalidRequest("match by id, name or either", code="invalid_match", match_by=match_by)

    def match(activity: str) -> str | None:
        return next((t[activity] for t in tables if activity in t), None)

    return match


def check_log(core: Core, session: Session, events: list[LogEvent], process_key: str, version: int,
              match_by: str, closed: bool = False) -> LogCheck:
    """Replay each case of an imported log against ``process_key`` version ``version`` (calls: their newest).

    ``closed``: the log's cases are finished, so what the model still waits for was skipped.
    """
    row = session.execute(select(ProcessVersion.id).where(ProcessVersion.key == process_key,
                                                          ProcessVersion.version == version)).first()
    if row is None:
        raise NotFound(f"process {process_key!r} has no version {version}", code="version_not_found",
                       process_key=process_key, version=version)
    pinned = {**core.pin(session, process_key), process_key: row.id}
    bundle = core.bundle(session, process_key, pinned)
    match = _matcher(bundle, match_by)
    cases: dict[str, list[tuple[LogEvent, str]]] = defaultdict(list)
    for event in events:
        element = match(event.activity)
        if element is None:
            raise InvalidRequest(f"row {event.row}: activity {event.activity!r} is no element of {process_key} "
                                 f"version {version} (matched by {match_by})", code="bad_log", row=event.row,
                                 reason=f"unknown activity {event.activity!r}")
        cases[event.case].append((event, element))
    observed = frozenset(element for entries in cases.values() for _, element in entries)
    judged = []
    for case, entries in cases.items():
        entries.sort(key=lambda entry: entry[0].at)         # stable: equal times keep the file's order
        trail = tuple(TrailStep(element, "timer_fired" if "timer" in bundle.elements[element] else "completed")
                      for _, element in entries)
        deviations = []
        for d in replay(bundle, trail, ended=closed, observe=observed):
            shown = entries[d.position][0] if d.position < len(entries) else None
            info = bundle.elements[d.element_id]
            deviations.append(DeviationView(d.kind, d.element_id, info.get("name", ""), shown.at if shown else None,
                                            shown.resource if shown else None, info.get("type", "")))
        judged.append(ImportedTrace(case, len(entries), not deviations, tuple(deviations)))
    return LogCheck(process_key, version, len(judged), sum(1 for t in judged if t.fits), tuple(judged))
