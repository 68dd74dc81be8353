"""Service-task topics: the registry of Python handlers BPMN service tasks call by ``camunda:topic``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TopicContext:
    """What a handler may use: the command's session, the case, the instant and a copy of the case data."""

    session: Session
    case_id: int
    element_id: str
    now: datetime
    actor: str
    data: dict[str, Any]


class Handler(Protocol):
    def __call__(self, ctx: TopicContext, **params: Any) -> dict[str, Any] | None: ...


class TopicRegistry:
    """Map topic names to handlers; deployments refuse topics that are not registered."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, topic: str) -> Callable[[Handler], Handler]:
        """Decorator that registers ``fn`` as the handler of ``topic``."""

        def decorate(fn: Handler) -> Handler:
            self._handlers[topic] = fn
            return fn

        return decorate

    def add(self, topic: str, fn: Handler) -> None:
        self._handlers[topic] = fn

    def has(self, topic: str) -> bool:
        return topic in self._handlers

    def get(self, topic: str) -> Handler:
        try:
            return self._handlers[topic]
        except KeyError:
            raise LookupError(f"no handler registered for service topic {topic!r}") from None

    def topics(self) -> list[str]:
        return sorted(self._handlers)
