"""Report periods (P-1 week, P-2 month, P-3 quarter) and when a report of a period is due; no I/O.

A period is named ``2025-W16`` (ISO week, Monday to Sunday), ``2025-04`` or
``2025-Q2``; its bounds are local midnights of the calendar's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .calendar import BusinessCalendar

__all__ = ["Period", "due_date", "parse_period", "period_of", "previous"]

EVERY = ("week", "month", "quarter")
_WEEK, _MONTH, _QUARTER = re.compile(r"^(\d{4})-W(\d{2})$"), re.compile(r"^(\d{4})-(\d{2})$"), re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Period:
    """One week, month or quarter: its name and its first and last day."""

    every: str
    name: str
    first: date
    last: date

    def bounds(self, cal: BusinessCalendar) -> tuple[datetime, datetime]:
        """Return the period as [start, end) instants in the calendar's time zone."""
        return (datetime.combine(self.first, time(0), cal.tz),
                datetime.combine(self.last + timedelta(days=1), time(0), cal.tz))

    def months(self) -> list[date]:
        """Return the first day of each month the period starts in (three for a quarter)."""
        out, day = [], self.first.replace(day=1)
        while day <= self.last:
            out.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return out


def _month(year: int, month: int) -> Period:
    first = date(year, month, 1)
    return Period("month", f"{year:04d}-{month:02d}", first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))


def parse_period(text: str, every: str | None = None) -> Period:
    """Return the period ``text`` names; ValueError when it names none (or not one of ``every``)."""
    text = (text or "").strip()
    found: Period | None = None
    try:
        if m := _WEEK.match(text):
            try:
                first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            except ValueError:
                first = None
            if first:
                found = Period("week", text, first, first + timedelta(days=6))
        elif (m := _MONTH.match(text)) and 1 <= int(m[2]) <= 12:
            found = _month(int(m[1]), int(m[2]))
        elif m := _QUARTER.match(text):
            year, q = int(m[1]), int(m[2])
            start = _month(year, 3 * q - 2)
            found = Period("quarter", text, start.first, _month(year, 3 * q).last)
    except OverflowError:
        found = None            # past the calendar's last day (year 9999)
    if found is not None and not 1900 <= found.first.year <= found.last.year <= 9998:
        found = None            # near the calendar's ends the period before or the day after would not exist
    if found is None or (every and found.every != every):
        expected = {"week": "YYYY-Www", "month": "YYYY-MM", "quarter": "YYYY-Qn"}
        raise ValueError(f"{text!r} is not a period ({expected[every] if every else 'YYYY-Www, YYYY-MM or YYYY-Qn'})")
    return found


def period_of(every: str, day: date) -> Period:
    """Return the week, month or quarter ``day`` lies in."""
    if every == "week":
        year, week, _ = day.isocalendar()
        return parse_period(f"{year:04d}-W{week:02d}")
    if every == "month":
        return _month(day.year, day.month)
    return parse_period(f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}")


def previous(period: Period) -> Period:
    """Return the period of the same kind before ``period``."""
    return period_of(period.every, period.first - timedelta(days=1))


def due_date(rule: str, period: Period, cal: BusinessCalendar) -> date:
    """Return the day a report of ``period`` is due under ``rule`` (see data/reports.toml)."""
    if rule == "next_working_day":
        day = period.last + timedelta(days=1)
        while not cal.is_workday(day):
            day += timedelta(days=1)
        return day
    if rule.startswith("working_day_by:"):
        day = period.last.replace(day=int(rule.split(":", 1)[1]))
        while not cal.is_workday(day):
            day -= timedelta(days=1)
        return day
    raise ValueError(f"unknown due rule {rule!r}")
