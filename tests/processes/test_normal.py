"""normal.bpmn walked path by path through the real engine (SPEC §3, N-1..N-12; 002 附件2 正常投诉处理流程)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.services import SYSTEM, FormInvalid
from engine.settings import DEFAULT_DATA_DIR, Settings
from engine.store.models import OverdueRecord
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk, passes, shipped_engine

MARKET = "complaint.billing.disputed_fees"          # routed to the market department (I-4)
NETWORK = "complaint.network.signal"                # routed to the network department's basic-network group


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def engine(walk_engine):
    return walk_engine


def overdue(engine, case_id: int) -> list[tuple[str, str | None]]:
    with engine.store_session() as session:
        return [(r.rule_id, r.responsible_group) for r in session.scalars(
            select(OverdueRecord).where(OverdueRecord.case_id == case_id).order_by(OverdueRecord.id))]


def test_happy_path_n1_n6_n10_accepted_reply_is_acted_on_recorded_called_back_decided_and_closed(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide().close()
    assert walk.status == "completed"
    assert passes(walk.path(), "accept", "investigate", "reply", "end_reply_accepted", "gw_escalate", "act",
                  "record_four_elements", "approve_record", "callback", "decide_outcome", "book_outcome",
                  "analyse_cause", "end_closed")
    assert not {"call_escalation", "coordinate", "inform_delay", "remedy"} & set(walk.path())
    data = walk.data
    assert (data["responsible_person"], data["action_taken"], data["root_cause"]) == ("li.handler", "已处理", "原因")
    assert {e.rule_id for e in engine.ledger.entries(case_id=walk.case_id)} == {"S-1"}


def test_n2_insufficient_information_loops_back_to_investigation(engine, clock):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler")
    clock.advance(hours=24, minutes=1)          # 001 质量投诉 第四章1: initial verification within 24 h
    engine.deadlines.fire_due_timers()
    assert walk.ready() == ["investigate"] and "notify_verify" in walk.path()
    walk.investigate("li.handler", sufficient=False).inform_delay("li.handler")
    assert walk.ready() == ["investigate"] and walk.submitted("inform_delay")["customer_informed_of_delay"]
    walk.investigate("li.handler")
    assert walk.ready() == ["reply"]
    assert passes(walk.path(), "investigate", "gw_info", "inform_delay", "gw_support", "merge_retry",
                  "merge_investigate", "investigate", "gw_info", "gw_solution")


def test_n3_no_solution_hands_over_to_escalation_without_quality_review(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler")
    walk.investigate("li.handler", solution_found=False)
    assert walk.ready() == ["handover"]
    assert passes(walk.path(), "gw_solution", "end_no_solution", "handle", "gw_escalate", "merge_escalate",
                  "start_escalation")
    walk.to_reply_e5()
    assert walk.ready() == ["reply_e5"] and "qc_review" not in walk.path()   # E-3 is for major complaints only


def test_n4_reply_is_due_3_working_days_after_receipt_not_acceptance_7_when_complex(engine, clock):
    """001 第七条 自接到投诉之日起: received Monday 09:00, accepted only on Wednesday: still due Thursday."""
    general = Walk.start(engine, "zhang.intake", MARKET)
    complex_ = Walk.start(engine, "zhang.intake", MARKET)
    clock.set(at("2025-03-05T10:00:00"))
    general.accept("li.handler")
    complex_.accept("li.handler", complex_case=True)
    assert general.timers()["reply_deadline"] == at("2025-03-06T18:00:00")
    assert complex_.timers()["reply_deadline"] == at("2025-03-12T18:00:00")


def test_n4_a_complaint_registered_the_day_after_receipt_counts_from_the_receipt_day(engine, clock):
    clock.set(at("2025-03-04T15:00:00"))
    walk = Walk.start(engine, "zhang.intake", MARKET, received_at="2025-03-03").accept("li.handler")
    assert walk.data["received_instant"] == "2025-03-03T00:00:00+08:00"
    assert walk.timers()["reply_deadline"] == at("2025-03-06T18:00:00")
    # 24 h after receipt had passed when the investigation began: the reminder went out at once.
    assert "investigate_24h" not in walk.timers() and "notify_verify" in walk.path()
    assert walk.ready() == ["investigate"]


def test_n2_initial_verification_is_due_24_hours_after_receipt(engine, clock):
    walk = Walk.start(engine, "zhang.intake", MARKET)
    clock.set(at("2025-03-04T08:00:00"))
    walk.accept("li.handler")
    assert walk.timers()["investigate_24h"] == at("2025-03-04T09:00:00")    # not 08:00 the next day


def test_n4_extension_reason_is_told_recorded_and_moves_the_reply_deadline(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler")
    engine.deadlines.extend(walk.case_id, 2, "等待厂家检测报告,已告知客户", engine.accounts.actor("li.handler"))
    assert walk.timers()["reply_deadline"] == at("2025-03-10T18:00:00")
    events = [e for e in engine.reads.case_page(walk.case_id, SYSTEM).events if e.lifecycle == "extended"]
    assert len(events) == 1 and "等待厂家检测报告" in str(events[0].data)


def test_n5_not_accepted_goes_to_escalation(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    walk.reply("li.handler", accepted=False).do("coordinate", "li.handler", coordination_note="再协调", accepted=False)
    assert walk.ready() == ["handover"]
    assert passes(walk.path(), "reply", "gw_reply_accepted", "coordinate", "end_coordinated", "gw_escalate",
                  "start_escalation")


def test_n5_customer_who_accepts_after_coordination_is_served(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    walk.reply("li.handler", accepted=False).do("coordinate", "li.handler", coordination_note="再协调", accepted=True)
    assert walk.ready() == ["act"] and "start_escalation" not in walk.path()


def test_n6_n7_head_returns_an_incomplete_record_and_the_four_elements_are_required(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    walk.reply("li.handler").do("act", "li.handler", action_taken="已退费")
    task = next(t for t in engine.reads.inbox(engine.accounts.actor("li.handler")).tasks if t.case_id == walk.case_id)
    with pytest.raises(FormInvalid) as refused:     # 004 第十条(四): handler, time, process, result + satisfaction
        engine.cases.complete(task.id, {"handling_staff": "li.handler"}, engine.accounts.actor("li.handler"))
    assert {"time_spent_hours", "handling_process", "handling_result", "customer_satisfaction"} <= set(
        refused.value.errors)
    walk.record("li.handler").do("approve_record", "wang.head", head_approved=False, head_opinion="补充处理过程")
    assert walk.ready() == ["record_four_elements"]
    walk.record("li.handler").do("approve_record", "wang.head", head_approved=True, head_opinion="同意")
    assert walk.ready() == ["callback"]
    assert passes(walk.path(), "act", "record_four_elements", "approve_record", "gw_approved", "merge_record",
                  "record_four_elements", "approve_record", "gw_approved", "merge_callback")


def test_n8_unsatisfied_callback_leads_to_remedial_action_and_another_callback(engine, clock):
    walk = Walk.start(engine, "zhang.intake", MARKET).to_callback("li.handler", "wang.head")
    assert walk.timers()["callback_due"] == at("2025-03-06T18:00:00")     # 004 第十一条: 3 working days
    clock.set(at("2025-03-06T18:01:00"))
    engine.deadlines.fire_due_timers()
    assert "notify_callback_due" in walk.path() and walk.ready() == ["callback"]
    walk.callback(satisfied=False)
    assert walk.ready() == ["remedy"]
    walk.do("remedy", "li.handler", remedy_action="上门更换设备").callback()
    assert walk.ready() == ["decide_outcome"]
    assert passes(walk.path(), "callback", "gw_satisfied", "remedy", "merge_callback", "callback", "gw_satisfied")


def test_n9_not_upheld_complaint_books_no_deduction(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head")
    walk.decide(outcome="not_upheld").close()
    assert walk.status == "completed" and walk.data["outcome"] == "not_upheld"
    assert "book_outcome" not in walk.path() and engine.ledger.entries(case_id=walk.case_id) == []


def test_n11_overdue_general_complaint_becomes_major_and_escalates(engine, clock):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    clock.set(at("2025-03-06T18:00:00"))
    engine.deadlines.fire_due_timers()
    assert walk.ready() == ["reply"]
    clock.set(at("2025-03-06T18:01:00"))
    engine.deadlines.fire_due_timers()
    assert walk.ready() == ["handover"] and walk.data["severity"] == "major"
    assert passes(walk.path(), "reply_deadline", "record_reply_overdue", "gw_green_net", "merge_green_net",
                  "make_major", "merge_escalate", "start_escalation")
    assert overdue(engine, walk.case_id) == [("N-11", "market")]
    walk.to_reply_e5()
    assert "qc_review" in walk.path()           # now major: E-3 quality-centre review


def test_n12_support_not_delivered_in_time_is_recorded_and_scored(engine, clock):
    walk = Walk.start(engine, "zhang.intake", NETWORK).accept("tang.netbasic")
    walk.investigate("tang.netbasic", sufficient=False).ask_support("tang.netbasic", "network")
    clock.advance(hours=6, minutes=1)           # 003: network department 6 h
    engine.deadlines.fire_due_timers()
    assert passes(walk.path(), "support_overdue", "record_support_overdue", "book_s5")
    assert overdue(engine, walk.case_id) == [("N-12", "network")]
    assert walk.ready() == ["support"]
    walk.do("support", "tang.netbasic", support_result="已优化基站")
    assert walk.ready() == ["investigate"]


def test_n11_e5_an_escalated_overdue_complaint_keeps_its_receipt_clock(engine, clock):
    """002 4.1.2.1 b: the overdue general complaint becomes major; 001 第七条: major 5 working days from receipt."""
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    clock.set(at("2025-03-06T18:01:00"))
    engine.deadlines.fire_due_timers()
    walk.handover().do("receive_handover", "zhou.leader", handover_complete=True)
    assert walk.timers()["reply_due_e5"] == at("2025-03-10T18:00:00")       # Monday + 5 working days, not handover + 5


def test_n4_e5_a_general_complaint_escalated_at_n3_keeps_its_3_day_limit(engine, clock):
    walk = Walk.start(engine, "zhang.intake", MARKET)
    clock.set(at("2025-03-05T09:00:00"))
    walk.accept("li.handler").investigate("li.handler", solution_found=False)
    walk.handover().do("receive_handover", "zhou.leader", handover_complete=True)
    assert walk.timers()["reply_due_e5"] == at("2025-03-06T18:00:00")


def test_n12_support_is_offered_to_the_supporting_department_only(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler")
    walk.investigate("li.handler", sufficient=False).ask_support("li.handler", "network")
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "support")
    assert set(task.candidate_groups) == {"net_basic", "net_all"}          # data/support.toml, not every handler
    assert not [t for t in engine.reads.inbox(engine.accounts.actor("li.handler")).tasks
                if t.case_id == walk.case_id and t.element_id == "support"]
    walk.do("support", "lin.netall", support_result="已调整基站参数")
    assert walk.ready() == ["investigate"]


def test_n12_s5_an_overdue_external_carrier_is_recorded_and_never_scored(engine, clock):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler")
    walk.investigate("li.handler", sufficient=False).ask_support("li.handler", "external_carrier")
    assert "support" in walk.ready()        # the responsible group follows the carrier up
    clock.advance(hours=6, minutes=1)       # 003: external carrier 6 h
    engine.deadlines.fire_due_timers()
    assert walk.status == "running" and walk.incident() is None
    assert overdue(engine, walk.case_id) == [("N-12", "external_carrier")]
    assert engine.ledger.entries(case_id=walk.case_id) == []   # 000 二.5 scores 网格或部门 only


def test_n8_n5_a_customer_still_unsatisfied_at_the_call_back_may_be_escalated(engine):
    """004 第十三条 若客户不满意,要重新处理或进行投诉升级: the remedy loop is not the only way out."""
    walk = Walk.start(engine, "zhang.intake", MARKET).to_callback("li.handler", "wang.head")
    walk.callback(satisfied=False)
    walk.do("remedy", "li.handler", remedy_action="补偿话费")
    walk.do("callback", "chen.callback", callback_note="仍不满意,要求升级", satisfied=False, unsatisfied_next="escalate")
    assert walk.ready() == ["handover"]
    assert passes(walk.path(), "remedy", "callback", "gw_satisfied", "merge_escalate", "start_escalation")
    walk.escalate("li.handler", caused_by_staff=False).after_escalation("li.handler", "wang.head")
    assert walk.status == "completed" and walk.path().count("callback") == 2


def test_n7_the_feedback_form_is_reviewed_by_the_routed_departments_head_only(engine):
    """004 第十条(五) 提交本部门负责人审核: not any department head."""
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    walk.reply("li.handler").do("act", "li.handler", action_taken="已退费").record("li.handler")
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "approve_record")
    assert list(task.candidate_users) == ["wang.head"] and walk.data["responsible_head"] == "wang.head"
    assert not [t for t in engine.reads.inbox(engine.accounts.actor("ma.network")).tasks if t.case_id == walk.case_id]
    walk.do("approve_record", "wang.head", head_approved=True, head_opinion="同意")
    assert walk.ready() == ["callback"]


@pytest.mark.parametrize("segment, group, head", [("gov_ent", "gov_ent", "zheng.govent"),
                                                  ("public", "market", "wang.head")])
def test_i4_subscription_without_consent_goes_to_gov_ent_for_a_government_or_enterprise_customer(
        engine, segment, group, head):
    """《投诉处理管理办法》四.2/四.3: 不知情业务定制 is a common complaint of both 市场部 and 政企部; the customer
    segment at intake decides (routing.toml's `when`), and the case is accepted and reviewed there."""
    walk = Walk.start(engine, "zhang.intake", "complaint.billing.unknowing_subscription", customer_segment=segment)
    assert (walk.data["responsible_group"], walk.data["responsible_head"]) == (group, head)
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "accept")
    assert list(task.candidate_groups) == [group]


def test_n1_a_complaint_from_a_special_channel_is_accepted_by_the_complaint_group(engine):
    """《投诉处理管理办法》一.1.7: 工信部 and the other special channels are accepted centrally (归口受理) by the
    complaint group; the department the category routes to still investigates and replies."""
    walk = Walk.start(engine, "zhang.intake", NETWORK, channel="miit")
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "accept")
    assert list(task.candidate_groups) == ["complaint_group"] and walk.data["responsible_group"] == "net_basic"
    walk.accept("zhao.group")
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "investigate")
    assert list(task.candidate_groups) == ["net_basic"]
    hotline = Walk.start(engine, "zhang.intake", NETWORK, channel="hotline")
    task = next(t for t in engine.reads.case_page(hotline.case_id, SYSTEM).tasks if t.element_id == "accept")
    assert list(task.candidate_groups) == ["net_basic"]


def test_n1_a_green_net_work_order_is_pre_processed_and_an_invalid_one_intercepted(engine):
    """《投诉处理管理办法》一.2.1 绿网投诉处理专员负责绿网投诉的预处理,有效拦截: before acceptance."""
    walk = Walk.start(engine, "zhang.intake", NETWORK, channel="green_net")
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.state == "ready")
    assert (task.element_id, list(task.candidate_groups)) == ("preprocess", ["green_net"])
    walk.do("preprocess", "lv.greennet", intercepted=True, preprocess_note="重复工单,已在 #12 处理")
    assert walk.status == "completed" and walk.path()[-1] == "end_intercepted"
    assert "accept" not in walk.path() and engine.ledger.entries(case_id=walk.case_id) == []
    valid = Walk.start(engine, "zhang.intake", NETWORK, channel="green_net")
    valid.do("preprocess", "lv.greennet", intercepted=False, preprocess_note="有效投诉")
    assert valid.ready() == ["accept"]


@pytest.mark.parametrize("category, channel, preprocessed", [
    ("complaint.other", "hotline", True),            # routed to the customer's grid: the complaint group first
    (NETWORK, "hotline", False), (MARKET, "wechat", False)])
def test_n1_a_work_order_for_a_grid_is_first_processed_by_the_complaint_group(engine, category, channel,
                                                                             preprocessed):
    """《投诉处理管理办法》四.4 各网格…接收…由投诉组进行首次处理拦截无效的投诉工单."""
    walk = Walk.start(engine, "zhang.intake", category, channel=channel, customer_grid="east")
    first = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.state == "ready")
    if preprocessed:
        assert (first.element_id, list(first.candidate_groups)) == ("preprocess", ["complaint_group"])
        walk.do("preprocess", "zhao.group", intercepted=False, preprocess_note="有效,转东城网格")
        first = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.state == "ready")
        assert (first.element_id, list(first.candidate_groups)) == ("accept", ["grid_east"])
    else:
        assert first.element_id == "accept" and "preprocess" not in walk.path()


@pytest.mark.parametrize("category, handling_unit, group", [
    ("complaint.logistics.late_delivery", "county", "county_bureau"),
    ("complaint.logistics.late_delivery", "department", "logistics_centre"),
    ("complaint.marketing.price", "county", "county_bureau"),
    ("complaint.settlement", "county", "county_bureau"),
    ("complaint.leaf.purchasing", "county", "producing_county")])        # (五): the producing county bureau
def test_i4_the_tobacco_intake_gives_a_complaint_to_the_county_bureau_or_the_centre(db, clock, category,
                                                                                   handling_unit, group):
    """《客户投诉管理实施办法》第八条(一)(二)(四) 转卷烟营销中心、县(市)局(分公司)进行处理: the tobacco intake asks who
    handles (承办单位); telecom's intake does not ask it, nor tobacco's the customer segment."""
    engine = shipped_engine(db, clock, Settings(DEFAULT_DATA_DIR, "tobacco"))
    asked = [f["id"] for f in engine.reads.intake_page("normal").fields]
    assert "handling_unit" in asked and "customer_segment" not in asked
    walk = Walk.start(engine, "zhang.intake", category, handling_unit=handling_unit)
    assert walk.data["responsible_group"] == group


def test_i4_the_telecom_intake_asks_the_customer_segment_not_the_tobacco_county_bureau(engine):
    asked = [f["id"] for f in engine.reads.intake_page("normal").fields]
    assert "customer_segment" in asked and "handling_unit" not in asked
