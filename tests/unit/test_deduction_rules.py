"""Pure parts of deduction scoring: the schedule file, the organisation model, whom each line scores (S-6), Q-3."""

from __future__ import annotations

import tomllib
from datetime import datetime, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest

from engine.rules import deductions as rules
from engine.rules.intake import RuleDataError
from engine.rules.organisation import load_organisation, parse_organisation
from engine.topics.deductions import DeductionError, resolve, responsible_person, subjects

DATA = Path(__file__).parents[2] / "data"
SCHEDULE = rules.load_schedule(DATA / "deductions.toml")
ORG = load_organisation(DATA / "organisation.toml")


def amounts(rule_id: str) -> dict[tuple[str, str], tuple[D, str]]:
    return {(line.who, line.role): (line.amount, line.unit) for line in SCHEDULE.rule(rule_id).lines}


def test_the_shipped_schedule_is_seed_000_two():
    assert sorted(SCHEDULE.rules) == ["Q-2", "Q-3", "S-1", "S-2a", "S-2b", "S-2c", "S-3", "S-4", "S-5"]
    assert amounts("S-4") == {("channel", "channel_prefecture"): (D("50"), "yuan"),
                              ("channel", "channel_city"): (D("100"), "yuan")}
    assert amounts("S-3")[("complaint_group", "complaint_group")] == (D("0.01"), "points")
    assert all(isinstance(line.amount, D) for rule in SCHEDULE.rules.values() for line in rule.lines
               if rule.id.startswith("S-"))
    assert [line.amount for rule in ("Q-2", "Q-3") for line in SCHEDULE.rule(rule).lines] == [None, None]
    assert SCHEDULE.team_monthly_limit == 8


def schedule(line: str, exemption: str = "[exemption]\nteam_monthly_limit = 8\n"):
    return rules.parse_schedule(tomllib.loads(f'{exemption}[[rule]]\nid = "S-9"\ndeduct = [{line}]\n'))


@pytest.mark.parametrize("line, problem", [
    ('{ who = "responsible", amount = 0.05 }', "as a string"),
    ('{ who = "responsible", amount = "0.00001" }', "4 decimal places"),
    ('{ who = "responsible", amount = "abc" }', "not a decimal"),
    ('{ who = "responsible", amount = "-1" }', "positive"),
    ('{ who = "boss", amount = "1" }', "who = 'boss'"),
    ('{ who = "responsible", amount = "1", unit = "euro" }', "unit = 'euro'"),
])
def test_a_bad_schedule_line_is_refused_naming_rule_and_line(line, problem):
    with pytest.raises(RuleDataError, match=problem) as error:
        schedule(line)
    assert "S-9 line 1" in str(error.value)


def test_the_schedule_needs_the_q3_limit_and_known_rule_ids():
    with pytest.raises(RuleDataError, match="team_monthly_limit"):
        schedule('{ who = "responsible", amount = "1" }', exemption="")
    with pytest.raises(rules.UnknownRule, match="S-7"):
        SCHEDULE.rule("S-7")


def test_q3_exempt_up_to_the_eighth_complaint_scored_from_the_ninth():
    assert [rules.exempt(n, SCHEDULE) for n in (1, 8, 9, 10)] == [True, True, False, False]


def test_the_scoring_month_is_the_beijing_month():
    assert rules.month_of(datetime(2025, 3, 31, 15, 59, tzinfo=timezone.utc)) == "2025-03"
    assert rules.month_of(datetime(2025, 3, 31, 16, 0, tzinfo=timezone.utc)) == "2025-04"


def test_the_demo_organisation_answers_who_leads_whom():
    assert (ORG.leader_of("tang.netbasic"), ORG.department_of("tang.netbasic").head) == ("he.netbasic", "ma.network")
    assert ORG.leader_of("he.netbasic") == "ma.network"          # a group leader's leader: the department head
    assert (ORG.team_of("xie.agent").key, ORG.team_of("xie.agent").head) == ("cc_team_1", "wu.teamleader")
    assert (ORG.channel_of("tian.channel").key, ORG.department_of("tian.channel").key) == ("channel_east_hall",
                                                                                           "grid_east")
    assert ORG.unit_for_group("net_all").key == "net_all" and ORG.find_unit("group_customer").key == "gov_ent"
    assert ORG.find_person("林工 Lin (broadband engineer)").username == "lin.netall"


@pytest.mark.parametrize("raw, problem", [
    ({"unit": [{"key": "a", "name": "A", "kind": "company"}, {"key": "b", "name": "B", "kind": "company"}]},
     "company at most"),
    ({"unit": [{"key": "a", "name": "A", "kind": "shop"}]}, "kind 'shop'"),
    ({"unit": [{"key": "a", "name": "A", "parent": "z"}]}, "parent z is not a unit"),
    ({"person": [{"username": "p", "name": "P", "leader": "q"}]}, "leader q is not a person"),
    ({"person": [{"username": "p", "name": "P", "leader": "q"}, {"username": "q", "name": "Q", "leader": "p"}]},
     "cycle"),
    ({"unit": [{"key": "a", "name": "A", "group": "g"}, {"key": "b", "name": "B", "group": "g"}]},
     "more than one unit"),
])
def test_a_broken_organisation_is_refused(raw, problem):
    with pytest.raises(RuleDataError, match=problem):
        parse_organisation(raw)


def test_s6_responsible_is_the_named_person_then_the_agent_then_the_first_ask_owner():
    data = {"first_ask_owner": "zhang.intake"}
    assert responsible_person(ORG, data).username == "zhang.intake"
    assert responsible_person(ORG, {**data, "complained_agent": "xie.agent"}).username == "xie.agent"
    named = {**data, "complained_agent": "xie.agent", "liable_person": "罗经理 Luo (east grid manager)"}
    assert responsible_person(ORG, named).username == "luo.grid"
    with pytest.raises(DeductionError, match="liable_person 'nobody'"):
        responsible_person(ORG, {**data, "liable_person": "nobody"})


def test_s1_dept_head_is_the_one_head_of_the_department_the_case_was_routed_to():
    """000 二.1 考核对应部门主管: one head, of the routed (对口) department, not also the first-ask owner's."""
    data = {"first_ask_owner": "zhang.intake", "responsible_group": "net_basic"}
    assert [s.key for s in subjects("dept_head", ORG, data)] == ["ma.network"]
    assert [s.key for s in subjects("dept_head", ORG, {**data, "responsible_group": "market"})] == ["wang.head"]
    # a case routed nowhere: the responsible person's own department head
    assert [s.key for s in subjects("dept_head", ORG, {"first_ask_owner": "zhang.intake"})] == ["wang.head"]


def test_s4_needs_channel_staff_and_s5_a_known_support_unit():
    with pytest.raises(DeductionError, match="nobody to score"):
        resolve(SCHEDULE.rule("S-4"), ORG, {"first_ask_owner": "zhang.intake"})
    bookings, unresolved = resolve(SCHEDULE.rule("S-5"), ORG, {"support_department": "group_customer_onsite"})
    assert [(s.key, s.kind, line.amount) for line, s in bookings] == [("gov_ent", "unit", D("0.5"))]
    assert unresolved == []


def test_a_role_nobody_holds_is_reported_not_booked():
    bookings, unresolved = resolve(SCHEDULE.rule("S-1"), ORG, {"first_ask_owner": "zhou.leader"})
    assert unresolved == ["direct_leader"]                       # the general manager has no leader
    assert {(s.key, line.role) for line, s in bookings} == {
        ("city", "city_kpi"), ("zhou.leader", "dept_head"), ("zhou.leader", "responsible")}


def test_s7_the_tobacco_profile_ships_its_own_unpriced_schedule():
    """004 第十六条 refers to the bureau's 《绩效考评实施办法》: the tobacco profile does not book telecom amounts."""
    from engine.settings import Settings

    path = Settings(DATA, "tobacco").path("deductions.toml")
    assert path == DATA / "profiles" / "tobacco" / "deductions.toml"
    tobacco = rules.load_schedule(path)
    assert set(tobacco.rules) == set(SCHEDULE.rules)            # every rule the processes book is there
    assert all(line.amount is None for rule in tobacco.rules.values() for line in rule.lines)
    priced = rules.parse_schedule({"exemption": {"team_monthly_limit": 8}, "rule": [
        {"id": "S-1", "deduct": [{"who": "responsible", "amount": "2", "unit": "points"}]}]})
    assert priced.rule("S-1").lines[0].amount == D("2")


def test_s6_an_unpriced_line_still_names_whom_it_would_score():
    tobacco = rules.load_schedule(DATA / "profiles" / "tobacco" / "deductions.toml")
    bookings, unresolved = resolve(tobacco.rule("S-1"), ORG, {"first_ask_owner": "zhang.intake"})
    assert [(line.role, line.amount, s.key) for line, s in bookings] == [("complained_party", None, "zhang.intake")]
    assert unresolved == []
