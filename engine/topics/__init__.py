"""Service-task handlers shipped with the product, registered by topic."""

from __future__ import annotations

from ..rules.crisis import load_crisis_rules
from ..services import TopicRegistry
from ..settings import RuleFile, Settings
from . import notify, records
from .deductions import DeductionTopics
from .intake import IntakeTopics


def default_registry(settings: Settings) -> TopicRegistry:
    """Return a registry with every shipped handler, bound to the installation's rule tables."""
    registry = TopicRegistry()
    intake = IntakeTopics(settings)
    registry.add("classify", lambda ctx: intake.classify(ctx), sets=("kind", "severity", "major_reasons"))
    registry.add("route", lambda ctx: intake.route(ctx),
                 sets=("responsible_group", "responsible_department", "routing_profile", "responsible_head",
                       "accept_group", "preprocess_group"))
    registry.add("escalation_level", lambda ctx: intake.escalation_level(ctx), sets=("escalated", "escalation_level"))
    registry.add("route_support", lambda ctx: intake.route_support(ctx),
                 sets=("support_group", "support_unit", "support_scored", "support_limit"))
    registry.add("notify", notify.notify, sets=("last_notified",))
    crisis = RuleFile(settings.path("crisis.toml"), load_crisis_rules)
    registry.add("notify_warning", lambda ctx, template: notify.notify_warning(ctx, template, crisis.get),
                 sets=("warning_notified", "warning_unreached"))
    registry.add("record_overdue", records.record_overdue, sets=("overdue_rules",))
    registry.add("add_to_knowledge_base", records.add_to_knowledge_base, sets=("knowledge_entry_id",))
    registry.add("count_issue_complaints", records.count_issue_complaints,
                 sets=("count_now", "count_previous", "change_ratio", "counted_at"))
    deductions = DeductionTopics(settings)
    registry.add("book_deductions", lambda ctx, rule_id: deductions.book(ctx, rule_id),
                 sets=("deduction_rules", "deductions_unresolved", "deductions_unpriced"))
    registry.add("count_team_complaints", lambda ctx, optional="false": deductions.count_team_complaints(ctx, optional),
                 sets=("sq_team", "sq_team_leader", "team_complaints_this_month", "sq_exemption_possible"))
    registry.add("find_responsible", lambda ctx: deductions.find_responsible(ctx),
                 sets=("responsible_named", "responsible_candidate"))
    return registry
