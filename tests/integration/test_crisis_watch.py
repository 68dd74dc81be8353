"""C-2: the system counts complaints per category per day and escalations per category per month and starts
the crisis process itself — once per category and day, not once per complaint."""

from __future__ import annotations

from pathlib import Path

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


LEVEL3_PEOPLE = ["ma.network", "qin.ops", "wei.aftersales", "zhao.group", "zhou.leader"]


def _level3_mail(engine, case_id: int) -> tuple[list[str], list[list[str]]]:
    """The c2_level3_warning notifications of a case, and the addresses the mail outbox sends them to."""
    from sqlalchemy import select

    from engine.store.models import MailOutbox, Notification

    engine.reports.queue_notifications()
    with engine.store_session() as session:
        rows = session.scalars(select(Notification).where(Notification.case_id == case_id,
                                                          Notification.template == "c2_level3_warning")
                               .order_by(Notification.recipient)).all()
        mails = [session.scalars(select(MailOutbox.recipients).where(MailOutbox.notification_id == n.id)).one()
                 for n in rows]
        return [n.recipient for n in rows], mails


def test_c1_level3_warning_notifies_leadership_the_department_head_operations_after_sales_and_complaint_heads(
        db, clock):
    """C-1 b with the shipped data/crisis.toml and crisis.bpmn (003 二: 投诉预警级别达到三级…通知公司高层分管领导;
    责任部门领导、主管;运营经理、售后经理、投诉主管): the watch's level-3 crisis tells exactly those people, one
    message each, by mail; a crisis of level 2 reported by hand tells none of them."""
    from tests.processes.casewalk import ROOT, Walk, shipped_engine

    engine = shipped_engine(db, clock)
    for _ in range(100):
        Walk.start(engine, "zhang.intake", SIGNAL)      # routed to the basic-network group: 网络部, ma.network
    clock.advance(minutes=1)
    [level3] = engine.deadlines.detect_crises(ROOT / "data" / "crisis.toml")
    case = engine.reads.case_page(level3, SYSTEM).case
    assert case.data["warning_level"] == 3 and sorted(case.data["warning_notified"]) == LEVEL3_PEOPLE
    assert case.data["warning_unreached"] == []
    people, mails = _level3_mail(engine, level3)
    assert people == LEVEL3_PEOPLE and mails == [[f"{p}@example.com"] for p in LEVEL3_PEOPLE]
    assert [t.element_id for t in engine.reads.case_page(level3, SYSTEM).tasks if t.state == "ready"] == ["report"]

    level2 = engine.cases.start("crisis", {"issue": "局部信号弱", "category": SIGNAL, "crisis_trigger": "manual",
                                           "warning_level": 2}, engine.accounts.actor("zhao.group")).id
    assert _level3_mail(engine, level2) == ([], [])
    page = engine.reads.case_page(level2, SYSTEM)
    assert "warning_notified" not in page.case.data
    assert [t.element_id for t in page.tasks if t.state == "ready"] == ["report"]


def test_c1_level3_recipients_of_another_form_are_refused_when_the_rules_are_read(tmp_path):
    from engine.rules.intake import RuleDataError

    shipped = (Path(__file__).parents[2] / "data" / "crisis.toml").read_text(encoding="utf-8")
    assert crisis.load_crisis_rules(Path(__file__).parents[2] / "data" / "crisis.toml").level3_recipients == (
        "group:leadership", "responsible_head", "group:operations_manager", "group:after_sales_manager",
        "head:complaint_management")
    for bad in ('"leadership"', '"group:"', '"boss:zhou.leader"', '3'):
        path = tmp_path / "crisis.toml"
        path.write_text(shipped.replace('"group:operations_manager"', bad), encoding="utf-8")
        with pytest.raises(RuleDataError, match=r"level3_recipients #3: .* is not a recipient \(group:<group>"):
            crisis.load_crisis_rules(path)
