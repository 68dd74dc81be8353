"""Service-task handlers shipped with the product, registered by topic."""

from __future__ import annotations

from ..services import TopicRegistry
from ..settings import Settings
from . import notify, records
from .deductions import DeductionTopics
from .intake import IntakeTopics


def default_registry(settings: Settings) -> TopicRegistry:
    """Return a registry with every shipped handler, bound to the installation's rule tables."""
    registry = TopicRegistry()
    intake = IntakeTopics(settings)
    registry.add("classify", lambda ctx: intake.classify(ctx))
    registry.add("route", lambda ctx: intake.route(ctx))
    registry.add("escalation_level", lambda ctx: intake.escalation_level(ctx))
    registry.add("route_support", lambda ctx: intake.route_support(ctx))
    registry.add("notify", notify.notify)
    registry.add("record_overdue", records.record_overdue)
    registry.add("add_to_knowledge_base", records.add_to_knowledge_base)
    registry.add("count_issue_complaints", records.count_issue_complaints)
    deductions = DeductionTopics(settings)
    registry.add("book_deductions", lambda ctx, rule_id: deductions.book(ctx, rule_id))
    registry.add("count_team_complaints", lambda ctx, optional="false": deductions.count_team_complaints(ctx, optional))
    registry.add("find_responsible", lambda ctx: deductions.find_responsible(ctx))
    return registry
