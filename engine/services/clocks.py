"""Clocks the services read: the system clock in production, a fixed one in tests and ``--now``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the current instant in UTC."""
    return datetime.now(timezone.utc)


class FixedClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, moment: datetime):
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment = self.moment + timedelta(**delta)
        return self.moment

    def set(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.moment = moment
        return moment


class OffsetClock:
    """The system clock moved by the seconds a file holds, read again when the file changes.

    For tests of several processes (web workers and schedulers) that must agree
    on a moved time: the test writes the offset, every process's clock follows.
    A missing or empty file means no offset.
    """

    def __init__(self, path: Path):
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta()

    def __call__(self) -> datetime:
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                text = self.path.read_text(encoding="utf-8").strip()
                self._offset, self._stamp = timedelta(seconds=float(text or 0)), stamp
        except FileNotFoundError:
            self._offset, self._stamp = timedelta(), None
        return system_clock() + self._offset
