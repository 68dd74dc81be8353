"""``classify`` (I-2, I-3), ``route`` (I-4) and ``escalation_level`` (E-9): apply the rule tables to the case data."""

from __future__ import annotations

from typing import Any

from ..rules import intake
from ..services import TopicContext, organisation
from ..settings import RuleFile, Settings


class IntakeTopics:
    """Handlers bound to the installation's classification and routing tables."""

    def __init__(self, settings: Settings):
        self.classification = RuleFile(settings.path("classification.toml"), intake.load_classification)
        self.routing = RuleFile(settings.path("routing.toml"), intake.load_routing)
        self.support = RuleFile(settings.path("support.toml"), intake.load_support)

    def classify(self, ctx: TopicContext) -> dict[str, Any]:
        """I-2/I-3: set kind, severity and the reasons a complaint is major."""
        return intake.classify(self.classification.get(), ctx.data)

    def escalation_level(self, ctx: TopicContext) -> dict[str, Any]:
        """E-9: mark the case escalated and set its level from the channel and the outside facts."""
        return intake.escalation_level(self.classification.get(), ctx.data)

    def route_support(self, ctx: TopicContext) -> dict[str, Any]:
        """N-12: route the support request to the supporting department with its time limit."""
        return intake.route_support(self.support.get(), ctx.data)

    def route(self, ctx: TopicContext) -> dict[str, Any]:
        """I-4: set the responsible group and department from the routing table, and the routed department's head.

        N-7 (004 第十条(五) 提交本部门负责人审核): ``responsible_head`` is the head of the department (or grid)
        the group belongs to; a department without a head falls back to the company's head.
        """
        routed = intake.route(self.routing.get(), ctx.data)
        org = organisation.read(ctx.session)
        unit = org.unit_for_group(routed["responsible_group"]) or org.find_unit(routed.get("responsible_department"))
        head = org.department_of_unit(unit.key).head if unit else None
        if head is None:
            company = next((u for u in org.units.values() if u.kind == "company"), None)
            head = company.head if company else None
        return {**routed, "responsible_head": head}
