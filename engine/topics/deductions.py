"""``book_deductions`` (S-1..S-7, 000 二 考核方法) and ``count_team_complaints`` (Q-3, S-8, 001 6.2.1).

The schedule (``data/deductions.toml``) says how much each role loses for a rule; this module
finds who holds each role in the case (S-6) and appends one ledger entry per person or unit
and role through the command's session. The handler runs in a savepoint: a failure books nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import func, select

from ..rules import deductions as rules
from ..rules.organisation import Organisation, Person, Unit
from ..services import TopicContext, ledger, organisation
from ..settings import RuleFile, Settings
from ..store.models import AuditEvent, TeamComplaint

# S-6 (000 二 首问责任制): the person the investigation named wins over the agent complained about,
# who wins over the first-ask owner (I-5).
RESPONSIBLE_FIELDS = ("liable_person", "complained_agent", "first_ask_owner")
# Schedule lines that follow the responsible person (nobody to score for them is an error once someone is named).
PERSONAL = ("responsible", "direct_leader", "dept_head", "channel")


class DeductionError(ValueError):
    """A booking cannot say whom to score; the case goes to incident with this message."""


@dataclass(frozen=True)
class Subject:
    """Who a ledger entry scores: a person, a unit (group, department, grid, channel) or the company's KPI."""

    key: str
    kind: str            # person | unit | kpi
    name: str
    department: str


def responsible_person(org: Organisation, data: Mapping[str, Any]) -> Person | None:
    """S-6: return the liable person named by the investigation, else the agent, else the first-ask owner.

    None when the case names nobody: then no line of the responsible person (nor of their leader or
    channel) is booked, never the registering clerk by default (I-5).
    """
    for field in RESPONSIBLE_FIELDS:
        text = data.get(field)
        if text:
            person = org.find_person(text)
            if person is None:
                raise DeductionError(f"S-6: {field} {text!r} is not a person of the organisation")
            return person
    return None


def in_complaint_group(org: Organisation, username: str) -> bool:
    """Tell whether a person works in the complaint management group (投诉管理组) or one of its units."""
    group = org.unit_for_group("complaint_group")
    unit = org.people[username].unit
    return group is not None and any(u.key == group.key for u in org.ancestors(unit))


def late_party(org: Organisation, data: Mapping[str, Any]) -> Person | None:
    """S-3 (000 二.3): the green-net handler, or instead the person outside the complaint group who made it late.

    The handler is the green-net specialist who made the work order (000 一.2.3 协同新建绿网工单:
    ``registered_by``); a liable person the investigation named outside the complaint group takes the line
    instead (非投诉组人员导致超时的考核对应责任人当月绩效0.05分/笔).
    """
    named = org.find_person(data.get("liable_person")) if data.get("liable_person") else None
    if data.get("liable_person") and named is None:
        raise DeductionError(f"S-3: liable_person {data['liable_person']!r} is not a person of the organisation")
    if named is not None and not in_complaint_group(org, named.username):
        return named
    return org.find_person(data.get("green_net_handler") or data.get("registered_by"))


def _person(org: Organisation, username: str) -> Subject:
    return Subject(username, "person", org.people[username].name, org.department_of(username).key)


def _unit(org: Organisation, unit: Unit) -> Subject:
    return Subject(unit.key, "unit", unit.name, org.department_of_unit(unit.key).key)


def subjects(who: str, org: Organisation, data: Mapping[str, Any]) -> list[Subject]:
    """Return the people or units a schedule line's ``who`` names in this case (empty: nobody holds it)."""
    if who == "city_kpi":
        company = org.company()
        return [Subject(company.key, "kpi", company.name, company.key)]
    if who == "complaint_group":
        unit = org.unit_for_group("complaint_group")
        return [_unit(org, unit)] if unit else []
    if who == "support_unit":
        # 000 二.5 scores 网格或部门: an outside carrier (unit kind external, or support_scored false) never.
        unit = org.find_unit(data.get("support_unit")) or org.find_unit(data.get("support_department"))
        if unit is None or unit.kind == "external" or data.get("support_scored") is False:
            return []
        return [_unit(org, unit)]
    if who == "team_leader":
        # Q-2 (001 6.2.4(3)): the agent's own team leader, who had to call back (sq_team_leader).
        leader = org.find_person(data.get("sq_team_leader"))
        return [_person(org, leader.username)] if leader else []
    if who == "late_party":
        late = late_party(org, data)
        return [_person(org, late.username)] if late else []
    person = responsible_person(org, data)
    if who == "responsible":
        return [_person(org, person.username)] if person else []
    if who == "direct_leader":
        leader = org.leader_of(person.username) if person else None
        return [_person(org, leader)] if leader else []
    if who == "channel":
        channel = org.channel_of(person.username) if person else None
        return [_unit(org, channel)] if channel else []
    if who == "dept_head":
        # 000 二.1 分公司考核对应部门主管: one head, of the department the complaint corresponds to (对口部门, 000 三
        # 涉及对口部门的,扣分计入部门考核): the department the case was routed to (I-4), whose head reviewed the
        # record (N-7). Only a case routed nowhere falls back to the responsible person's department.
        routed = org.unit_for_group(data.get("responsible_group"))
        department = (org.department_of_unit(routed.key) if routed is not None
                      else org.department_of(person.username) if person else None)
        return [_person(org, department.head)] if department is not None and department.head else []
    raise DeductionError(f"unknown who {who!r}")


def resolve(rule: rules.Rule, org: Organisation, data: Mapping[str, Any]
            ) -> tuple[list[tuple[rules.Line, Subject]], list[str]]:
    """Return (line, subject) pairs to book and the roles nobody holds.

    A rule that scores nobody although the case names a responsible person is an error (the organisation and
    the case disagree, e.g. S-4 for someone who is no channel staff); with nobody named (S-6) it books nothing.
    """
    bookings, unresolved = [], []
    for line in rule.lines:
        found = subjects(line.who, org, data)
        bookings += [(line, subject) for subject in found]
        if not found:
            unresolved.append(line.role)
    personal = any(line.who in PERSONAL for line in rule.lines)
    if not bookings and personal and responsible_person(org, data) is not None:
        raise DeductionError(f"{rule.id}: nobody to score ({', '.join(unresolved)}); "
                             "check the organisation and the case's responsible person")
    return bookings, unresolved


def case_facts(ctx: TopicContext) -> dict[str, Any]:
    """Return the task's data, with the S-6 names submitted earlier in the case filled in.

    A deadline that interrupts a sub-process (N-11 -> S-3) continues with the data the case
    had when it entered the sub-process; whom the investigation inside named is still a fact
    of the case, kept in the audit trail of the form that named it (the latest one wins).
    """
    data = dict(ctx.data)
    missing = [field for field in RESPONSIBLE_FIELDS if not data.get(field)]
    if missing:
        submitted = ctx.session.scalars(select(AuditEvent.data).where(
            AuditEvent.case_id == ctx.case_id, AuditEvent.lifecycle == "completed",
            AuditEvent.element_type == "userTask").order_by(AuditEvent.id.desc()))
        for values in submitted:
            for field in [f for f in missing if (values or {}).get(f)]:
                data[field] = values[field]
                missing.remove(field)
    return data


class DeductionTopics:
    """Handlers bound to the installation's deduction schedule (re-read when the file changes)."""

    def __init__(self, settings: Settings):
        self.schedule = RuleFile(settings.path("deductions.toml"), rules.load_schedule)

    def book(self, ctx: TopicContext, rule_id: str | list[str]) -> dict[str, Any]:
        """Book ``rule_id`` (or each of a list, cumulative) for the case: one ledger entry per person or unit and
        role, once (S-7). An empty list books nothing."""
        ids = [rule_id] if isinstance(rule_id, str) else list(rule_id or [])
        schedule = self.schedule.get()
        rules_ = [schedule.rule(i) for i in ids]
        org, facts = organisation.read(ctx.session), case_facts(ctx)
        result: dict[str, Any] = {}
        for rule in rules_:
            result = self._book(ctx, rule, org, facts, {**ctx.data, **result})
        return result

    def _book(self, ctx: TopicContext, rule: rules.Rule, org: Organisation, facts: Mapping[str, Any],
              data: Mapping[str, Any]) -> dict[str, Any]:
        found, unresolved = resolve(rule, org, facts)
        bookings = [(line, s) for line, s in found if line.amount is not None]
        unpriced = sorted({line.role for line, _ in found if line.amount is None})
        month = rules.month_of(ctx.now)
        ledger.append(ctx.session, [{
            "kind": "booking", "case_id": ctx.case_id, "rule_id": rule.id, "subject": s.key,
            "subject_kind": s.kind, "subject_name": s.name, "role": line.role, "department": s.department,
            "amount": line.amount, "unit": line.unit, "month": month, "element_id": ctx.element_id,
            "booked_by": ctx.actor, "booked_at": ctx.now, "reverses": None, "reason": None,
        } for line, s in bookings])
        result: dict[str, Any] = {"deduction_rules": sorted(set(data.get("deduction_rules") or []) | {rule.id})}
        if unresolved:
            result["deductions_unresolved"] = {**(data.get("deductions_unresolved") or {}), rule.id: unresolved}
        elif data.get("deductions_unresolved"):
            result["deductions_unresolved"] = data["deductions_unresolved"]
        if unpriced:        # the schedule names the role but not yet the amount (e.g. the tobacco profile)
            result["deductions_unpriced"] = {**(data.get("deductions_unpriced") or {}), rule.id: unpriced}
        elif data.get("deductions_unpriced"):
            result["deductions_unpriced"] = data["deductions_unpriced"]
        return result

    def find_responsible(self, ctx: TopicContext) -> dict[str, Any]:
        """S-6: tell whether the case names a responsible person (investigation, agent or first-ask owner)."""
        person = responsible_person(organisation.read(ctx.session), case_facts(ctx))
        return {"responsible_named": person is not None,
                "responsible_candidate": person.username if person else None}

    def count_team_complaints(self, ctx: TopicContext, optional: str = "false") -> dict[str, Any]:
        """Q-3: register the complaint against the agent's team once; return its rank this month and the exemption.

        ``optional`` true: a case that names no complained agent counts nothing (normal.bpmn counts every
        complaint against an agent, 001 6.2.1(3) 含不通知回访或回访不接受的, before the 二解 choice).
        """
        text = ctx.data.get("complained_agent")
        if not text and str(optional).lower() == "true":
            return {}
        org = organisation.read(ctx.session)
        agent = org.find_person(text)
        if agent is None:
            raise DeductionError(f"Q-3: complained_agent {text!r} is not a person of the organisation")
        team = org.team_of(agent.username)
        if team is None:
            raise DeductionError(f"Q-3: {agent.username} belongs to no call-centre team")
        ledger.insert_once(ctx.session, TeamComplaint, {
            "case_id": ctx.case_id, "team": team.key, "agent": agent.username,
            "month": rules.month_of(ctx.now), "registered_at": ctx.now})
        own = ctx.session.scalars(select(TeamComplaint).where(TeamComplaint.case_id == ctx.case_id)).one()
        # 001 6.2.1(3): complaints count in the order they reached 二解 (从第9次的被投诉的人员开始).
        rank = ctx.session.scalar(select(func.count()).select_from(TeamComplaint).where(
            TeamComplaint.team == own.team, TeamComplaint.month == own.month, TeamComplaint.id <= own.id))
        return {"sq_team": own.team, "sq_team_leader": org.units[own.team].head, "team_complaints_this_month": rank,
                "sq_exemption_possible": rules.exempt(rank, self.schedule.get())}
