"""``classify`` (I-2, I-3) and ``route`` (I-4): apply the rule tables to the case data."""

from __future__ import annotations

from typing import Any

from ..rules import intake
from ..services import TopicContext
from ..settings import RuleFile, Settings


class IntakeTopics:
    """Handlers bound to the installation's classification and routing tables."""

    def __init__(self, settings: Settings):
        self.classification = RuleFile(settings.path("classification.toml"), intake.load_classification)
        self.routing = RuleFile(settings.path("routing.toml"), intake.load_routing)

    def classify(self, ctx: TopicContext) -> dict[str, Any]:
        """I-2/I-3: set kind, severity and the reasons a complaint is major."""
        return intake.classify(self.classification.get(), ctx.data)

    def route(self, ctx: TopicContext) -> dict[str, Any]:
        """I-4: set the responsible group and department from the routing table."""
        return intake.route(self.routing.get(), ctx.data)
