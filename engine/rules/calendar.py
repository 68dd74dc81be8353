"""Business calendar: working days, working hours and deadline arithmetic.

Every function is pure: ``now`` (or ``start``) is always a parameter, nothing
reads the clock or does I/O. Inputs are timezone-aware datetimes in any zone
(a naive datetime raises ValueError); results are timezone-aware datetimes in
``cal.tz``, so a BPMN timer expression can call ``.isoformat()`` on them.

Conventions (SPEC N-4, N-8, N-12, Q-2, C-3..C-7; issue 5):

- Working day: an administrator's override for that date wins (the State
  Council's yearly notice); otherwise the ``chinese_calendar`` package decides,
  which knows statutory holidays and make-up workdays (调休); for years outside
  its data it falls back to Monday-Friday. A date marked a workday is a workday
  even on a weekend.
- "Within N working days of receipt" (N-4, N-8, C-7): counting starts at the
  first working day after the receipt day, whatever the time of receipt and
  even when received on a day off; due at ``day_end`` of the Nth working day.
- Clock-hour deadlines (C-3, C-4) are plain elapsed durations.
- Working hours (N-12): only time inside ``day_start``..``day_end`` of working
  days counts; a start before ``day_start`` counts from ``day_start``, a start
  after ``day_end`` from the next working day's ``day_start``.
- "Next day 17:00" (Q-2): the next calendar day at that local time, or the
  next working day when ``cal.next_day_working`` is True.
- Pause and resume (N-4): at pause keep the working time left until the due
  time (``working_seconds_between``); at resume add it back
  (``add_working_seconds``); ``resume_due`` does both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class BusinessCalendar:
    """Hold the working-day rules and working hours of one organisation."""

    tz: tzinfo = ZoneInfo("Asia/Shanghai")
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    overrides: Mapping[date, bool] = field(default_factory=dict)
    next_day_working: bool = False

    def __post_init__(self) -> None:
        """Validate the working hours and freeze a private copy of the overrides."""
        if self.day_start.tzinfo is not None or self.day_end.tzinfo is not None:
            raise ValueError("day_start and day_end must be naive local times")
        if self.day_start >= self.day_end:
            raise ValueError(
                f"day_start {self.day_start} must be before day_end {self.day_end}"
            )
        # A copy, so that later edits of the caller's dict cannot change a
        # calendar that deadlines were already computed with.
        frozen = MappingProxyType(dict(self.overrides))
        object.__setattr__(self, "overrides", frozen)

    def is_workday(self, d: date) -> bool:
        """Tell whether ``d`` is a working day: override, then package, then Mon-Fri."""
        if isinstance(d, datetime):
            # A datetime's date depends on its zone; callers must decide it.
            raise TypeError("is_workday takes a date, not a datetime")
        if d in self.overrides:
            return self.overrides[d]
        try:
            return chinese_calendar.is_workday(d)
        except NotImplementedError:
            # The package only knows the years whose notice it has seen.
            return d.weekday() < 5

    def next_workday(self, d: date) -> date:
        """Return the first working day strictly after ``d``."""
        d += ONE_DAY
        while not self.is_workday(d):
            d += ONE_DAY
        return d


def statutory_data_until() -> date:
    """Return the last day of the last year whose State Council notice the ``chinese_calendar`` data carries."""
    return date(max(chinese_calendar.holidays).year, 12, 31)


@dataclass(frozen=True)
class HolidayCoverage:
    """How far the calendar knows statutory holidays and make-up workdays, seen from ``today``.

    Past ``statutory_until`` only the administrators' overrides tell holidays
    from Monday-Friday, so a deadline counted into that year is wrong until the
    year's notice is entered. ``due`` says the following year is near
    (``warn_days``) or here and has no override at all.
    """

    statutory_until: date
    next_year: int
    overrides_next_year: int
    due: bool


def holiday_coverage(cal: BusinessCalendar, today: date, warn_days: int = 60) -> HolidayCoverage:
    """Tell whether the year after the package's data needs its notice entered as overrides by now."""
    until = statutory_data_until()
    year = until.year + 1
    entered = sum(1 for d in cal.overrides if d.year == year)
    return HolidayCoverage(until, year, entered, entered == 0 and today > until - timedelta(days=warn_days))


def _local(cal: BusinessCalendar, moment: datetime) -> datetime:
    """Convert an aware datetime to the calendar's zone, refusing naive ones."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} refused: give a timezone")
    return moment.astimezone(cal.tz)


def _at(cal: BusinessCalendar, d: date, t: time) -> datetime:
    """Return local wall-clock time ``t`` on day ``d`` in the calendar's zone."""
    return datetime.combine(d, t, tzinfo=cal.tz)


def _utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC."""
    # Arithmetic between datetimes sharing one tzinfo is wall-clock arithmetic;
    # going through UTC keeps durations true across any DST change.
    return moment.astimezone(timezone.utc)


def _window(cal: BusinessCalendar, d: date) -> tuple[datetime, datetime]:
    """Return the UTC start and end of working hours on day ``d``."""
    return _utc(_at(cal, d, cal.day_start)), _utc(_at(cal, d, cal.day_end))


def receipt_instant(cal: BusinessCalendar, now: datetime, received: str | date | datetime) -> datetime:
    """Return the instant a complaint was received, from the intake's receipt date or time (N-4: 自接到投诉之日起).

    An aware date-time is itself; a date is ``now`` when it is the local date of ``now`` (registered the day it
    came in) and the start of that local day when it is earlier. A receipt after ``now`` is refused.
    """
    if isinstance(received, str):
        text = received.strip()
        received = datetime.fromisoformat(text) if "T" in text or " " in text else date.fromisoformat(text)
    if isinstance(received, datetime):
        moment = _local(cal, received)
    else:
        today = _local(cal, now).date()
        moment = _local(cal, now) if received == today else datetime.combine(received, time(0), tzinfo=cal.tz)
    if moment > _local(cal, now):
        raise ValueError(f"the complaint cannot be received after it is registered: {received} > {now.isoformat()}")
    return moment


def due_in_working_days(cal: BusinessCalendar, now: datetime, n: int) -> datetime:
    """Return the end of working hours of the ``n``th working day after the receipt day.

    Counting starts at the first working day after the day of ``now`` (local
    date), whatever the time of receipt and also when ``now`` falls on a day off
    (N-4, N-8, C-7).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer of working days, got {n!r}")
    d = _local(cal, now).date()
    for _ in range(n):
        d = cal.next_workday(d)
    return _at(cal, d, cal.day_end)


def clock_hours(cal: BusinessCalendar, now: datetime, hours: float) -> datetime:
    """Return ``now`` plus ``hours`` of elapsed time, ignoring the calendar (C-3, C-4)."""
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return (_utc(_local(cal, now)) + timedelta(hours=hours)).astimezone(cal.tz)


def working_hours(cal: BusinessCalendar, now: datetime, hours: float) -> datetime:
    """Return the instant ``hours`` of working time after ``now`` (N-12).

    Only time inside working hours of working days counts; a start before
    ``day_start`` counts from ``day_start`` and a start after ``day_end`` from
    the next working day's ``day_start``.
    """
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return add_working_seconds(cal, now, hours * 3600)


def next_day_at(cal: BusinessCalendar, now: datetime, hhmm: str) -> datetime:
    """Return local time ``hhmm`` on the next calendar day, or next working day if configured (Q-2).

    With ``cal.next_day_working`` False it is the day after ``now``'s local
    date; with it True, the first working day after that date.
    """
    try:
        at = time.fromisoformat(hhmm)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"time of day must look like '17:00', got {hhmm!r}") from exc
    if at.tzinfo is not None:
        raise ValueError(f"time of day is local to the calendar, got {hhmm!r}")
    today = _local(cal, now).date()
    day = cal.next_workday(today) if cal.next_day_working else today + ONE_DAY
    return _at(cal, day, at)


def working_seconds_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Return the whole seconds of working time between ``start`` and ``end``.

    Only time inside working hours of working days counts. The result is
    negative when ``end`` is before ``start`` (e.g. how far overdue).
    """
    lo, hi = _local(cal, start), _local(cal, end)
    if hi < lo:
        return -working_seconds_between(cal, end, start)
    total = timedelta()
    d = lo.date()
    while d <= hi.date():
        if cal.is_workday(d):
            open_, close = _window(cal, d)
            begin, finish = max(_utc(lo), open_), min(_utc(hi), close)
            if finish > begin:
                total += finish - begin
        d += ONE_DAY
    return int(total.total_seconds())


def add_working_seconds(cal: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """Return the earliest instant after ``start`` with ``seconds`` of working time elapsed.

    Inverse of ``working_seconds_between``: for ``end`` with
    ``day_start < end <= day_end`` on a working day,
    ``add_working_seconds(cal, s, working_seconds_between(cal, s, end)) == end``.
    Being the earliest such instant, a result lands on ``day_end`` rather than
    the next ``day_start``; zero seconds returns ``start`` itself.
    """
    if seconds < 0:
        raise ValueError(f"seconds must not be negative, got {seconds!r}")
    moment = _local(cal, start)
    remaining = timedelta(seconds=seconds)
    if not remaining:
        return moment
    d = moment.date()
    while True:
        if cal.is_workday(d):
            open_, close = _window(cal, d)
            begin = max(_utc(moment), open_)
            if begin < close:
                if remaining <= close - begin:
                    return (begin + remaining).astimezone(cal.tz)
                remaining -= close - begin
        d += ONE_DAY


def resume_due(
    cal: BusinessCalendar, due: datetime, paused_at: datetime, resumed_at: datetime
) -> datetime:
    """Return the due time after a pause, keeping the working time left at pause (N-4).

    A deadline already passed when the clock was paused stays where it was.
    """
    remaining = working_seconds_between(cal, paused_at, due)
    if remaining <= 0:
        return _local(cal, due)
    return add_working_seconds(cal, resumed_at, remaining)


def load_overrides(rows: Iterable[Mapping[str, object]]) -> dict[date, bool]:
    """Parse administrator rows ``{"date": "2025-01-26", "workday": true}`` into overrides.

    ``date`` is an ISO date string or a ``date``; ``workday`` is a boolean;
    other keys (``note``, ids) are ignored. A bad or repeated row raises
    ValueError naming its 1-based position.
    """
    result: dict[date, bool] = {}
    first_row: dict[date, int] = {}
    for number, row in enumerate(rows, start=1):
        day, workday = _parse_override_row(number, row)
        if day in result:
            raise ValueError(
                f"override row {number}: date {day.isoformat()} already given in row "
                f"{first_row[day]}"
            )
        result[day], first_row[day] = workday, number
    return result


def _parse_override_row(number: int, row: object) -> tuple[date, bool]:
    """Return the date and workday flag of one override row, or raise ValueError."""
    where = f"override row {number} ({row!r})"
    if not isinstance(row, Mapping):
        raise ValueError(f"{where}: expected a mapping with 'date' and 'workday'")
    for key in ("date", "workday"):
        if key not in row:
            raise ValueError(f"{where}: missing '{key}'")
    raw_day, workday = row["date"], row["workday"]
    if isinstance(raw_day, datetime) or not isinstance(raw_day, (str, date)):
        raise ValueError(f"{where}: 'date' must be an ISO date like '2025-01-26'")
    try:
        day = raw_day if isinstance(raw_day, date) else date.fromisoformat(raw_day)
    except ValueError as exc:
        raise ValueError(f"{where}: 'date' is not an ISO date like '2025-01-26'") from exc
    if not isinstance(workday, bool):
        # "false" as a string would be truthy: refuse rather than guess.
        raise ValueError(f"{where}: 'workday' must be true or false, got {workday!r}")
    return day, workday
