"""What a timer expression must yield, checked at deploy (on a sample) and whenever a timer starts to wait.

SpiffWorkflow parses the value of a timer expression lazily and, when it
cannot, raises outside any task, so a case would stay stuck with no incident
(issue 16 item 3). Here each kind is checked with SpiffWorkflow's own parsers
and a clear reason:

- ``timeDate``: an ISO 8601 date-time with its offset (``2026-05-01T09:00+08:00``);
- ``timeDuration``: an ISO 8601 duration (``PT24H``, ``P3D``);
- ``timeCycle``: ``R[n]/duration`` (optionally with a start or end date-time), n >= 0, duration > 0.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

KINDS = {TimeDateEventDefinition: "timeDate", DurationTimerEventDefinition: "timeDuration",
         CycleTimerEventDefinition: "timeCycle"}
_CYCLE = re.compile(r"^R(\d*)/(.+)$", re.I)


class TimerValueError(ValueError):
    """A timer expression's value is not a valid date, duration or cycle of its kind."""


def kind_of(definition: Any) -> str | None:
    """Return timeDate, timeDuration or timeCycle for a SpiffWorkflow timer definition (None: not a timer)."""
    for cls, kind in KINDS.items():
        if isinstance(definition, cls):
            return kind
    return None


def _duration(text: str, what: str, zero: bool = True) -> dict[str, Any]:
    if not text.upper().startswith("P"):
        raise TimerValueError(f"{what} {text!r} is not an ISO 8601 duration (e.g. PT24H, P3D)")
    try:
        parsed = TimerEventDefinition.parse_iso_duration(text)
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
        raise TimerValueError(f"{what} {text!r} is not an ISO 8601 duration (e.g. PT24H, P3D)") from exc
    if not zero and not any(parsed.values()):
        raise TimerValueError(f"{what} {text!r} is zero: the timer would fire at once, again and again")
    return parsed


def _moment(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise TimerValueError(f"{what} {text!r} is not an ISO 8601 date-time (e.g. 2026-05-01T09:00+08:00)") from exc
    if moment.tzinfo is None:
        raise TimerValueError(f"{what} {text!r} has no UTC offset; write it with one (e.g. +08:00)")
    return moment


def check(kind: str, value: Any) -> None:
    """Raise ``TimerValueError`` unless ``value`` is what a timer of ``kind`` needs."""
    if isinstance(value, datetime) and kind == "timeDate":
        value = value.isoformat()
    if not isinstance(value, str) or not value.strip():
        raise TimerValueError(f"a {kind} timer needs text, not {type(value).__name__} {value!r}")
    text = value.strip()
    if kind == "timeDate":
        _moment(text, "the date")
    elif kind == "timeDuration":
        _duration(text, "the duration")
    elif kind == "timeCycle":
        match = _CYCLE.match(text)
        if not match:
            raise TimerValueError(f"the cycle {text!r} is not R[n]/<duration> (e.g. R3/PT24H), n a count >= 0")
        parts = match.group(2).split("/")
        durations = [p for p in parts if p.upper().startswith("P")]
        if len(parts) > 2 or len(durations) != 1:
            raise TimerValueError(f"the cycle {text!r} needs exactly one duration (R3/PT24H, R3/2026-05-01T09:00+08:00/P1D)")
        for part in parts:
            if part.upper().startswith("P"):
                _duration(part, "the cycle's duration", zero=False)
            else:
                _moment(part, "the cycle's start")
    else:
        raise TimerValueError(f"unknown timer kind {kind}")


def sample_now() -> datetime:
    """The instant deploy-time checks evaluate timer expressions at."""
    return datetime.now(timezone.utc)


def check_due(value: Any) -> None:
    """Raise ``TimerValueError`` unless ``value`` can be a user task's due date: a date-time or a duration."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TimerValueError(f"the due date {value.isoformat()} has no UTC offset")
        return
    if isinstance(value, str) and value.strip().upper().startswith("P"):
        check("timeDuration", value)
    else:
        check("timeDate", value)
