"""Intake and classification on normal.bpmn's first lane (SPEC §2, I-1..I-6), walked through the real engine."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.services import SYSTEM, FormInvalid
from engine.store.models import AuditEvent, Case
from tests.processes.casewalk import Walk, intake, passes

MARKET = "complaint.billing.disputed_fees"


@pytest.fixture
def engine(walk_engine):
    return walk_engine


def rows(engine) -> tuple[int, int]:
    with engine.store_session() as session:
        return (session.scalar(select(func.count()).select_from(Case)),
                session.scalar(select(func.count()).select_from(AuditEvent)))


def test_i1_i5_registration_records_the_contact_the_registering_clerk_and_the_first_ask_owner(engine):
    walk = Walk.start(engine, "lv.greennet", MARKET, place="营业厅", demand="退还流量费", first_ask_owner="张受理 Zhang (intake clerk)")
    case = engine.reads.case_page(walk.case_id, SYSTEM).case
    assert {k: case.data[k] for k in ("complainant_name", "contact", "received_at", "place", "target", "facts",
                                      "channel", "demand")} == {
        "complainant_name": "王先生", "contact": "13800000000", "received_at": "2025-03-03", "place": "营业厅",
        "target": "服务", "facts": "客户反映的问题经过", "channel": "hotline", "demand": "退还流量费"}
    # I-5: the first-ask owner is stored by username (a person of the organisation), apart from the clerk.
    assert (case.data["first_ask_owner"], case.data["registered_by"], case.started_by, case.category) == (
        "zhang.intake", "lv.greennet", "lv.greennet", MARKET)


def test_i6_complaint_without_complainant_target_or_facts_is_refused_and_nothing_is_stored(engine):
    before = rows(engine)
    with pytest.raises(FormInvalid) as refused:
        engine.cases.start("normal", intake(MARKET, complainant_name="", target="", facts=None),
                          engine.accounts.actor("zhang.intake"))
    assert {"complainant_name", "target", "facts"} <= set(refused.value.errors)
    assert rows(engine) == before


def test_i2_consultation_answered_on_the_spot_is_closed(engine):
    walk = Walk.start(engine, "zhang.intake", "consultation.billing")
    walk.do("answer_consultation", "zhang.intake", consultation_answer="套餐资费说明", answered_on_spot=True)
    assert walk.status == "completed" and walk.data["kind"] == "consultation"
    assert passes(walk.path(), "gw_kind", "answer_consultation", "gw_answered", "end_consultation")
    assert "accept" not in walk.path() and "start_demand" not in walk.path()


def test_i2_consultation_not_answered_on_the_spot_becomes_a_demand(engine):
    walk = Walk.start(engine, "zhang.intake", "consultation.billing")
    walk.do("answer_consultation", "zhang.intake", consultation_answer="需核实", answered_on_spot=False)
    assert walk.ready() == ["register"]
    assert passes(walk.path(), "answer_consultation", "gw_answered", "merge_demand", "start_demand")


def test_i3_e3_major_complaint_at_intake_goes_straight_to_escalation_with_quality_centre_review(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET, media_exposed=True)
    assert walk.ready() == ["handover"] and walk.data["severity"] == "major"
    assert passes(walk.path(), "classify", "gw_severity", "start_escalation") and "accept" not in walk.path()
    walk.handover().do("receive_handover", "zhou.leader", handover_complete=True)
    walk.do("analyse", "zhou.leader", evaluation="评估", needs_more_contact=False).draft()
    assert walk.ready() == ["qc_review"]        # 002 3.1.2: the quality centre reviews major escalations
    walk.do("qc_review", "liu.quality", qc_advice="方案可行", qc_approved=True)
    assert walk.ready() == ["reply_e5"]
    assert passes(walk.path(), "draft_solution", "gw_major", "qc_review", "gw_qc_approved", "merge_reply")


def test_i4_complaint_is_routed_to_the_department_of_its_category(engine):
    walk = Walk.start(engine, "zhang.intake", "complaint.network.signal")
    assert (walk.data["responsible_group"], walk.data["responsible_department"]) == ("net_basic", "network")
    def sees(user):
        return [t.element_id for t in engine.reads.inbox(engine.accounts.actor(user)).tasks if t.case_id == walk.case_id]
    assert sees("tang.netbasic") == ["accept"] and sees("li.handler") == []
