"""Business calendar: working days, 调休 and deadlines (SPEC N-4, N-8, N-12, Q-2, C-3..C-7)."""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.rules.calendar import (
    BusinessCalendar,
    add_working_seconds,
    clock_hours,
    due_in_working_days,
    load_overrides,
    next_day_at,
    resume_due,
    working_hours,
    working_seconds_between,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()
NEXT_WORKING_CAL = BusinessCalendar(next_day_working=True)
HOUR = 3600


def at(text: str) -> datetime:
    """Return a Shanghai-local aware datetime from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def d(text: str) -> date:
    """Return a date from 'YYYY-MM-DD'."""
    return date.fromisoformat(text)


# --- working days: package data, 调休, overrides -------------------------------

SPRING_FESTIVAL_2025 = [
    ("2025-01-24", True),   # Friday before
    ("2025-01-25", False),  # ordinary Saturday
    ("2025-01-26", True),   # Sunday make-up workday (调休)
    ("2025-01-27", True),
    ("2025-01-28", False),  # first day off
    ("2025-01-31", False),
    ("2025-02-03", False),  # a Monday inside the holiday
    ("2025-02-04", False),  # last day off
    ("2025-02-05", True),
    ("2025-02-08", True),   # Saturday make-up workday (调休)
    ("2025-02-09", False),
]

NATIONAL_DAY_2025 = [
    ("2025-09-27", False),  # ordinary Saturday
    ("2025-09-28", True),   # Sunday make-up workday (调休)
    ("2025-09-30", True),
    ("2025-10-01", False),  # first day off
    ("2025-10-06", False),  # a Monday inside the holiday
    ("2025-10-08", False),  # last day off
    ("2025-10-09", True),
    ("2025-10-11", True),   # Saturday make-up workday (调休)
    ("2025-10-12", False),
]


@pytest.mark.parametrize(("day", "workday"), SPRING_FESTIVAL_2025)
def test_spring_festival_2025_days_off_and_makeup_workdays_come_from_package(day, workday):
    """Statutory holidays and 调休 are package data, not typed in (issue 5)."""
    assert CAL.is_workday(d(day)) is workday


@pytest.mark.parametrize(("day", "workday"), NATIONAL_DAY_2025)
def test_national_day_2025_days_off_and_makeup_workdays_come_from_package(day, workday):
    assert CAL.is_workday(d(day)) is workday


def test_override_weekend_marked_workday_is_a_workday():
    """A date an administrator marks a workday is one even on a weekend (issue 5)."""
    saturday = d("2025-03-01")
    assert not CAL.is_workday(saturday)
    assert BusinessCalendar(overrides={saturday: True}).is_workday(saturday)


def test_override_ordinary_weekday_marked_day_off_is_not_a_workday():
    wednesday = d("2025-03-05")
    assert CAL.is_workday(wednesday)
    assert not BusinessCalendar(overrides={wednesday: False}).is_workday(wednesday)


@pytest.mark.parametrize(("day", "marked"), [("2025-10-01", True), ("2025-02-08", False)])
def test_override_wins_over_package_holiday_and_makeup_day(day, marked):
    assert BusinessCalendar(overrides={d(day): marked}).is_workday(d(day)) is marked


@pytest.mark.parametrize(
    ("day", "workday"),
    [("2100-03-01", True), ("2100-03-05", True), ("2100-03-06", False), ("1990-01-06", False)],
)
def test_years_outside_package_data_fall_back_to_monday_to_friday(day, workday):
    # 2100-03-01 is a Monday, 2100-03-06 a Saturday, 1990-01-06 a Saturday.
    assert CAL.is_workday(d(day)) is workday


def test_override_applies_outside_package_data_range():
    saturday = d("2100-03-06")
    assert BusinessCalendar(overrides={saturday: True}).is_workday(saturday)


def test_calendar_keeps_its_own_copy_of_overrides():
    table = {d("2025-03-05"): False}
    cal = BusinessCalendar(overrides=table)
    table[d("2025-03-05")] = True
    assert not cal.is_workday(d("2025-03-05"))


def test_is_workday_refuses_a_datetime_whose_date_depends_on_zone():
    with pytest.raises(TypeError):
        CAL.is_workday(at("2025-03-05 10:00"))


@pytest.mark.parametrize(("start", "end"), [(time(18), time(9)), (time(9), time(9))])
def test_calendar_refuses_working_hours_that_end_before_they_start(start, end):
    with pytest.raises(ValueError, match="day_start"):
        BusinessCalendar(day_start=start, day_end=end)


# --- "within N working days of receipt" (N-4, N-8, C-7) ---------------------


@pytest.mark.parametrize(
    ("received", "n", "due"),
    [
        # Receipt before, during and after working hours count the same.
        ("2025-03-03 07:30", 3, "2025-03-06 18:00"),
        ("2025-03-03 10:00", 3, "2025-03-06 18:00"),
        ("2025-03-03 20:15", 3, "2025-03-06 18:00"),
        # Receipt on Friday: the weekend does not count.
        ("2025-03-07 11:00", 3, "2025-03-12 18:00"),
        # Receipt on a Saturday: counting starts on Monday.
        ("2025-03-08 11:00", 1, "2025-03-10 18:00"),
    ],
)
def test_n4_working_days_count_from_the_first_working_day_after_receipt_day(received, n, due):
    assert due_in_working_days(CAL, at(received), n) == at(due)


def test_n4_three_working_days_across_national_day():
    """Tue 09-30 receipt: 10-09, 10-10, then make-up Saturday 10-11."""
    assert due_in_working_days(CAL, at("2025-09-30 10:00"), 3) == at("2025-10-11 18:00")


def test_n4_receipt_on_a_holiday_counts_from_the_first_working_day_after_it():
    assert due_in_working_days(CAL, at("2025-10-03 15:00"), 3) == at("2025-10-11 18:00")


def test_n4_receipt_on_a_makeup_sunday_counts_from_the_next_working_day():
    assert due_in_working_days(CAL, at("2025-09-28 10:00"), 3) == at("2025-10-09 18:00")


@pytest.mark.parametrize(
    ("kind", "n", "due"),
    [
        # Fri 01-24: make-up Sunday 01-26, 01-27, then after the holiday 02-05...
        ("general", 3, "2025-02-05 18:00"),
        ("major", 5, "2025-02-07 18:00"),
        ("complex", 7, "2025-02-10 18:00"),  # 7th is Mon 02-10: make-up Sat 02-08 was 6th
    ],
)
def test_n4_general_major_complex_limits_across_spring_festival(kind, n, due):
    assert due_in_working_days(CAL, at("2025-01-24 16:00"), n) == at(due)


def test_n8_callback_three_working_days_after_feedback_uses_same_convention():
    assert due_in_working_days(CAL, at("2025-02-07 17:59"), 3) == at("2025-02-11 18:00")


def test_c7_summary_three_working_days_after_closing_skips_override_day_off():
    cal = BusinessCalendar(overrides={d("2025-03-04"): False})
    assert due_in_working_days(cal, at("2025-03-03 12:00"), 3) == at("2025-03-07 18:00")


def test_receipt_day_is_the_local_date_of_an_instant_given_in_another_zone():
    # 2025-03-02 17:30Z is Monday 01:30 in Shanghai, not Sunday.
    received = datetime(2025, 3, 2, 17, 30, tzinfo=timezone.utc)
    due = due_in_working_days(CAL, received, 3)
    assert due == at("2025-03-06 18:00")
    assert due.tzinfo == SH and due.isoformat() == "2025-03-06T18:00:00+08:00"


def test_due_uses_configured_day_end_and_zone():
    hk = ZoneInfo("Asia/Hong_Kong")
    cal = BusinessCalendar(tz=hk, day_start=time(8, 30), day_end=time(17, 30))
    due = due_in_working_days(cal, at("2025-03-03 10:00"), 1)
    assert due == datetime(2025, 3, 4, 17, 30, tzinfo=hk)


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_working_day_count_must_be_a_positive_integer(n):
    with pytest.raises(ValueError):
        due_in_working_days(CAL, at("2025-03-03 10:00"), n)


# --- clock hours (C-3, C-4) -------------------------------------------------


@pytest.mark.parametrize(
    ("now", "hours", "due"),
    [
        ("2025-10-01 23:30", 2, "2025-10-02 01:30"),  # C-4 on a holiday night
        ("2025-03-07 17:45", 1, "2025-03-07 18:45"),  # C-3 past day_end
        ("2025-03-08 10:00", 0.5, "2025-03-08 10:30"),
    ],
)
def test_c3_c4_clock_hours_are_plain_durations_ignoring_calendar(now, hours, due):
    assert clock_hours(CAL, at(now), hours) == at(due)


def test_clock_hours_returns_calendar_zone_for_utc_input():
    result = clock_hours(CAL, datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc), 1)
    assert result.isoformat() == "2025-03-03T11:00:00+08:00"


# --- working hours (N-12) ---------------------------------------------------


@pytest.mark.parametrize(
    ("now", "hours", "due"),
    [
        ("2025-03-04 16:00", 4, "2025-03-05 11:00"),  # across the night
        ("2025-03-07 15:00", 6, "2025-03-10 12:00"),  # across the weekend (network dept 6 h)
        ("2025-03-04 07:00", 2, "2025-03-04 11:00"),  # start before day_start
        ("2025-03-04 20:00", 2, "2025-03-05 11:00"),  # start after day_end
        ("2025-03-08 10:00", 1, "2025-03-10 10:00"),  # start on a Saturday
        ("2025-03-04 14:00", 4, "2025-03-04 18:00"),  # fills the day exactly: due at day_end
        ("2025-01-27 17:00", 2, "2025-02-05 10:00"),  # across Spring Festival
        ("2025-02-07 17:00", 2, "2025-02-08 10:00"),  # into a make-up Saturday
        ("2025-03-04 10:00", 2, "2025-03-04 12:00"),  # group-customer dept 2 h
    ],
)
def test_n12_working_hours_count_only_inside_working_hours_of_working_days(now, hours, due):
    assert working_hours(CAL, at(now), hours) == at(due)


def test_working_hours_refuses_negative_hours():
    with pytest.raises(ValueError):
        working_hours(CAL, at("2025-03-04 10:00"), -1)


# --- "next day 17:00" (Q-2) -------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "now", "due"),
    [
        (CAL, "2025-03-07 10:00", "2025-03-08 17:00"),  # Friday -> Saturday
        (CAL, "2025-09-30 23:50", "2025-10-01 17:00"),  # eve of a holiday
        (CAL, "2025-03-04 00:05", "2025-03-05 17:00"),
        (NEXT_WORKING_CAL, "2025-03-07 10:00", "2025-03-10 17:00"),  # Friday -> Monday
        (NEXT_WORKING_CAL, "2025-09-30 23:50", "2025-10-09 17:00"),  # over National Day
        (NEXT_WORKING_CAL, "2025-02-07 10:00", "2025-02-08 17:00"),  # make-up Saturday
        (NEXT_WORKING_CAL, "2025-03-04 10:00", "2025-03-05 17:00"),
    ],
)
def test_q2_next_day_17_calendar_day_or_next_working_day_by_configuration(cal, now, due):
    assert next_day_at(cal, at(now), "17:00") == at(due)


def test_q2_next_day_uses_local_date_of_utc_input():
    # 2025-03-03 16:30Z is Tuesday 00:30 in Shanghai: next day is Wednesday.
    now = datetime(2025, 3, 3, 16, 30, tzinfo=timezone.utc)
    assert next_day_at(CAL, now, "17:00").isoformat() == "2025-03-05T17:00:00+08:00"


@pytest.mark.parametrize("bad", ["5pm", "25:00", "", "17:00+08:00"])
def test_next_day_at_refuses_a_malformed_time_of_day(bad):
    with pytest.raises(ValueError):
        next_day_at(CAL, at("2025-03-04 10:00"), bad)


# --- pause and resume (N-4) -------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2025-03-04 10:00", "2025-03-04 12:30", 2.5 * HOUR),
        ("2025-03-04 16:00", "2025-03-05 11:00", 4 * HOUR),  # overnight
        ("2025-03-07 17:00", "2025-03-10 10:00", 2 * HOUR),  # weekend
        ("2025-09-30 17:00", "2025-10-09 09:30", 1.5 * HOUR),  # National Day
        ("2025-03-08 10:00", "2025-03-08 15:00", 0),  # all on a Saturday
        ("2025-03-04 19:00", "2025-03-05 08:00", 0),  # all at night
        ("2025-03-04 07:00", "2025-03-04 20:00", 9 * HOUR),  # whole working day
        ("2025-03-05 12:00", "2025-03-04 12:00", -9 * HOUR),  # reversed: negative
    ],
)
def test_n4_working_seconds_between_counts_only_working_time(start, end, seconds):
    assert working_seconds_between(CAL, at(start), at(end)) == seconds


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-03-04 10:00", "2025-03-04 17:15"),
        ("2025-03-04 16:00", "2025-03-05 11:00"),
        ("2025-03-07 20:00", "2025-03-10 09:01"),
        ("2025-01-27 17:00", "2025-02-08 18:00"),  # Spring Festival to make-up Saturday
        ("2025-09-27 12:00", "2025-10-11 13:45"),  # weekend, make-up days, National Day
        ("2025-03-04 14:00", "2025-03-04 18:00"),  # ends exactly at day_end
    ],
)
def test_n4_add_working_seconds_inverts_working_seconds_between(start, end):
    seconds = working_seconds_between(CAL, at(start), at(end))
    assert add_working_seconds(CAL, at(start), seconds) == at(end)


def test_add_zero_working_seconds_returns_start_unchanged():
    assert add_working_seconds(CAL, at("2025-03-08 10:00"), 0) == at("2025-03-08 10:00")


def test_n4_pause_of_two_working_days_moves_due_by_exactly_two_working_days():
    received = at("2025-03-03 10:00")
    due = due_in_working_days(CAL, received, 3)
    assert due == at("2025-03-06 18:00")
    # Waiting on the customer from Tue 11:00 to Thu 11:00: two working days.
    paused, resumed = at("2025-03-04 11:00"), at("2025-03-06 11:00")
    remaining = working_seconds_between(CAL, paused, due)
    assert remaining == 25 * HOUR
    new_due = add_working_seconds(CAL, resumed, remaining)
    assert new_due == at("2025-03-10 18:00")  # Thu -> Fri -> Mon
    assert working_seconds_between(CAL, due, new_due) == 2 * 9 * HOUR
    assert resume_due(CAL, due, paused, resumed) == new_due


def test_n4_pause_over_national_day_loses_no_working_time():
    due = due_in_working_days(CAL, at("2025-09-26 10:00"), 3)
    assert due == at("2025-09-30 18:00")  # make-up Sunday 09-28, 09-29, 09-30
    # Paused Mon 09-29 12:00, resumed on the first working day after the holiday.
    new_due = resume_due(CAL, due, at("2025-09-29 12:00"), at("2025-10-09 09:00"))
    assert new_due == at("2025-10-10 15:00")  # 6 h + 9 h left = 15 h


def test_n4_resume_keeps_a_due_time_already_passed_at_pause():
    due = at("2025-03-04 18:00")
    assert resume_due(CAL, due, at("2025-03-05 10:00"), at("2025-03-06 10:00")) == due


# --- inputs -----------------------------------------------------------------

NAIVE = datetime(2025, 3, 4, 10, 0)
AWARE = at("2025-03-04 10:00")


@pytest.mark.parametrize(
    "call",
    [
        lambda: due_in_working_days(CAL, NAIVE, 3),
        lambda: clock_hours(CAL, NAIVE, 1),
        lambda: working_hours(CAL, NAIVE, 1),
        lambda: next_day_at(CAL, NAIVE, "17:00"),
        lambda: working_seconds_between(CAL, NAIVE, AWARE),
        lambda: working_seconds_between(CAL, AWARE, NAIVE),
        lambda: add_working_seconds(CAL, NAIVE, 60),
        lambda: resume_due(CAL, AWARE, NAIVE, AWARE),
    ],
    ids=["due", "clock", "working_hours", "next_day",
         "between_start", "between_end", "add", "resume"],
)
def test_naive_datetime_is_refused(call):
    with pytest.raises(ValueError, match="naive"):
        call()


# --- override table ---------------------------------------------------------


def test_load_overrides_parses_administrator_rows_into_a_calendar():
    rows = [
        {"date": "2025-01-26", "workday": True, "note": "春节调休"},
        {"date": date(2025, 3, 5), "workday": False, "note": "local day off", "id": 7},
    ]
    overrides = load_overrides(rows)
    assert overrides == {d("2025-01-26"): True, d("2025-03-05"): False}
    assert not BusinessCalendar(overrides=overrides).is_workday(d("2025-03-05"))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"workday": True}], r"row 1 .*missing 'date'"),
        ([{"date": "2025-01-26"}], r"row 1 .*missing 'workday'"),
        ([{"date": "2025-01-26", "workday": True}, {"date": "26/01/2025", "workday": True}],
         r"row 2 .*ISO date"),
        ([{"date": 20250126, "workday": True}], r"row 1 .*ISO date"),
        ([{"date": datetime(2025, 1, 26), "workday": True}], r"row 1 .*ISO date"),
        ([{"date": "2025-01-26", "workday": "false"}], r"row 1 .*true or false"),
        ([{"date": "2025-01-26", "workday": 1}], r"row 1 .*true or false"),
        ([{"date": "2025-01-26", "workday": True}, {"date": "2025-01-26", "workday": False}],
         r"row 2: date 2025-01-26 already given in row 1"),
        ([("2025-01-26", True)], r"row 1 .*mapping"),
    ],
)
def test_load_overrides_names_the_bad_row(rows, message):
    with pytest.raises(ValueError, match=message):
        load_overrides(rows)


def test_n4_next_years_holidays_are_due_sixty_days_before_the_packages_data_ends():
    """chinesecalendar 1.11.0 knows the State Council's notices until 2026: 2027 must be entered as overrides."""
    from engine.rules.calendar import holiday_coverage, statutory_data_until

    assert statutory_data_until() == date(2026, 12, 31)
    plain = BusinessCalendar()
    assert holiday_coverage(plain, date(2026, 11, 1)).due is False
    assert holiday_coverage(plain, date(2026, 11, 2)).due is True
    assert holiday_coverage(plain, date(2027, 3, 1)).due is True
    entered = BusinessCalendar(overrides={date(2027, 1, 1): False, date(2027, 2, 7): True})
    coverage = holiday_coverage(entered, date(2026, 12, 20))
    assert (coverage.due, coverage.next_year, coverage.overrides_next_year) == (False, 2027, 2)
