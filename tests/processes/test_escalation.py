"""escalation.bpmn walked path by path through the real engine (SPEC §4, E-1..E-8; 002 附件2 投诉升级处理流程)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.services import SYSTEM, FormInvalid
from engine.store.models import KnowledgeEntry, OverdueRecord
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk, passes

MARKET = "complaint.billing.disputed_fees"


@pytest.fixture
def engine(walk_engine):
    return walk_engine


def major(engine) -> Walk:
    """A major complaint (I-3: 2,500 yuan): it starts at the hand-over of E-1."""
    return Walk.start(engine, "zhang.intake", MARKET, amount=2500)


def test_e1_incomplete_handover_is_refused(engine):
    walk = major(engine)
    task = next(t for t in engine.reads.inbox(engine.accounts.actor("zhao.group")).tasks if t.case_id == walk.case_id)
    with pytest.raises(FormInvalid) as refused:
        engine.cases.complete(task.id, {"escalation_handler": "zhou.leader",
                                  "handler_authority": "全权", "event_history": "投诉"}, engine.accounts.actor("zhao.group"))
    assert {"event_history", "customer_demand", "progress"} <= set(refused.value.errors)
    walk.handover().do("receive_handover", "zhou.leader", handover_complete=False, handover_missing="缺少进展")
    assert walk.ready() == ["handover"]
    walk.handover().do("receive_handover", "zhou.leader", handover_complete=True)
    assert walk.ready() == ["analyse"]
    assert passes(walk.path(), "receive_handover", "gw_handover_complete", "merge_handover", "handover",
                  "receive_handover", "gw_handover_complete", "resolve_start")


def test_e2_analysis_may_go_back_to_the_customer_several_times(engine):
    walk = major(engine).handover().do("receive_handover", "zhou.leader", handover_complete=True)
    for _ in range(2):
        walk.do("analyse", "zhou.leader", evaluation="需了解客户底线", needs_more_contact=True)
        walk.do("contact_customer", "zhou.leader", contact_record="电话沟通")
    walk.do("analyse", "zhou.leader", evaluation="兼顾双方利益", needs_more_contact=False)
    assert walk.ready() == ["draft_solution"]
    assert walk.path().count("contact_customer") == 2


def test_e4_solution_needs_feasibility_and_fairness_and_e3_review_may_send_it_back(engine):
    walk = major(engine).handover().do("receive_handover", "zhou.leader", handover_complete=True)
    walk.do("analyse", "zhou.leader", evaluation="评估", needs_more_contact=False)
    task = next(t for t in engine.reads.inbox(engine.accounts.actor("zhou.leader")).tasks if t.case_id == walk.case_id)
    with pytest.raises(FormInvalid) as refused:
        engine.cases.complete(task.id, {"solution": "全额退费"}, engine.accounts.actor("zhou.leader"))
    assert {"feasibility", "fairness"} <= set(refused.value.errors)
    walk.draft().do("qc_review", "liu.quality", qc_advice="成本过高", qc_approved=False)
    assert walk.ready() == ["draft_solution"]
    assert passes(walk.path(), "qc_review", "gw_qc_approved", "merge_draft")


def test_e5_major_reply_is_due_in_5_working_days_and_a_late_one_is_recorded(engine, clock):
    walk = major(engine).handover().do("receive_handover", "zhou.leader", handover_complete=True)
    due = walk.timers()["reply_due_e5"]
    assert due == datetime(2025, 3, 10, 18, 0, tzinfo=SHANGHAI)
    clock.set(due.replace(minute=1))
    engine.deadlines.fire_due_timers()
    assert passes(walk.path(), "reply_due_e5", "record_e5_overdue", "notify_e5_overdue", "end_e5_overdue")
    assert walk.ready() == ["analyse"]          # non-interrupting: the work goes on
    with engine.store_session() as session:
        assert session.scalars(select(OverdueRecord.rule_id).where(OverdueRecord.case_id == walk.case_id)).all() \
            == ["E-5"]


def test_e6_escalation_rejected_goes_to_external_review(engine):
    walk = major(engine).to_reply_e5().reply_e5(accepted=False)
    assert walk.ready() == ["notify_external_review"]
    walk.do("notify_external_review", "zhao.group", external_review_body="hotline_12315", customer_notified=True)
    walk.do("record_external_review", "zhao.group", external_review_result="调解结论", final_solution="退费一半")
    assert walk.ready() == ["implement"]
    assert passes(walk.path(), "reply_e5", "resolve", "gw_accepted", "notify_external_review",
                  "record_external_review", "merge_implement")


def test_e7_unsatisfied_callback_leads_to_remedial_action_and_another_callback(engine):
    walk = major(engine).to_reply_e5().reply_e5().do("implement", "li.handler", implementation="已退费")
    walk.callback_e7(satisfied=False)
    assert walk.ready() == ["remedy_e7"]
    walk.do("remedy_e7", "li.handler", remedy_action="补偿话费").callback_e7()
    assert walk.ready() == ["analyse_cause_e8"]
    assert passes(walk.path(), "implement", "callback_e7", "gw_satisfied_e7", "remedy_e7", "merge_callback_e7",
                  "callback_e7", "gw_satisfied_e7")


def test_e8_effective_solution_is_added_to_the_knowledge_base(engine):
    walk = major(engine).to_reply_e5().reply_e5().do("implement", "li.handler", implementation="已退费")
    walk.callback_e7().analyse_e8(effective=True, caused_by_staff=False)
    assert walk.ready() == ["record_four_elements"] and "add_to_kb" in walk.path()
    with engine.store_session() as session:
        entries = session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.case_id == walk.case_id)).all()
        assert [(e.category, e.solution, e.measures) for e in entries] == [(MARKET, "方案", "措施")]


def test_e8_ineffective_solution_stays_out_of_the_knowledge_base(engine):
    walk = major(engine).escalate("li.handler", caused_by_staff=False)
    assert walk.ready() == ["record_four_elements"] and "add_to_kb" not in walk.path()


def test_n7_n9_s1_escalated_major_case_is_recorded_reviewed_decided_and_scored(engine):
    """004 第十条(四)(五), 第十六条; 001 第八条: an escalated case is not closed by the escalation's end."""
    walk = major(engine).escalate("li.handler", caused_by_staff=False)
    assert walk.ready() == ["record_four_elements"] and walk.status == "running"
    walk.record("li.handler").do("approve_record", "wang.head", head_approved=False, head_opinion="补充")
    assert walk.ready() == ["record_four_elements"]             # N-7: the head may send it back
    walk.after_escalation("li.handler", "wang.head")
    assert walk.status == "completed"
    assert passes(walk.path(), "end_escalation", "call_escalation_major", "merge_escalated", "merge_record",
                  "record_four_elements", "approve_record", "gw_called_back", "merge_outcome", "decide_outcome",
                  "book_outcome", "gw_cause_done", "end_escalated")
    assert not {"callback", "analyse_cause"} & set(walk.path())   # called back in E-7, analysed in E-8
    assert {e.rule_id for e in engine.ledger.entries(case_id=walk.case_id)} == {"S-1"}


def test_e9_level_comes_from_the_channel_not_from_the_handover(engine):
    """E-9 (000 二.2): a complaint received through MIIT is a MIIT escalation; an internal hand-over is local."""
    miit = Walk.start(engine, "zhang.intake", MARKET, amount=2500, channel="miit")
    local = major(engine)
    outside = Walk.start(engine, "zhang.intake", MARKET, amount=2500, escalated_outside="provincial")
    assert [w.data["escalation_level"] for w in (miit, local, outside)] == ["miit", "local", "provincial"]
    assert all(w.data["escalated"] for w in (miit, local, outside))


def test_e7_the_call_back_is_due_within_3_working_days_and_a_late_one_is_reminded(engine, clock):
    """004 第十一条 在三个工作日内对投诉客户进行电话回访: the escalation's call-back has the same limit."""
    walk = major(engine).to_reply_e5().reply_e5().do("implement", "li.handler", implementation="已退费")
    assert walk.timers()["callback_due_e7"] == datetime(2025, 3, 6, 18, 0, tzinfo=SHANGHAI)
    task = next(t for t in engine.reads.case_page(walk.case_id, SYSTEM).tasks if t.element_id == "callback_e7")
    assert task.due_at == datetime(2025, 3, 6, 18, 0, tzinfo=SHANGHAI)
    clock.set(datetime(2025, 3, 6, 18, 1, tzinfo=SHANGHAI))
    engine.deadlines.fire_due_timers()
    assert passes(walk.path(), "callback_due_e7", "notify_callback_due_e7", "end_callback_reminder_e7")
    assert walk.ready() == ["callback_e7"]
    walk.callback_e7()
    assert walk.ready() == ["analyse_cause_e8"]


def unsatisfied_after_escalation(walk: Walk, then: str) -> Walk:
    """E-1 .. E-7: escalated, replied, implemented; the customer is still dissatisfied at the call-back."""
    walk.to_reply_e5().reply_e5().do("implement", "li.handler", implementation="已退费")
    return walk.do("callback_e7", "chen.callback", callback_note="客户仍不满意", satisfied=False, unsatisfied_next=then)


def test_e7_a_customer_still_unsatisfied_after_escalation_is_escalated_again_on_the_receipt_clock(engine, clock):
    """004 第十三条 若客户不满意,要重新处理或进行投诉升级: the call-back escalates again; the case goes round from the
    hand-over (E-1), the E-5 reply limit still counts from the receipt (001 第七条), the level is unchanged (E-9)."""
    walk = major(engine)
    due = datetime(2025, 3, 10, 18, 0, tzinfo=SHANGHAI)      # 5 working days from the receipt on 03-03
    clock.advance(days=1)
    unsatisfied_after_escalation(walk, "escalate")
    assert walk.ready() == ["handover"]
    assert (walk.data["escalation_round"], walk.data["escalation_level"]) == (2, "local")
    clock.advance(days=1)
    walk.handover().do("receive_handover", "zhou.leader", handover_complete=True)
    assert walk.ready() == ["analyse"] and walk.timers()["reply_due_e5"] == due      # not restarted
    walk.do("analyse", "zhou.leader", evaluation="再次评估", needs_more_contact=False).draft()
    walk.do("qc_review", "liu.quality", qc_advice="同意", qc_approved=True).reply_e5()
    walk.do("implement", "li.handler", implementation="补偿到位").callback_e7()
    assert walk.ready() == ["analyse_cause_e8"] and walk.path().count("handover") == 2
    assert passes(walk.path(), "callback_e7", "gw_satisfied_e7", "raise_escalation_e7", "merge_handover",
                  "handover", "receive_handover", "resolve", "implement", "callback_e7", "gw_satisfied_e7")
    walk.analyse_e8(caused_by_staff=False)
    assert walk.ready() == ["record_four_elements"] and walk.data["escalation_round"] == 2


def test_e7_a_customer_still_unsatisfied_after_escalation_gets_a_remedy_and_another_call_back(engine):
    walk = unsatisfied_after_escalation(major(engine), "remedy")
    assert walk.ready() == ["remedy_e7"] and walk.data["escalation_round"] == 1 and "first_round_e7" in walk.path()
    walk.do("remedy_e7", "li.handler", remedy_action="补偿话费").callback_e7()
    assert walk.ready() == ["analyse_cause_e8"]
    assert "raise_escalation_e7" not in walk.path() and walk.path().count("handover") == 1
    assert passes(walk.path(), "callback_e7", "gw_satisfied_e7", "remedy_e7", "merge_callback_e7", "callback_e7")
