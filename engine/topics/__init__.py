"""Service-task handlers shipped with the product, registered by topic."""

from __future__ import annotations

from ..services import TopicRegistry
from . import notify


def default_registry() -> TopicRegistry:
    """Return a registry with every shipped handler."""
    registry = TopicRegistry()
    registry.add("notify", notify.notify)
    return registry
