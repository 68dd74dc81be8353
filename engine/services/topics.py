"""Service-task topics: the registry of Python handlers BPMN service tasks call by ``camunda:topic``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TopicContext:
    """What a handler may use: the command's session, the case, the instant and a copy of the case data.

    ``session`` opens a savepoint the first time a handler asks for it, so that
    ``run`` can take back what a failing handler wrote; a handler that never
    touches the database costs no savepoint.
    """

    command_session: Session
    case_id: int
    element_id: str
    now: datetime
    actor: str
    data: dict[str, Any]
    _savepoint: list = field(default_factory=list, repr=False, compare=False)

    @property
    def session(self) -> Session:
        if not self._savepoint:
            self._savepoint.append(self.command_session.begin_nested())
        return self.command_session

    def run(self, handler: Handler, params: dict[str, Any]) -> dict[str, Any] | None:
        """Call ``handler``; release its savepoint if it succeeds, roll back to it if it raises."""
        try:
            result = handler(self, **params)
        except BaseException:
            if self._savepoint:
                self._savepoint[0].rollback()
            raise
        if self._savepoint:
            self._savepoint[0].commit()
        return result


class Handler(Protocol):
    def __call__(self, ctx: TopicContext, **params: Any) -> dict[str, Any] | None: ...


class TopicRegistry:
    """Map topic names to handlers; deployments refuse topics that are not registered."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._sets: dict[str, frozenset[str]] = {}

    def register(self, topic: str) -> Callable[[Handler], Handler]:
        """Decorator that registers ``fn`` as the handler of ``topic``."""

        def decorate(fn: Handler) -> Handler:
            self._handlers[topic] = fn
            return fn

        return decorate

    def add(self, topic: str, fn: Handler, sets: Iterable[str] | None = None) -> None:
        """Register ``fn`` for ``topic``; ``sets`` names the case data keys it may return (deploy checks that
        the expressions read only what something provides, and a handler returning another key fails)."""
        self._handlers[topic] = fn
        if sets is not None:
            self._sets[topic] = frozenset(sets)
        else:
            self._sets.pop(topic, None)

    def sets(self, topic: str) -> frozenset[str] | None:
        """Return the keys the handler of ``topic`` declares it sets (None: it did not say)."""
        return self._sets.get(topic)

    def has(self, topic: str) -> bool:
        return topic in self._handlers

    def get(self, topic: str) -> Handler:
        try:
            return self._handlers[topic]
        except KeyError:
            raise LookupError(f"no handler registered for service topic {topic!r}") from None

    def topics(self) -> list[str]:
        return sorted(self._handlers)
