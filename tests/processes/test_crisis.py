"""crisis.bpmn walked path by path through the real engine (SPEC §6, C-1, C-3..C-7; 003 危机投诉事件快速反应机制)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.store.models import Notification
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk, passes

SIGNAL = "complaint.network.signal"                 # routed to the basic-network group (tang.netbasic)


@pytest.fixture
def engine(walk_engine):
    return walk_engine


def crisis(engine) -> Walk:
    """C-1 (a, c): a crisis event reported by hand (the watch of C-2 starts the same process by itself)."""
    ref = engine.cases.start("crisis", {"issue": "基站故障致大面积无信号", "category": SIGNAL,
                                       "crisis_trigger": "manual"}, engine.accounts.actor("zhao.group"))
    return Walk(engine, ref.id)


def report(walk: Walk, nationwide: bool = False, clear: bool = True) -> Walk:
    return walk.do("report", "zhao.group", issue_description="基站故障", impact_scope="城东", complaint_count=120,
                   nationwide=nationwide, responsibility_clear=clear)


def remedy(walk: Walk) -> Walk:
    walk.do("explanation", "sun.pr", unified_explanation="因设备故障,正在抢修")
    return walk.do("solution", "tang.netbasic", crisis_solution="切换备用基站", departments_involved="网络部")


def tick(walk: Walk, clock, closed: bool, at: datetime | None = None) -> Walk:
    """C-6: an hour passes (or the clock moves to ``at``), the count runs, the complaint group assesses it."""
    if at is None:
        clock.advance(hours=1, minutes=1)
    else:
        clock.set(at)
    walk.engine.deadlines.fire_due_timers()
    return walk.do("assess_tracking", "zhao.group", tracking_note="投诉量变化", event_closed=closed)


def at(hour: int, minute: int) -> datetime:
    return datetime(2025, 3, 3, hour, minute, tzinfo=SHANGHAI)


def notified(engine, case_id: int) -> list[tuple[str, str]]:
    with engine.store_session() as session:
        return [(n.recipient, n.template) for n in session.scalars(
            select(Notification).where(Notification.case_id == case_id).order_by(Notification.id))]


def test_c1_crisis_event_reported_by_hand_starts_the_crisis_process(engine):
    walk = crisis(engine)
    assert walk.ready() == ["report"] and walk.data["responsible_group"] == "net_basic"
    assert passes(walk.path(), "start_crisis", "route_crisis")


def test_c3_report_within_1_hour_to_pr_and_leaders_or_leaders_are_chased(engine, clock):
    walk = crisis(engine)
    clock.advance(hours=1, minutes=1)
    engine.deadlines.fire_due_timers()
    assert walk.ready() == ["report"]
    report(walk)
    assert notified(engine, walk.case_id) == [("leadership", "c3_report_overdue"), ("pr", "c3_crisis_report"),
                                              ("leadership", "c3_crisis_report")]
    assert passes(walk.path(), "report_due", "notify_report_overdue", "report", "notify_pr", "notify_leadership",
                  "split_remedy")


def test_c4_solution_and_unified_explanation_run_in_parallel_within_2_hours(engine, clock):
    walk = report(crisis(engine))
    assert walk.ready() == ["explanation", "solution"]
    walk.do("explanation", "sun.pr", unified_explanation="因设备故障,正在抢修")
    assert walk.ready() == ["solution"]         # the join waits for the solution
    clock.advance(hours=2, minutes=1)
    engine.deadlines.fire_due_timers()
    assert ("leadership", "c4_solution_overdue") in notified(engine, walk.case_id)
    walk.do("solution", "tang.netbasic", crisis_solution="切换备用基站", departments_involved="网络部")
    assert ("intake", "c4_unified_explanation") in notified(engine, walk.case_id)
    assert passes(walk.path(), "split_remedy", "explanation", "solution", "join_remedy",
                  "publish_explanation")
    assert walk.ready() == [] and set(walk.timers()) == {"wait_hour"}


def test_c5_nationwide_event_is_coordinated_with_other_companies(engine):
    walk = remedy(report(crisis(engine), nationwide=True))
    assert walk.ready() == ["coordinate_c5"]
    walk.do("coordinate_c5", "zhao.group", coordinated_units="省公司、兄弟分公司")
    assert passes(walk.path(), "gw_nationwide", "coordinate_c5", "merge_nationwide") and "wait_hour" in walk.timers()


def test_c6_hourly_tracking_counts_until_closed(engine, clock):
    walk = remedy(report(crisis(engine)))
    clock.set(at(9, 30))
    for _ in range(3):
        Walk.start(engine, "zhang.intake", SIGNAL)
    tick(walk, clock, False, at(10, 1))         # 3 in the last hour, none before
    clock.set(at(10, 30))
    Walk.start(engine, "zhang.intake", SIGNAL)
    tick(walk, clock, True, at(11, 2))          # 1 in the last hour, 3 in the hour before
    assert [(h["count"], h["previous"], h["change_ratio"]) for h in walk.data["tracking_history"]] == [
        (3, 0, None), (1, 3, -0.6667)]
    assert walk.ready() == ["summary"]
    assert walk.path().count("count_complaints") == 2 and "merge_tracking" in walk.path()


def test_c7_summary_within_3_working_days_and_a_responsibility_meeting_when_unclear(engine, clock):
    walk = tick(remedy(report(crisis(engine), clear=False)), clock, closed=True)
    assert walk.timers()["summary_due"] == datetime(2025, 3, 6, 18, 0, tzinfo=SHANGHAI)
    clock.set(datetime(2025, 3, 6, 18, 1, tzinfo=SHANGHAI))
    engine.deadlines.fire_due_timers()
    assert ("leadership", "c7_summary_overdue") in notified(engine, walk.case_id)
    walk.do("summary", "zhao.group", incident_cause="设备老化", handling_summary="切换备用基站",
            rectification="更换设备", responsibility_meeting_needed=False)
    assert walk.ready() == ["responsibility_meeting"]     # responsibility was unclear (003 2)
    walk.do("responsibility_meeting", "zhou.leader", responsibility_conclusion="网络部负责")
    assert walk.status == "completed"
    assert passes(walk.path(), "summary", "gw_meeting", "responsibility_meeting", "merge_end_c7", "end_crisis")


def test_c7_no_meeting_when_responsibility_is_clear(engine, clock):
    walk = tick(remedy(report(crisis(engine))), clock, closed=True)
    walk.do("summary", "zhao.group", incident_cause="设备老化", handling_summary="切换备用基站",
            rectification="更换设备", responsibility_meeting_needed=False)
    assert walk.status == "completed" and "responsibility_meeting" not in walk.path()
