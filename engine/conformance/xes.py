"""Write an event log as XES (IEEE 1849-2016) with the concept, lifecycle, org and time extensions, or as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from lxml import etree

__all__ = ["ExportEvent", "ExportTrace", "TRANSITIONS", "csv_log", "xes_log"]

XES_NS = "http://www.xes-standard.org/"
EXTENSIONS = (("Concept", "concept"), ("Lifecycle", "lifecycle"), ("Organizational", "org"), ("Time", "time"))
# Our audit lifecycles in the XES standard lifecycle model.
TRANSITIONS = {"ready": "schedule", "claimed": "assign", "unclaimed": "reassign", "completed": "complete",
               "timer_fired": "complete", "cancelled": "ate_abort", "incident": "unknown", "paused": "suspend",
               "resumed": "resume", "case_cancelled": "pi_abort"}


@dataclass(frozen=True)
class ExportEvent:
    activity: str                       # the element's name (its id when unnamed), or the override's action
    element_id: str | None
    element_type: str | None
    lifecycle: str                      # ours: ready, completed, timer_fired, paused ...
    resource: str | None
    at: datetime
    reason: str | None = None           # an override's reason (a retry, a cancel by an administrator ...)


@dataclass(frozen=True)
class ExportTrace:
    case_id: int
    process_key: str
    version: int
    status: str
    category: str | None
    events: tuple[ExportEvent, ...]


def _attr(parent, tag: str, key: str, value: str) -> None:
    etree.SubElement(parent, f"{{{XES_NS}}}{tag}", key=key, value=value)


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def transition(lifecycle: str) -> str:
    return TRANSITIONS.get(lifecycle, "unknown")


def xes_log(traces: Iterable[ExportTrace], name: str) -> bytes:
    """Return the traces as an XES document."""
    log = etree.Element(f"{{{XES_NS}}}log", nsmap={None: XES_NS},
                        attrib={"xes.version": "1849-2016", "xes.features": "nested-attributes"})
    for ext_name, prefix in EXTENSIONS:
        etree.SubElement(log, f"{{{XES_NS}}}extension", name=ext_name, prefix=prefix,
                         uri=f"http://www.xes-standard.org/{prefix}.xesext")
    trace_global = etree.SubElement(log, f"{{{XES_NS}}}global", scope="trace")
    _attr(trace_global, "string", "concept:name", "__INVALID__")
    event_global = etree.SubElement(log, f"{{{XES_NS}}}global", scope="event")
    _attr(event_global, "string", "concept:name", "__INVALID__")
    _attr(event_global, "string", "lifecycle:transition", "complete")
    _attr(event_global, "date", "time:timestamp", "1970-01-01T00:00:00.000+00:00")
    etree.SubElement(log, f"{{{XES_NS}}}classifier", name="Activity", keys="concept:name")
    etree.SubElement(log, f"{{{XES_NS}}}classifier", name="Activity and lifecycle",
                     keys="concept:name lifecycle:transition")
    _attr(log, "string", "concept:name", name)
    for trace in traces:
        node = etree.SubElement(log, f"{{{XES_NS}}}trace")
        _attr(node, "string", "concept:name", str(trace.case_id))
        _attr(node, "string", "process", trace.process_key)
        _attr(node, "int", "version", str(trace.version))
        _attr(node, "string", "status", trace.status)
        if trace.category:
            _attr(node, "string", "category", trace.category)
        for event in trace.events:
            item = etree.SubElement(node, f"{{{XES_NS}}}event")
            _attr(item, "string", "concept:name", event.activity)
            _attr(item, "string", "lifecycle:transition", transition(event.lifecycle))
            if event.resource:
                _attr(item, "string", "org:resource", event.resource)
            _attr(item, "date", "time:timestamp", _time(event.at))
            if event.element_id:
                _attr(item, "string", "elementId", event.element_id)
                _attr(item, "string", "elementType", event.element_type or "")
            _attr(item, "string", "auditLifecycle", event.lifecycle)
            if event.reason:
                _attr(item, "string", "reason", event.reason)
    return etree.tostring(log, xml_declaration=True, encoding="UTF-8", pretty_print=True)


CSV_COLUMNS = ("case_id", "process", "version", "activity", "element_id", "element_type", "lifecycle",
               "transition", "resource", "timestamp")


def csv_log(traces: Iterable[ExportTrace]) -> str:
    """Return the traces as CSV, one event a row (the columns an import maps back: case_id, activity, timestamp)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for trace in traces:
        for e in trace.events:
            writer.writerow((trace.case_id, trace.process_key, trace.version, e.activity, e.element_id or "",
                             e.element_type or "", e.lifecycle, transition(e.lifecycle), e.resource or "",
                             e.at.isoformat()))
    return out.getvalue()
