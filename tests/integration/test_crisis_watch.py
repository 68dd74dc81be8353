"""C-2: the system counts complaints per category per day and escalations per category per month and starts
the crisis process itself — once per category and day, not once per complaint."""

from __future__ import annotations

import pytest

from engine.services import SYSTEM, crisis
from tests.conftest import fixture_bytes

SIGNAL = "complaint.network.signal"


@pytest.fixture
def watch(engine):
    """Deployed processes and thresholds: the parallel fixture stands in for the crisis process."""
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    engine.admin.deploy(fixture_bytes("parallel.bpmn"), "parallel.bpmn")
    return crisis.CrisisRules("parallel_demo", daily_complaints=100, monthly_escalations=5,
                              escalation_marker="reply", every_minutes=10)


def _complaints(engine, count: int, category: str) -> list[int]:
    return [engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market", "category": category}).id
            for _ in range(count)]


def _crises(engine, watch) -> list[int]:
    return engine.deadlines.detect_crises(watch)


def test_c2_hundred_complaints_of_one_category_in_a_day_start_one_crisis(engine, watch, clock):
    _complaints(engine, 99, SIGNAL)
    _complaints(engine, 100, "complaint.billing.disputed_fees")
    clock.advance(minutes=1)
    started = _crises(engine, watch)
    assert len(started) == 1
    detail = engine.reads.case_page(started[0], SYSTEM)
    assert (detail.case.process_key, detail.case.data["crisis_category"]) == ("parallel_demo",
                                                                              "complaint.billing.disputed_fees")
    assert detail.case.data["complaint_count"] == 100 and detail.case.data["trigger"] == "daily_complaints"
    _complaints(engine, 1, SIGNAL)
    clock.advance(minutes=1)
    assert [engine.reads.case_page(c, SYSTEM).case.data["crisis_category"] for c in _crises(engine, watch)] == [SIGNAL]
    _complaints(engine, 50, SIGNAL)
    assert _crises(engine, watch) == []                 # once per category and day
    clock.advance(days=1)
    assert _crises(engine, watch) == []                 # yesterday's count does not carry over
    _complaints(engine, 100, SIGNAL)
    clock.advance(minutes=1)
    assert len(_crises(engine, watch)) == 1


def test_c2_five_escalations_on_one_issue_in_a_month_start_a_crisis(engine, watch, clock, handler):
    case_ids = _complaints(engine, 5, SIGNAL)
    first_four = [t for t in engine.reads.inbox(handler).tasks if t.case_id in case_ids[:4]]
    for task in first_four:                             # four reach the marker element ("escalation")
        engine.cases.complete(task.id, {"note": "ok", "info_sufficient": True}, handler)
    clock.advance(minutes=1)
    assert _crises(engine, watch) == []
    last = [t for t in engine.reads.inbox(handler).tasks if t.case_id == case_ids[-1]][0]
    engine.cases.complete(last.id, {"note": "ok", "info_sufficient": True}, handler)
    clock.advance(minutes=1)
    started = _crises(engine, watch)
    assert len(started) == 1 and engine.reads.case_page(started[0], SYSTEM).case.data["trigger"] == "monthly_escalations"


def test_c2_the_engine_runs_the_watch_with_the_shipped_thresholds(engine, clock, tmp_path):
    rules = tmp_path / "crisis.toml"
    rules.write_text('process = "parallel_demo"\ndaily_complaints_per_category = 3\n'
                     'monthly_escalations_per_category = 5\nescalation_marker_element = "reply"\n', encoding="utf-8")
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    engine.admin.deploy(fixture_bytes("parallel.bpmn"), "parallel.bpmn")
    _complaints(engine, 3, SIGNAL)
    clock.advance(minutes=1)
    assert len(engine.deadlines.detect_crises(rules)) == 1
    assert engine.deadlines.detect_crises(rules) == []


def test_c2_two_categories_over_the_threshold_in_one_watch_start_two_crises(engine, watch, clock):
    """One watch, one transaction, two start_case commands in it (the plain store commits only at its end)."""
    rules = crisis.CrisisRules("parallel_demo", daily_complaints=3, monthly_escalations=5, escalation_marker="reply",
                               every_minutes=10)
    _complaints(engine, 3, SIGNAL)
    _complaints(engine, 3, "complaint.billing.disputed_fees")
    clock.advance(minutes=1)
    started = engine.deadlines.detect_crises(rules)
    categories = [engine.reads.case_page(c, SYSTEM).case.data["crisis_category"] for c in started]
    assert categories == ["complaint.billing.disputed_fees", SIGNAL]
    assert [engine.reads.case_page(c, SYSTEM).case.status for c in started] == ["running", "running"]
    assert engine.deadlines.detect_crises(rules) == []


@pytest.mark.slow
def test_c2_c1_the_shipped_watch_over_two_days_and_a_month(db, clock):
    """C-1 b, C-2 with the shipped data/crisis.toml and crisis.bpmn, complaints through the shipped normal.bpmn:
    complaints only are counted; a category gets one crisis a day for its daily count and one a month for its
    escalations (003 预警级别 三级: 当天>=100件 / 月升级>=5件)."""
    from datetime import datetime

    from tests.conftest import SHANGHAI
    from tests.processes.casewalk import ROOT, Walk, shipped_engine

    engine = shipped_engine(db, clock)
    rules = ROOT / "data" / "crisis.toml"
    market = "complaint.billing.disputed_fees"

    def started() -> list[tuple[str, str]]:
        clock.advance(minutes=1)
        return [(engine.reads.case_page(c, SYSTEM).case.data["crisis_category"],
                 engine.reads.case_page(c, SYSTEM).case.data["trigger"]) for c in engine.deadlines.detect_crises(rules)]

    def complaints(count: int, category: str, **extra) -> None:
        for _ in range(count):
            Walk.start(engine, "zhang.intake", category, **extra)

    complaints(100, "consultation.billing")         # consultations are not counted (not 投诉)
    complaints(99, SIGNAL)
    assert started() == []
    complaints(1, SIGNAL)
    assert started() == [(SIGNAL, "daily_complaints")]
    complaints(5, market, amount=2500)              # major: five escalations (E-1 hand-over) this month
    assert started() == [(market, "monthly_escalations")]
    crises = [c for c in engine.reads.case_list(SYSTEM, limit=1000) if c.process_key == "crisis"]
    assert len(crises) == 2 and all(engine.reads.case_page(c.id, SYSTEM).case.status == "running" for c in crises)

    clock.set(datetime(2025, 3, 4, 9, 0, tzinfo=SHANGHAI))             # the next day
    assert started() == []                          # the month's five escalations gave their crisis already
    complaints(100, SIGNAL)
    assert started() == [(SIGNAL, "daily_complaints")]                  # a new day, a new daily count

    clock.set(datetime(2025, 4, 1, 9, 0, tzinfo=SHANGHAI))             # the next month
    complaints(4, market, amount=2500)
    assert started() == []                          # March's escalations do not count in April
    complaints(1, market, amount=2500)
    assert started() == [(market, "monthly_escalations")]
