"""service_quality.bpmn (二解) walked path by path through the real engine (SPEC §7, Q-1..Q-3; 001 第七章)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.services import SYSTEM, PermissionDenied
from engine.store.models import OverdueRecord
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk, passes

AGENT = "complaint.service.call_centre_agent"


@pytest.fixture
def engine(walk_engine):
    return walk_engine


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=SHANGHAI)


def against_xie(engine, **extra) -> Walk:
    """A service-quality complaint against the agent xie.agent (team 1, leader wu.teamleader)."""
    return Walk.start(engine, "pan.agent", AGENT, **{"service_quality_agent_count": 1,
                                                     "complained_agent": "xie.agent", **extra})


def test_q1_single_agent_complaint_goes_to_the_team_leader_first(engine):
    walk = against_xie(engine)
    assert walk.ready() == ["call_back"]
    assert [t.element_id for t in engine.reads.inbox(engine.accounts.actor("wu.teamleader")).tasks if t.case_id == walk.case_id] \
        == ["call_back"]
    assert passes(walk.path(), "gw_service_quality", "start_sq", "register_team_complaint", "notify_team_leader",
                  "se_start")


@pytest.mark.parametrize("exclusion", [{"service_quality_agent_count": 2}, {"customer_vip": True}],
                         ids=["two_agents", "vip_customer"])
def test_q1_two_agents_or_a_vip_customer_go_straight_to_the_normal_process(engine, exclusion):
    walk = against_xie(engine, **exclusion)
    assert walk.ready() == ["accept"] and "start_sq" not in walk.path()


def test_q1_customer_who_chased_before_the_leaders_note_goes_to_the_normal_process(engine):
    walk = against_xie(engine).second_explanation("wu.teamleader", accepted=True, chased=True)
    assert walk.ready() == ["accept"] and walk.data["sq_result"] == "failed"
    assert passes(walk.path(), "review_recording", "gw_exempt", "end_review_failed", "gw_sq_result", "merge_accept")


def test_q3_success_with_exemption_withdraws_the_complaint_without_deduction(engine):
    walk = against_xie(engine).second_explanation("wu.teamleader")
    assert walk.status == "completed" and walk.data["sq_result"] == "exempted"
    assert passes(walk.path(), "call_back", "gw_withdrawn", "review_recording", "rank_team_complaint",
                  "set_exempted", "end_exempted", "gw_sq_result", "end_withdrawn")
    assert engine.ledger.entries(case_id=walk.case_id) == []


def test_q2_attempts_are_at_least_3_hours_apart_and_three_failures_fall_back_to_the_normal_process(engine, clock):
    walk = against_xie(engine).call_back("wu.teamleader", "not_reached")          # Monday 09:00
    for _ in range(2):
        due = walk.timers()["wait_3h"]
        assert due == clock() + timedelta(hours=3)                                # 001 6.3.4
        clock.set(due)
        engine.deadlines.fire_due_timers()
        assert walk.ready() == []                                                   # not before 3 h
        clock.advance(minutes=1)
        engine.deadlines.fire_due_timers()
        walk.call_back("wu.teamleader", "not_reached")
    assert walk.ready() == ["accept"] and walk.data["sq_result"] == "failed"
    assert walk.path().count("call_back") == 3 and walk.path().count("wait_3h") == 2
    assert passes(walk.path(), "count_attempt", "gw_retry", "se_end", "gw_withdrawn", "end_not_withdrawn",
                  "gw_sq_result", "merge_accept")


def test_q2_no_call_back_before_17_00_next_day_is_recorded_and_falls_back(engine, clock):
    walk = against_xie(engine)
    assert walk.timers()["deadline"] == at(4, 17)
    clock.set(at(4, 17, 1))
    engine.deadlines.fire_due_timers()
    assert walk.ready() == ["accept"] and walk.data["sq_result"] == "failed"
    assert passes(walk.path(), "deadline", "record_late", "book_late", "end_late", "gw_sq_result", "merge_accept")
    assert walk.data["deductions_unpriced"] == {"Q-2": ["team_leader"]}   # 001 6.2.4(3) 未按规范执行: the leader
    with engine.store_session() as session:
        assert session.scalars(select(OverdueRecord.rule_id).where(OverdueRecord.case_id == walk.case_id)).all() \
            == ["Q-2"]


def test_q3_s8_vip_and_multi_agent_complaints_count_toward_the_team_limit(engine):
    """001 6.2.1(3) 本组员工被投诉次数…(含不通知回访或回访不接受的): complaints without 二解 count too."""
    vip = against_xie(engine, customer_vip=True)
    several = against_xie(engine, service_quality_agent_count=2)
    assert vip.ready() == ["accept"] and several.ready() == ["accept"]      # no 二解 for them
    assert (vip.data["team_complaints_this_month"], several.data["team_complaints_this_month"]) == (1, 2)
    third = against_xie(engine)
    assert third.data["team_complaints_this_month"] == 3 and third.ready() == ["call_back"]


def test_q1_q2_the_call_back_is_the_agents_own_team_leaders_and_the_agent_is_told(engine):
    from engine.store.models import Notification

    walk = against_xie(engine)
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "call_back")
    assert list(task.candidate_users) == ["wu.teamleader"] and list(task.candidate_groups) == []
    other = engine.accounts.actor("jiang.teamleader")             # team 2's leader
    assert not [t for t in engine.reads.inbox(other).tasks if t.case_id == walk.case_id]
    with pytest.raises(PermissionDenied):
        engine.cases.claim(task.id, other)
    with engine.store_session() as session:
        sent = [(n.recipient, n.template) for n in session.scalars(
            select(Notification).where(Notification.case_id == walk.case_id).order_by(Notification.id))]
    assert sent == [("wu.teamleader", "q2_second_explanation"), ("xie.agent", "q2_agent_complained")]
    walk.second_explanation("wu.teamleader")
    assert walk.data["sq_result"] == "exempted"
