"""Deadline adherence (及时率, SPEC A-2) per rule: met, missed and by how much, in working time where the rule
counts working days (N-8: call-back within 3 working days, 004 第十一条), across National Day 2025."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.services import PermissionDenied, Selection
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk, shipped_engine

MARKET = "complaint.billing.disputed_fees"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def shipped(db, clock):
    return shipped_engine(db, clock)


@pytest.fixture
def officer(shipped):
    return shipped.accounts.actor("qian.audit")


def at_callback(engine) -> Walk:
    return Walk.start(engine, "zhang.intake", MARKET).to_callback("li.handler", "wang.head")


def n8(report) -> list:
    return [r for r in report.rows if r.rule_id == "N-8"]


def test_n8_adherence_across_national_day_is_exact_to_the_minute(shipped, officer, clock):
    clock.set(at("2025-09-30T10:00:00"))            # Tue; 10-01..10-08 off, Sat 10-11 a make-up workday
    kept, late = at_callback(shipped), at_callback(shipped)
    assert kept.timers()["callback_due"] == at("2025-10-11T18:00:00")
    clock.set(at("2025-10-10T12:00:00"))
    kept.callback()
    clock.set(at("2025-10-11T18:01:00"))
    shipped.deadlines.fire_due_timers()             # the reminder fires: missed
    clock.set(at("2025-10-13T09:00:00"))
    waiting = at_callback(shipped)                  # due 10-16 18:00: still open
    clock.set(at("2025-10-13T10:30:00"))            # Mon: 09:00-10:30 is the only working time since the due
    late.callback()
    report = shipped.compliance.adherence(officer, Selection(process_key="normal"))
    [row] = n8(report)
    assert (row.month, row.kind, row.deadlines, row.met, row.missed, row.open) == ("2025-10", "working", 3, 1, 1, 1)
    assert (row.late_minutes, row.late_minutes_max, row.late_counted, row.rate) == (90, 90, 1, 0.5)
    assert [(m.case_id, m.rule_id, m.due_at, m.done_at, m.late_minutes) for m in report.missed
            if m.rule_id == "N-8"] == [(late.case_id, "N-8", at("2025-10-11T18:00:00"), at("2025-10-13T10:30:00"), 90)]
    assert waiting.timers()["callback_due"] == at("2025-10-16T18:00:00")


def test_n2_a_clock_hour_deadline_counts_clock_minutes(shipped, officer, clock):
    clock.set(at("2025-09-30T10:00:00"))
    walk = Walk.start(shipped, "zhang.intake", MARKET).accept("li.handler")
    clock.set(at("2025-10-01T11:00:00"))            # 25 h later, on a holiday: N-2 is 24 clock hours
    shipped.deadlines.fire_due_timers()
    clock.set(at("2025-10-01T12:15:00"))
    walk.investigate("li.handler")
    [row] = [r for r in shipped.compliance.adherence(officer).rows if r.rule_id == "N-2"]
    assert (row.kind, row.missed, row.late_minutes) == ("clock", 1, 135)


def test_n4_a_pause_moves_the_deadline_as_the_calendar_counts_and_the_reply_meets_it(shipped, officer, clock):
    clock.set(at("2025-09-29T09:00:00"))
    walk = Walk.start(shipped, "zhang.intake", MARKET).accept("li.handler")
    handler = shipped.accounts.actor("li.handler")
    shipped.deadlines.pause(walk.case_id, "等待客户提供材料", handler)
    clock.set(at("2025-10-09T09:00:00"))            # paused over the holiday
    shipped.deadlines.resume(walk.case_id, handler)
    due = walk.timers()["reply_deadline"]
    assert due > at("2025-10-09T09:00:00")
    clock.set(due.replace(minute=0) if due.minute else due)
    walk.investigate("li.handler").reply("li.handler")
    report = shipped.compliance.adherence(officer)
    [row] = [r for r in report.rows if r.rule_id == "N-4"]
    assert (row.deadlines, row.met, row.missed, row.kind) == (1, 1, 0, "working")
    assert not [m for m in report.missed if m.rule_id == "N-4"]


def test_adherence_is_for_the_compliance_group(shipped):
    with pytest.raises(PermissionDenied):
        shipped.compliance.adherence(shipped.accounts.actor("li.handler"))
