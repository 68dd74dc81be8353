"""Deduction scoring S-1..S-8 (000 二 考核方法, 001 6.2), booked by the shipped processes through the real engine."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime
from decimal import Decimal as D

import pytest

from engine.services import SYSTEM, FormInvalid
from engine.settings import Settings
from tests.conftest import SHANGHAI
from tests.processes.casewalk import ROOT, Walk, shipped_engine

MARKET = "complaint.billing.disputed_fees"          # routed to the market department (I-4)
NETWORK = "complaint.network.signal"                # routed to the network department's basic-network group
CHANNEL = "complaint.service.channel"
AGENT = "complaint.service.call_centre_agent"


@pytest.fixture
def engine(db, clock):
    """The engine with the shipped topics, the demo organisation and the five processes deployed."""
    return shipped_engine(db, clock)


def booked(engine, case_id: int, rule_id: str) -> set[tuple[str, str, D, str]]:
    """Return (subject, role, amount, unit) of the case's ledger entries for ``rule_id``."""
    return {(e.subject, e.role, e.amount, e.unit) for e in engine.ledger.entries(case_id=case_id)
            if e.rule_id == rule_id}


def at(clock, text: str) -> None:
    clock.set(datetime.fromisoformat(text).replace(tzinfo=SHANGHAI))


def test_s1_reasoned_complaint_scores_kpi_dept_head_direct_leader_and_first_ask_owner(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide()
    assert booked(engine, walk.case_id, "S-1") == {
        ("city", "city_kpi", D("0.05"), "points"),
        ("wang.head", "dept_head", D("0.01"), "points"),
        ("gao.front", "direct_leader", D("0.03"), "points"),
        ("zhang.intake", "responsible", D("0.05"), "points"),
    }
    entry = next(e for e in engine.ledger.entries(case_id=walk.case_id) if e.role == "responsible")
    assert (entry.month, entry.element_id, entry.booked_by, entry.department, entry.kind) == (
        "2025-03", "book_outcome", "zhao.group", "market", "booking")
    assert walk.close().status == "completed"


def test_s2a_late_or_shirking_adds_005_for_the_responsible_person(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head")
    walk.decide(late_or_shirking=True)
    assert booked(engine, walk.case_id, "S-2a") == {("zhang.intake", "responsible", D("0.05"), "points")}
    assert len(booked(engine, walk.case_id, "S-1")) == 4      # cumulative (以上考核适用于累计扣分)


def test_s2a_is_not_booked_when_the_outcome_names_no_delay(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide()
    assert booked(engine, walk.case_id, "S-2a") == set()


def test_s2b_local_escalation_after_the_customer_rejects_the_reply(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    walk.reply("li.handler", accepted=False).do("coordinate", "li.handler", coordination_note="再协调", accepted=False)
    walk.escalate("li.handler")
    assert booked(engine, walk.case_id, "S-2b") == {
        ("city", "city_kpi", D("0.1"), "points"),
        ("wang.head", "dept_head", D("0.01"), "points"),
        ("gao.front", "direct_leader", D("0.05"), "points"),
        ("zhang.intake", "responsible", D("0.1"), "points"),
    }
    assert walk.after_escalation("li.handler", "wang.head").status == "completed"


@pytest.mark.parametrize("channel, level", [("comms_bureau", "provincial"), ("miit", "miit")])
def test_s2c_provincial_or_miit_escalation_of_a_major_complaint(engine, channel, level):
    walk = Walk.start(engine, "zhang.intake", MARKET, amount=2500, channel=channel)   # major (I-3) -> escalation
    walk.escalate("li.handler")
    assert walk.data["escalation_level"] == level          # E-9: from where the customer escalated
    assert booked(engine, walk.case_id, "S-2c") == {
        ("city", "city_kpi", D("0.2"), "points"),
        ("wang.head", "dept_head", D("0.05"), "points"),
        ("gao.front", "direct_leader", D("0.1"), "points"),
        ("zhang.intake", "responsible", D("0.2"), "points"),
    }
    assert booked(engine, walk.case_id, "S-2b") == set()


def test_e9_escalation_not_caused_by_staff_books_nothing(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET, amount=2500).escalate("li.handler", caused_by_staff=False)
    assert engine.ledger.entries(case_id=walk.case_id) == [] and walk.ready() == ["record_four_elements"]


def test_s3_overdue_green_net_order_scores_kpi_complaint_group_and_the_handler(engine, clock):
    walk = Walk.start(engine, "lv.greennet", MARKET, channel="green_net").preprocess("lv.greennet").accept("li.handler")
    walk.investigate("li.handler")
    at(clock, "2025-03-06T18:01:00")            # N-4: 3 working days after Monday's receipt, N-11
    engine.deadlines.fire_due_timers()
    assert booked(engine, walk.case_id, "S-3") == {
        ("city", "city_kpi", D("0.01"), "points"),
        ("complaint_management", "complaint_group", D("0.01"), "points"),
        ("lv.greennet", "responsible", D("0.05"), "points"),
    }
    assert walk.ready() == ["handover"]         # N-11: now major, escalated


def test_s3_n11_an_overdue_ordinary_complaint_is_escalated_but_books_no_s3(engine, clock):
    """000 二.3 绿网工单处理超时的: S-3 is about green-net work orders only, not every overdue complaint."""
    walk = Walk.start(engine, "lv.greennet", MARKET).accept("li.handler").investigate("li.handler")
    at(clock, "2025-03-06T18:01:00")
    engine.deadlines.fire_due_timers()
    assert walk.ready() == ["handover"] and walk.data["severity"] == "major"     # N-11 still holds
    assert "gw_green_net" in walk.path() and "book_s3" not in walk.path()
    assert engine.ledger.entries(case_id=walk.case_id) == []


def test_s3_overdue_caused_outside_the_complaint_group_scores_that_person_instead(engine, clock):
    walk = Walk.start(engine, "lv.greennet", MARKET, channel="green_net").preprocess("lv.greennet").accept("li.handler")
    walk.investigate("li.handler", liable_person="luo.grid")
    at(clock, "2025-03-06T18:01:00")
    engine.deadlines.fire_due_timers()
    assert booked(engine, walk.case_id, "S-3") == {
        ("city", "city_kpi", D("0.01"), "points"),
        ("complaint_management", "complaint_group", D("0.01"), "points"),
        ("luo.grid", "responsible", D("0.05"), "points"),
    }


def test_s4_channel_staff_complaint_costs_the_channel_50_plus_100_yuan(engine):
    walk = Walk.start(engine, "zhang.intake", CHANNEL, first_ask_owner="tian.channel").to_outcome("li.handler", "wang.head")
    walk.decide(liable_party="channel", notified=False)
    assert booked(engine, walk.case_id, "S-4") == {
        ("channel_east_hall", "channel_prefecture", D("50"), "yuan"),
        ("channel_east_hall", "channel_city", D("100"), "yuan"),
    }
    assert booked(engine, walk.case_id, "S-1") == set()


def test_s4_s1_a_notified_channel_complaint_keeps_its_other_lines_on_top_of_the_yuan(engine):
    """000 二.4 在州公司每笔50元的酬金考核基础上 …; 以上考核适用于累计扣分: S-4 adds to S-1, it does not replace it."""
    walk = Walk.start(engine, "zhang.intake", CHANNEL, first_ask_owner="tian.channel", prefecture_notified=True)
    walk.to_outcome("li.handler", "wang.head").decide(liable_party="channel", notified=False)
    assert {role for _, role, _, _ in booked(engine, walk.case_id, "S-4")} == {"channel_prefecture", "channel_city"}
    assert ("tian.channel", "responsible", D("0.05"), "points") in booked(engine, walk.case_id, "S-1")
    assert ("song.channel", "direct_leader", D("0.03"), "points") in booked(engine, walk.case_id, "S-1")


def test_s1_an_upheld_complaint_the_prefecture_did_not_notify_books_no_s1(engine):
    """000 二.1 州公司通报的有理由投诉和服务质量类投诉: the trigger is the prefecture's notification."""
    walk = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head")
    walk.decide(notified=False)
    assert "book_outcome" in walk.path() and engine.ledger.entries(case_id=walk.case_id) == []


def test_s1_notified_at_intake_is_scored_without_a_later_notification(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET, prefecture_notified=True).to_outcome("li.handler", "wang.head")
    walk.decide(notified=False)
    assert len(booked(engine, walk.case_id, "S-1")) == 4


@pytest.mark.parametrize("department, hours, unit", [("network", 6, "network"), ("group_customer", 2, "gov_ent")])
def test_s5_department_that_does_not_support_in_time_loses_05(engine, clock, department, hours, unit):
    walk = Walk.start(engine, "zhang.intake", NETWORK).accept("tang.netbasic")
    walk.investigate("tang.netbasic", sufficient=False).ask_support("tang.netbasic", department)
    clock.advance(hours=hours, minutes=-1)
    engine.deadlines.fire_due_timers()
    assert booked(engine, walk.case_id, "S-5") == set()
    clock.advance(minutes=2)                    # N-12 (003): network 6 h, group customers 2 h
    engine.deadlines.fire_due_timers()
    assert booked(engine, walk.case_id, "S-5") == {(unit, "support_unit", D("0.5"), "points")}
    assert "support" in walk.ready()            # non-interrupting: the support task stays open


def test_s3_a_liable_person_inside_the_complaint_group_leaves_the_line_with_the_green_net_handler(engine, clock):
    walk = Walk.start(engine, "lv.greennet", MARKET, channel="green_net").preprocess("lv.greennet").accept("li.handler")
    walk.investigate("li.handler", liable_person="zhao.group")
    at(clock, "2025-03-06T18:01:00")
    engine.deadlines.fire_due_timers()
    assert ("lv.greennet", "responsible", D("0.05"), "points") in booked(engine, walk.case_id, "S-3")


def test_i5_s6_the_registering_clerk_is_not_booked_the_first_ask_owner_is(engine):
    """000 二 首问责任制: the first-ask owner is whom the customer first approached, not who registers."""
    walk = Walk.start(engine, "lv.greennet", MARKET, first_ask_owner="zhang.intake")
    assert (walk.data["first_ask_owner"], walk.data["registered_by"]) == ("zhang.intake", "lv.greennet")
    walk.to_outcome("li.handler", "wang.head").decide()
    subjects = {s for s, _, _, _ in booked(engine, walk.case_id, "S-1")}
    assert "zhang.intake" in subjects and "lv.greennet" not in subjects
    assert "name_responsible" not in walk.path()


def test_s6_i5_nobody_named_books_no_responsible_line_and_the_complaint_group_is_asked_to_name_one(engine):
    walk = Walk.start(engine, "zhang.intake", MARKET, first_ask_owner=None)
    assert "first_ask_owner" not in walk.data
    walk.to_outcome("li.handler", "wang.head").decide()
    assert walk.ready() == ["name_responsible"]             # S-6: never the registering clerk by default
    walk.do("name_responsible", "zhao.group", responsible_note="无法认定具体责任人")
    assert booked(engine, walk.case_id, "S-1") == {
        ("city", "city_kpi", D("0.05"), "points"),
        ("wang.head", "dept_head", D("0.01"), "points"),     # the routed department (相关部门负连带责任)
    }
    assert walk.data["deductions_unresolved"] == {"S-1": ["direct_leader", "responsible"]}
    assert walk.close().status == "completed"


def test_s6_the_person_the_complaint_group_names_is_booked(engine):
    walk = Walk.start(engine, "zhang.intake", NETWORK, first_ask_owner=None)
    walk.to_outcome("tang.netbasic", "ma.network").decide()
    walk.do("name_responsible", "zhao.group", liable_person="唐工 Tang (basic-network engineer)")
    assert ("tang.netbasic", "responsible", D("0.05"), "points") in booked(engine, walk.case_id, "S-1")


def test_i5_s6_a_first_ask_owner_who_is_nobody_of_the_organisation_is_refused(engine):
    with pytest.raises(FormInvalid) as refused:
        Walk.start(engine, "zhang.intake", MARKET, first_ask_owner="路人甲")
    assert set(refused.value.errors) == {"first_ask_owner"}
    assert refused.value.errors["first_ask_owner"].code == "not_a_person"
    assert engine.reads.case_list(SYSTEM) == []                 # nothing is half-saved (I-6)


def test_s6_the_person_the_investigation_names_is_responsible_instead_of_the_first_ask_owner(engine):
    walk = Walk.start(engine, "zhang.intake", NETWORK).to_outcome("tang.netbasic", "ma.network",
                                                                   liable_person="tang.netbasic")
    walk.decide()
    assert booked(engine, walk.case_id, "S-1") == {
        ("city", "city_kpi", D("0.05"), "points"),
        ("ma.network", "dept_head", D("0.01"), "points"),
        ("he.netbasic", "direct_leader", D("0.03"), "points"),
        ("tang.netbasic", "responsible", D("0.05"), "points"),
    }


def test_s1_one_department_head_is_booked_the_head_of_the_routed_department(engine):
    """000 二.1 分公司考核对应部门主管 (one head): the department the complaint was routed to (对口部门, 000 三),
    not also the head of the first-ask owner's own department (zhang.intake, market front desk: wang.head)."""
    walk = Walk.start(engine, "zhang.intake", NETWORK).to_outcome("tang.netbasic", "ma.network").decide()
    assert booked(engine, walk.case_id, "S-1") == {
        ("city", "city_kpi", D("0.05"), "points"),
        ("ma.network", "dept_head", D("0.01"), "points"),
        ("gao.front", "direct_leader", D("0.03"), "points"),
        ("zhang.intake", "responsible", D("0.05"), "points"),
    }


def test_a_booking_that_cannot_say_whom_to_score_leaves_nothing_and_can_be_retried(engine):
    walk = Walk.start(engine, "zhang.intake", CHANNEL).to_outcome("li.handler", "wang.head")
    walk.decide(liable_party="channel")         # S-4, but the first-ask owner is no channel staff
    assert walk.status == "incident" and "S-4" in walk.incident()
    assert engine.ledger.entries(case_id=walk.case_id) == []
    engine.admin.load_organisation({"person": [{"username": "zhang.intake", "name": "张受理 Zhang (intake clerk)",
                                          "unit": "channel_east_hall", "groups": ["intake"]}]})
    assert engine.cases.retry(walk.case_id, engine.accounts.actor("admin")).status == "running"
    assert {role for _, role, _, _ in booked(engine, walk.case_id, "S-4")} == {"channel_prefecture", "channel_city"}


def test_a_repeated_booking_task_books_once(engine, clock):
    walk = Walk.start(engine, "zhang.intake", NETWORK).accept("tang.netbasic")
    for _ in range(2):                          # support asked twice, late twice: book_s5 runs twice
        walk.investigate("tang.netbasic", sufficient=False).ask_support("tang.netbasic", "network")
        clock.advance(hours=7)
        engine.deadlines.fire_due_timers()
        walk.do("support", "tang.netbasic", support_result="已支撑")
    runs = [e for e in engine.reads.case_page(walk.case_id, SYSTEM).events if e.element_id == "book_s5" and e.lifecycle == "completed"]
    assert len(runs) == 2
    assert [(e.subject, e.amount) for e in engine.ledger.entries(case_id=walk.case_id)] == [("network", D("0.5"))]


def complain_about(engine, agent: str, leader: str, accepted: bool = True) -> Walk:
    """Q-1: a service-quality complaint against one call-centre agent, through 二解 with their team leader."""
    walk = Walk.start(engine, "pan.agent" if agent == "xie.agent" else "xie.agent", AGENT,
                      service_quality_agent_count=1, complained_agent=agent)
    return walk.second_explanation(leader, accepted)


def test_q3_successful_second_explanation_exempts_the_agent_until_the_ninth_team_complaint(engine):
    walks = [complain_about(engine, "xie.agent", "wu.teamleader", accepted=(n != 4)) for n in range(1, 9)]
    other_team = complain_about(engine, "pan.agent", "jiang.teamleader")
    # 001 6.2.1(3): the 8 complaints of team 1 (one of them not withdrawn) count; team 2's does not.
    assert [w.data["team_complaints_this_month"] for w in walks] == list(range(1, 9))
    assert walks[7].data["sq_result"] == "exempted" and walks[7].status == "completed"
    assert walks[3].data["sq_result"] == "failed" and walks[3].ready() == ["accept"]
    assert other_team.data["team_complaints_this_month"] == 1
    assert engine.ledger.entries(month="2025-03") == []
    ninth = complain_about(engine, "xie.agent", "wu.teamleader")
    assert (ninth.data["team_complaints_this_month"], ninth.data["sq_result"]) == (9, "withdrawn")
    # S-8, 001 6.2.1(3): from the 9th on the agent is scored by the centre's QA standard (按当前质检标准评定考核),
    # rule Q-3 of the schedule, not S-1; its lines are unpriced until the owner enters the standard's amounts.
    assert "book_agent" in ninth.path() and booked(engine, ninth.case_id, "S-1") == set()
    assert ninth.data["deductions_unpriced"] == {"Q-3": ["agent"]}


def test_q3_the_count_starts_again_each_month(engine, clock):
    for _ in range(9):
        complain_about(engine, "pan.agent", "jiang.teamleader")
    at(clock, "2025-04-01T09:00:00")
    april = complain_about(engine, "pan.agent", "jiang.teamleader")
    assert (april.data["team_complaints_this_month"], april.data["sq_result"]) == (1, "exempted")
    assert "deductions_unpriced" not in april.data and "book_agent" not in april.path()


def test_changing_an_amount_in_the_schedule_file_changes_the_next_booking(db, clock, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(ROOT / "data", data_dir)
    engine = shipped_engine(db, clock, Settings(data_dir))
    first = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide()
    schedule = data_dir / "deductions.toml"
    text = schedule.read_text(encoding="utf-8")
    s1_responsible = '{ who = "responsible", amount = "0.05", unit = "points" }'     # the first rule is S-1
    schedule.write_text(text.replace(s1_responsible, s1_responsible.replace("0.05", "0.075"), 1), encoding="utf-8")
    os.utime(schedule, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    second = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide()
    assert ("zhang.intake", "responsible", D("0.05"), "points") in booked(engine, first.case_id, "S-1")
    assert ("zhang.intake", "responsible", D("0.075"), "points") in booked(engine, second.case_id, "S-1")
    assert [t["amount"] for t in engine.ledger.totals("2025-03") if t["key"] == "zhang.intake"] == [D("0.125")]


def test_s7_an_unpriced_schedule_books_nothing_until_the_owner_sets_the_amounts(db, clock, tmp_path):
    """The tobacco profile's own schedule (004 第十六条 《绩效考评实施办法》): unpriced lines book nothing, say so."""
    data_dir = tmp_path / "data"
    shutil.copytree(ROOT / "data", data_dir)
    for name in ("routing.toml", "categories.toml"):     # the demo organisation's routing, the tobacco schedule
        shutil.copy(data_dir / "profiles" / "telecom" / name, data_dir / "profiles" / "tobacco" / name)
    engine = shipped_engine(db, clock, Settings(data_dir, "tobacco"))
    first = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide()
    assert engine.ledger.entries(case_id=first.case_id) == []
    assert first.data["deductions_unpriced"] == {"S-1": ["complained_party"]}
    schedule = data_dir / "profiles" / "tobacco" / "deductions.toml"
    text = schedule.read_text(encoding="utf-8")
    line = '{ who = "responsible", role = "complained_party", unit = "points" }'
    schedule.write_text(text.replace(line, line.replace('unit', 'amount = "1", unit'), 1), encoding="utf-8")
    os.utime(schedule, ns=(time.time_ns(), time.time_ns() + 1_000_000_000))
    second = Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide()
    assert booked(engine, second.case_id, "S-1") == {("zhang.intake", "complained_party", D("1"), "points")}
