"""crisis.bpmn walked path by path through the real engine (SPEC §6, C-1, C-3..C-7; 003 危机投诉事件快速反应机制)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.store.models import Notification
from tests.conftest import SHANGHAI
from engine.services import SYSTEM, FormInvalid
from tests.processes.casewalk import Walk, passes

SIGNAL = "complaint.network.signal"                 # routed to the basic-network group (tang.netbasic)


@pytest.fixture
def engine(walk_engine):
    return walk_engine


def crisis(engine) -> Walk:
    """C-1 (a, c): a crisis event reported by hand (the watch of C-2 starts the same process by itself)."""
    ref = engine.cases.start("crisis", {"issue": "基站故障致大面积无信号", "category": SIGNAL,
                                       "crisis_trigger": "manual", "warning_level": 0},
                             engine.accounts.actor("zhao.group"))
    return Walk(engine, ref.id)


def report(walk: Walk, nationwide: bool = False, clear: bool = True) -> Walk:
    return walk.do("report", "zhao.group", issue_description="基站故障", impact_scope="城东", complaint_count=120,
                   nationwide=nationwide, responsibility_clear=clear)


def remedy(walk: Walk) -> Walk:
    walk.do("explanation", "sun.pr", unified_explanation="因设备故障,正在抢修")
    return walk.do("solution", "tang.netbasic", crisis_solution="切换备用基站", departments_involved="网络部")


def counts(walk: Walk) -> list[tuple[int, int, float | None]]:
    """C-6: the hourly counts of the case's audit trail: (count, the hour before, change ratio), in order."""
    return [(e.data["count_now"], e.data["count_previous"], e.data["change_ratio"])
            for e in walk.engine.reads.case_page(walk.case_id, SYSTEM).events
            if e.element_id == "count_complaints" and e.lifecycle == "completed"]


def ticks(walk: Walk) -> int:
    """C-6: how many times the hourly cycle fired, by the audit trail."""
    return sum(1 for e in walk.engine.reads.case_page(walk.case_id, SYSTEM).events
               if e.element_id == "hourly_count" and e.lifecycle == "timer_fired")


def close(walk: Walk) -> Walk:
    """C-6: the complaint group ends the tracking with its assessment (the event is over)."""
    return walk.do("assess_tracking", "zhao.group", tracking_note="投诉量回落,事件结束")


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


def test_c1_level3_crisis_reported_by_hand_tells_the_recipients_of_the_shipped_crisis_toml(engine):
    """C-1 b (003 二): a person who reports a level-3 warning by hand gives no recipients; the installation's
    ``level3_recipients`` are told, the routed department's head being the network department's."""
    ref = engine.cases.start("crisis", {"issue": "基站故障", "category": SIGNAL, "crisis_trigger": "manual",
                                        "warning_level": 3}, engine.accounts.actor("zhao.group"))
    walk = Walk(engine, ref.id)
    assert sorted(r for r, t in notified(engine, walk.case_id) if t == "c2_level3_warning") == [
        "ma.network", "qin.ops", "wei.aftersales", "zhao.group", "zhou.leader"]
    assert walk.ready() == ["report"] and passes(walk.path(), "route_crisis", "gw_warning_level", "notify_level3",
                                                 "merge_warning")


def test_c1_a_crisis_reported_by_hand_without_its_warning_level_is_refused_and_nothing_is_stored(engine):
    """003 二 / C-1 b: the level decides who is told; a start without it (or out of 0..3) is a clear refusal."""
    zhao = engine.accounts.actor("zhao.group")
    for data in ({}, {"warning_level": 4}, {"warning_level": "三级"}):
        with pytest.raises(FormInvalid) as refused:
            engine.cases.start("crisis", {"issue": "基站故障", "category": SIGNAL, **data}, zhao)
        assert set(refused.value.errors) == {"warning_level"}
    assert [c for c in engine.reads.case_list(SYSTEM, limit=10) if c.process_key == "crisis"] == []


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
    assert walk.ready() == ["assess_tracking"] and set(walk.timers()) == {"hourly_count"}


def test_c5_nationwide_event_is_coordinated_with_other_companies(engine):
    walk = remedy(report(crisis(engine), nationwide=True))
    assert walk.ready() == ["coordinate_c5"]
    walk.do("coordinate_c5", "zhao.group", coordinated_units="省公司、兄弟分公司")
    assert passes(walk.path(), "gw_nationwide", "coordinate_c5", "merge_nationwide") and "hourly_count" in walk.timers()


def test_c6_the_hourly_count_runs_on_a_timer_cycle_without_anybody_assessing(engine, clock):
    """C-6 (003 4 每隔1小时进行问题投诉量的收集,与前1小时对比,记录变动幅度比例): the count runs every hour on its
    own; nobody touches the tracking task between the counts."""
    walk = remedy(report(crisis(engine)))            # tracking starts at 09:00
    assert walk.ready() == ["assess_tracking"] and walk.timers()["hourly_count"] == at(10, 0)
    clock.set(at(9, 30))
    for _ in range(3):
        Walk.start(engine, "zhang.intake", SIGNAL)
    clock.set(at(10, 1))
    engine.deadlines.fire_due_timers()              # 3 in the last hour, none before
    clock.set(at(10, 30))
    Walk.start(engine, "zhang.intake", SIGNAL)
    clock.set(at(11, 1))
    engine.deadlines.fire_due_timers()              # 1 in the last hour, 3 in the hour before
    clock.set(at(12, 1))
    engine.deadlines.fire_due_timers()              # none in the last hour, 1 before
    assert counts(walk) == [(3, 0, None), (1, 3, -0.6667), (0, 1, -1.0)] and ticks(walk) == 3
    assert walk.ready() == ["assess_tracking"] and walk.timers()["hourly_count"] == at(13, 0)
    close(walk)
    assert walk.ready() == ["summary"] and "hourly_count" not in walk.timers()
    clock.set(at(15, 1))
    engine.deadlines.fire_due_timers()
    assert ticks(walk) == 3                          # closed: no more counts

    assert passes(walk.path(), "merge_nationwide", "hourly_count", "count_complaints", "end_hourly_count",
                  "hourly_count", "count_complaints", "assess_tracking")


def test_c6_hours_without_a_sweep_are_counted_when_the_scheduler_runs_again(engine, clock):
    """C-6: a scheduler down from 10:00 to 13:30 catches up: one count for each hour it missed."""
    walk = remedy(report(crisis(engine)))
    clock.set(at(13, 30))
    assert engine.deadlines.fire_due_timers()["fired"] == 4
    assert ticks(walk) == 4 and len(counts(walk)) == 4 and walk.timers()["hourly_count"] == at(14, 0)


def test_c7_summary_within_3_working_days_and_a_responsibility_meeting_when_unclear(engine, clock):
    walk = close(remedy(report(crisis(engine), clear=False)))
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
    walk = close(remedy(report(crisis(engine))))
    walk.do("summary", "zhao.group", incident_cause="设备老化", handling_summary="切换备用基站",
            rectification="更换设备", responsibility_meeting_needed=False)
    assert walk.status == "completed" and "responsibility_meeting" not in walk.path()
