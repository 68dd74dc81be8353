"""Read other systems' event logs: CSV with a column mapping, and XES; every bad row is refused by its number."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, tzinfo

from lxml import etree

__all__ = ["FIELDS", "LogError", "LogEvent", "read_csv", "read_xes"]

FIELDS = ("case", "activity", "timestamp", "resource", "transition")     # resource and transition are optional
XES_NS = "{http://www.xes-standard.org/}"
SKIPPED_TRANSITIONS = {"schedule", "assign", "reassign", "start", "suspend", "resume", "withdraw", "ate_abort",
                       "pi_abort", "autoskip", "manualskip"}


class LogError(ValueError):
    """A log that cannot be read: what is wrong and on which row (CSV line, or XES line)."""

    def __init__(self, message: str, row: int | None = None):
        self.message, self.row = message, row
        super().__init__(f"row {row}: {message}" if row is not None else message)


@dataclass(frozen=True)
class LogEvent:
    """One completed activity of a case in an imported log."""

    case: str
    activity: str
    at: datetime
    resource: str | None
    row: int


def _instant(text: str, tz: tzinfo, row: int) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LogError(f"timestamp {text!r} is not an ISO 8601 date and time", row) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _records(reader: csv.DictReader):
    """Yield the reader's records; LogError naming the line where the csv module cannot read on (a NUL ...)."""
    try:
        yield from reader
    except csv.Error as exc:
        raise LogError(f"not a readable CSV: {exc}", reader.line_num + 1) from None   # the line it was reading


def read_csv(text: str, mapping: dict[str, str], tz: tzinfo) -> list[LogEvent]:
    """Return the events of a CSV log; ``mapping`` names the column of case, activity, timestamp (and resource,
    and a lifecycle transition column whose rows other than complete are left out)."""
    missing = [f for f in FIELDS[:3] if not mapping.get(f)]
    if missing:
        raise LogError(f"the column mapping needs {', '.join(missing)}")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    for field in FIELDS:
        column = mapping.get(field)
        if column and column not in header:
            raise LogError(f"column {column!r} (mapped as {field}) is not in the header {header}", 1)
    events = []
    for record in _records(reader):
        row = reader.line_num
        values = {f: (record.get(mapping[f]) or "").strip() for f in FIELDS if mapping.get(f)}
        if values.get("transition", "complete").lower() in SKIPPED_TRANSITIONS:
            continue            # only completed work is replayed (XES lifecycle names)
        for field in FIELDS[:3]:
            if not values[field]:
                raise LogError(f"{field} (column {mapping[field]!r}) is empty", row)
        events.append(LogEvent(values["case"], values["activity"], _instant(values["timestamp"], tz, row),
                               values.get("resource") or None, row))
    if not events:
        raise LogError("the log has no events")
    return events


def _attrs(node) -> dict[str, str]:
    return {child.get("key"): child.get("value") for child in node if child.get("key") is not None}


def read_xes(content: bytes, tz: tzinfo) -> list[LogEvent]:
    """Return the completed events of an XES log (events whose lifecycle:transition is not complete are left out)."""
    try:
        root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise LogError(f"malformed XML: {exc.msg}", exc.lineno) from None
    if root.tag != f"{XES_NS}log":
        raise LogError("not an XES log (root element is not log)", root.sourceline)
    events = []
    for trace in root.iter(f"{XES_NS}trace"):
        case = _attrs(trace).get("concept:name")
        if not case:
            raise LogError("a trace without concept:name", trace.sourceline)
        for event in trace.iter(f"{XES_NS}event"):
            attrs = _attrs(event)
            if attrs.get("lifecycle:transition", "complete").lower() in SKIPPED_TRANSITIONS:
                continue
            if not attrs.get("concept:name") or not attrs.get("time:timestamp"):
                raise LogError("an event needs concept:name and time:timestamp", event.sourceline)
            events.append(LogEvent(case, attrs["concept:name"], _instant(attrs["time:timestamp"], tz,
                                                                         event.sourceline),
                                   attrs.get("org:resource"), event.sourceline))
    if not events:
        raise LogError("the log has no completed events")
    return events
