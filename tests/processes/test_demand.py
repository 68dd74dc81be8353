"""demand.bpmn walked path by path through the real engine (SPEC §5, D-1..D-5; 002 附件3 需求处理流程)."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.services import SYSTEM
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk, passes


@pytest.fixture
def engine(walk_engine):
    return walk_engine


def registered(engine, kind: str = "demand") -> Walk:
    """A demand (or suggestion), routed to the complaint group, registered and approved (D-1): D-2 is next."""
    walk = Walk.start(engine, "zhang.intake", f"{kind}.broadband")
    walk.do("register", "zhang.intake", responsible_person="zhao.group", demand_summary="希望开通千兆宽带")
    return walk.do("approve_register", "zhao.group", register_approved=True, register_opinion="同意")


def reply(walk: Walk, accepted: bool) -> Walk:
    return walk.do("reply_d2", "zhao.group", reply_content="答复方案", accepted=accepted)


def test_d1_head_returns_an_incomplete_register_to_the_intake(engine):
    walk = Walk.start(engine, "zhang.intake", "demand.broadband")
    walk.do("register", "zhang.intake", responsible_person="zhao.group", demand_summary="开通宽带")
    walk.do("approve_register", "zhao.group", register_approved=False, register_opinion="补充地址")
    assert walk.ready() == ["register"]
    assert passes(walk.path(), "start_demand", "register", "approve_register", "gw_register_approved",
                  "merge_register")


def test_d1_the_register_is_approved_by_the_routed_departments_head_only(engine):
    """004 第九条(三)(五) 登记表提交部门负责人审批: the head of the department the demand was routed to (a
    demand goes to 投诉管理组, headed by zhao.group), not any department head."""
    walk = Walk.start(engine, "zhang.intake", "demand.broadband")
    walk.do("register", "zhang.intake", responsible_person="zhao.group", demand_summary="开通宽带")
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "approve_register")
    assert list(task.candidate_users) == ["zhao.group"] and walk.data["responsible_head"] == "zhao.group"
    assert not [t for t in engine.reads.inbox(engine.accounts.actor("wang.head")).tasks if t.case_id == walk.case_id]
    walk.do("approve_register", "zhao.group", register_approved=True, register_opinion="同意")
    assert walk.ready() == ["reply_d2"]


def test_d2_reply_is_due_in_3_working_days_with_a_reminder(engine, clock):
    walk = registered(engine)
    due = walk.timers()["reply_due_d2"]
    assert due == datetime(2025, 3, 6, 18, 0, tzinfo=SHANGHAI)
    clock.set(due.replace(minute=1))
    engine.deadlines.fire_due_timers()
    assert "notify_reply_due" in walk.path() and walk.ready() == ["reply_d2"]


def test_d3_demand_refused_tells_the_customer_and_closes(engine):
    walk = reply(registered(engine), accepted=False)
    walk.do("refuse_service", "zhao.group", refusal_note="该区域暂不能提供千兆宽带")
    assert walk.status == "completed"
    assert passes(walk.path(), "reply_d2", "gw_after_reply", "refuse_service", "end_refused", "end_demand")


def test_d4_demand_accepted_is_acted_on_and_called_back_until_satisfied(engine):
    walk = reply(registered(engine), accepted=True).do("act_d4", "zhao.group", action_taken="已开通")
    walk.do("callback_d4", "chen.callback", callback_note="网速不达标", satisfied=False)
    walk.do("remedy_d4", "zhao.group", remedy_action="更换光猫")
    walk.do("callback_d4", "chen.callback", callback_note="满意", satisfied=True)
    assert walk.status == "completed"
    assert passes(walk.path(), "act_d4", "callback_d4", "gw_satisfied_d4", "remedy_d4", "merge_callback_d4",
                  "callback_d4", "gw_satisfied_d4", "end_done")


def test_d4_the_call_back_is_due_in_3_working_days_with_a_reminder(engine, clock):
    """002 附件3 定期进行回访 with 004 第十一条's period: the call-back has a due time and the complaint group
    is reminded when it passes; the call-back stays open."""
    walk = reply(registered(engine), accepted=True).do("act_d4", "zhao.group", action_taken="已开通")
    due = walk.timers()["callback_due_d4"]
    assert due == datetime(2025, 3, 6, 18, 0, tzinfo=SHANGHAI)            # Monday 09:00 + 3 working days
    clock.set(due.replace(minute=1))
    engine.deadlines.fire_due_timers()
    assert "notify_callback_due_d4" in walk.path() and walk.ready() == ["callback_d4"]


def test_d4_a_customer_still_dissatisfied_after_the_remedy_makes_the_demand_an_escalated_complaint(engine):
    """《客户投诉管理实施办法》第十三条 若客户不满意,要重新处理或进行投诉升级: the call-back is not a loop without end;
    the customer's dissatisfaction is a complaint now (002 4.1.1.1) and runs the escalation, then the complaint's
    record, the head's review and the outcome."""
    walk = reply(registered(engine), accepted=True).do("act_d4", "zhao.group", action_taken="已开通")
    walk.do("callback_d4", "chen.callback", callback_note="网速不达标", satisfied=False)
    walk.do("remedy_d4", "zhao.group", remedy_action="更换光猫")
    walk.do("callback_d4", "chen.callback", callback_note="仍不满意,要求投诉", satisfied=False,
            unsatisfied_next="escalate")
    assert walk.ready() == ["handover"]
    assert walk.data["kind"] == "complaint" and walk.data["kind_before_escalation"] == "demand"
    assert passes(walk.path(), "callback_d4", "gw_satisfied_d4", "to_complaint_d4", "end_to_complaint",
                  "gw_demand_escalated", "merge_escalate", "start_escalation")
    assert "end_demand" not in walk.path()
    walk.escalate("zhao.group", caused_by_staff=False).after_escalation("zhao.group", "zhao.group")
    assert walk.status == "completed" and walk.path()[-1] == "end_escalated"
    assert passes(walk.path(), "record_four_elements", "approve_record", "decide_outcome")


@pytest.mark.parametrize("adopted, end", [(True, "end_adopted"), (False, "end_not_adopted")])
def test_d5_reasonable_suggestion_is_adopted(engine, adopted, end):
    walk = reply(registered(engine, "suggestion"), accepted=True)
    walk.do("evaluate_suggestion", "zhao.group", suggestion_adopted=adopted, adoption_record="延长营业时间")
    assert walk.status == "completed" and walk.data["suggestion_adopted"] is adopted
    assert passes(walk.path(), "gw_after_reply", "evaluate_suggestion", "gw_adopted", end)
