"""Deadlines in Chinese working days through the engine: timers across holidays, pause/resume, extension (N-4)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from engine.services import SYSTEM, Actor, InvalidRequest, PermissionDenied
from tests.conftest import SHANGHAI, fixture_bytes


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@pytest.fixture
def deployed(engine):
    engine.admin.deploy(fixture_bytes("deadline.bpmn"), "deadline.bpmn")
    return engine


def _timer_due(engine, case_id: int, element_id: str) -> datetime:
    return next(t.due_at for t in engine.reads.case_page(case_id, SYSTEM).timers if t.element_id == element_id)


def _fired(engine, case_id: int) -> list[str]:
    return [e.element_id for e in engine.reads.case_page(case_id, SYSTEM).events if e.lifecycle == "timer_fired"]


def test_n4_three_working_day_reply_timer_fires_at_the_end_of_the_third_working_day_across_national_day(
        deployed, clock):
    clock.set(at(2025, 9, 30, 10, 0))      # Tuesday before National Day (10-01..10-08 off, Sat 10-11 worked)
    case_id = deployed.cases.start("deadline_demo", {}).id
    due = at(2025, 10, 11, 18, 0)          # Thu 10-09, Fri 10-10, make-up Saturday 10-11, end of working hours
    assert _timer_due(deployed, case_id, "d_overdue") == due
    assert deployed.reads.case_page(case_id, SYSTEM).tasks[0].due_at == due
    assert deployed.deadlines.fire_due_timers(due - timedelta(seconds=1))["fired"] == 1     # only the 24 h reminder
    assert _fired(deployed, case_id) == ["d_verify"]
    assert deployed.deadlines.fire_due_timers(due + timedelta(seconds=1))["fired"] == 1
    assert _fired(deployed, case_id) == ["d_verify", "d_overdue"]
    assert deployed.reads.case_page(case_id, SYSTEM).case.status == "completed"


def test_n4_pause_of_two_working_days_moves_the_due_time_by_two_working_days(deployed, clock, handler):
    clock.set(at(2025, 3, 3, 9, 0))        # Monday; reply due Thursday 03-06 18:00, verification Tuesday 09:00
    case_id = deployed.cases.start("deadline_demo", {}).id
    assert _timer_due(deployed, case_id, "d_overdue") == at(2025, 3, 6, 18, 0)
    clock.set(at(2025, 3, 3, 15, 0))       # 30 working hours and 18 clock hours left
    assert deployed.deadlines.pause(case_id, "customer unreachable by phone", handler).status == "paused"
    assert deployed.deadlines.fire_due_timers(at(2025, 3, 7, 12, 0))["fired"] == 0          # past the old dues: nothing fires
    clock.set(at(2025, 3, 5, 15, 0))       # two working days later
    assert deployed.deadlines.resume(case_id, handler).status == "running"
    assert _timer_due(deployed, case_id, "d_overdue") == at(2025, 3, 10, 18, 0)   # Thursday + 2 working days
    assert _timer_due(deployed, case_id, "d_verify") == at(2025, 3, 6, 9, 0)      # clock timer: 18 h after resume
    assert deployed.reads.case_page(case_id, SYSTEM).tasks[0].due_at == at(2025, 3, 10, 18, 0)
    events = deployed.reads.case_page(case_id, SYSTEM).events
    paused = next(e for e in events if e.lifecycle == "paused")
    assert (paused.actor, paused.data["reason"]) == ("hans", "customer unreachable by phone")
    assert paused.data["remaining_seconds"] == {"d_overdue": 30 * 3600, "d_verify": 18 * 3600}
    assert [e.actor for e in events if e.lifecycle == "resumed"] == ["hans"]
    assert deployed.deadlines.fire_due_timers(at(2025, 3, 10, 17, 59))["fired"] == 1        # the reminder only
    assert deployed.deadlines.fire_due_timers(at(2025, 3, 10, 18, 1))["fired"] == 1
    assert _fired(deployed, case_id) == ["d_verify", "d_overdue"]


def test_n4_a_deadline_passed_before_the_pause_fires_and_is_not_paused_away(deployed, clock, handler):
    clock.set(at(2025, 3, 3, 9, 0))
    case_id = deployed.cases.start("deadline_demo", {}).id
    clock.set(at(2025, 3, 4, 10, 0))       # the 24 h verification passed an hour ago; no sweep ran since
    deployed.deadlines.pause(case_id, "customer abroad", handler)
    assert _fired(deployed, case_id) == ["d_verify"]
    assert [t.element_id for t in deployed.reads.case_page(case_id, SYSTEM).timers] == ["d_overdue"]
    clock.set(at(2025, 3, 7, 10, 0))       # the reply deadline passes while paused: it must not fire
    assert deployed.deadlines.fire_due_timers(clock())["fired"] == 0
    deployed.deadlines.resume(case_id, handler)      # 2 working days + 8 h were left: due Tuesday 03-11 18:00
    assert _timer_due(deployed, case_id, "d_overdue") == at(2025, 3, 11, 18, 0)


def test_n4_pausing_a_case_whose_deadline_has_passed_ends_it_instead(deployed, clock, handler):
    clock.set(at(2025, 3, 3, 9, 0))
    case_id = deployed.cases.start("deadline_demo", {}).id
    clock.set(at(2025, 3, 7, 9, 0))        # past Thursday 18:00: the case escalates, it cannot be paused
    with pytest.raises(InvalidRequest):
        deployed.deadlines.pause(case_id, "too late", handler)
    assert deployed.deadlines.fire_due_timers(clock())["fired"] == 2
    assert deployed.reads.case_page(case_id, SYSTEM).case.status == "completed"


def test_n4_extension_needs_a_reason_and_moves_the_deadline_by_working_days(deployed, clock, handler):
    clock.set(at(2025, 3, 3, 9, 0))
    case_id = deployed.cases.start("deadline_demo", {}).id
    with pytest.raises(InvalidRequest):
        deployed.deadlines.extend(case_id, 2, "  ", handler, "d_overdue")
    deployed.deadlines.extend(case_id, 2, "complex case, customer agreed", handler, "d_overdue")
    assert _timer_due(deployed, case_id, "d_overdue") == at(2025, 3, 10, 18, 0)
    assert _timer_due(deployed, case_id, "d_verify") == at(2025, 3, 4, 9, 0)
    extended = [e for e in deployed.reads.case_page(case_id, SYSTEM).events if e.lifecycle == "extended"]
    assert extended[0].data["reason"] == "complex case, customer agreed"


def test_n4_only_someone_working_on_the_case_may_pause_it(deployed, clock):
    case_id = deployed.cases.start("deadline_demo", {}).id
    with pytest.raises(PermissionDenied):
        deployed.deadlines.pause(case_id, "why not", Actor("mia", frozenset({"market"})))


def test_an_administrators_day_off_moves_the_deadline(deployed, clock, admin, handler):
    clock.set(at(2025, 3, 3, 9, 0))
    with pytest.raises(PermissionDenied):
        deployed.deadlines.set_override(date(2025, 3, 5), False, "local holiday", handler)
    deployed.deadlines.set_override(date(2025, 3, 5), False, "local holiday", admin)
    case_id = deployed.cases.start("deadline_demo", {}).id
    assert _timer_due(deployed, case_id, "d_overdue") == at(2025, 3, 7, 18, 0)
    assert deployed.deadlines.overrides()[0].date == date(2025, 3, 5)
    deployed.deadlines.remove_override(date(2025, 3, 5), admin)
    assert _timer_due(deployed, deployed.cases.start("deadline_demo", {}).id, "d_overdue") == at(2025, 3, 6, 18, 0)
