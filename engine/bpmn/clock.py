"""The injected clock SpiffWorkflow's timers read.

SpiffWorkflow 3.2.0 reads ``datetime.now(timezone.utc)`` through the module
name ``datetime`` in its timer module and offers no clock hook. We replace that
name with a subclass whose ``now`` reads a context variable, so every engine
command runs at the instant its caller gave (tests pass a fixed clock; no test
sleeps) and concurrent threads each see their own instant.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Iterator

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

_now: ContextVar[datetime | None] = ContextVar("engine_now", default=None)


class _ClockMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, datetime)


class _ClockDatetime(datetime, metaclass=_ClockMeta):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        fixed = _now.get()
        if fixed is None:
            return datetime.now(tz)
        return fixed.astimezone(tz) if tz is not None else fixed.astimezone().replace(tzinfo=None)


_timer_module.datetime = _ClockDatetime


def utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; naive datetimes are refused."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no timezone")
    return moment.astimezone(timezone.utc)


@contextlib.contextmanager
def engine_time(moment: datetime) -> Iterator[datetime]:
    """Run the enclosed engine work as if the time were ``moment``."""
    token = _now.set(utc(moment))
    try:
        yield utc(moment)
    finally:
        _now.reset(token)


def current() -> datetime:
    """Return the engine's current instant (the injected one inside ``engine_time``)."""
    fixed = _now.get()
    return fixed if fixed is not None else datetime.now(timezone.utc)
