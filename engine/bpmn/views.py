"""Plain views of what a command did: READY user tasks, waiting timers, audit events, the step itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Bundle:
    """Parsed specs of one pinned set of process versions, shared by all cases that use it."""

    key: str
    spec: Any
    subprocess_specs: dict[str, Any]
    elements: dict[str, dict[str, Any]]
    flows: dict[str, str]
    start_form: list[dict[str, Any]] | None = None     # the intake form drawn on the start event


@dataclass
class UserTaskView:
    task_id: str
    element_id: str
    name: str
    lane: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    form: list[dict[str, Any]]
    documentation: str
    due_at: datetime | None
    due_from_timer: bool = False     # the due time is that of a boundary timer (moves with pause/extension)


@dataclass
class TimerView:
    task_id: str
    element_id: str
    due_at: datetime


@dataclass
class EventView:
    task_id: str
    element_id: str
    name: str
    element_type: str
    lifecycle: str          # ready | completed | cancelled | timer_fired | incident | joined
    flow_id: str | None
    data: dict[str, Any] | None


@dataclass
class Step:
    """What one engine command did to a case."""

    status: str             # running | completed | incident | paused | cancelled
    ready: list[UserTaskView]
    timers: list[TimerView]
    events: list[EventView]
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    ready_before: set[str] = field(default_factory=set)
    timers_before: dict[str, datetime] = field(default_factory=dict)

    def new_ready(self) -> list[UserTaskView]:
        return [v for v in self.ready if v.task_id not in self.ready_before]

    def gone_ready(self) -> dict[str, str]:
        """Return task id -> 'completed' | 'cancelled' for user tasks no longer READY."""
        now_ready = {v.task_id for v in self.ready}
        ended = {e.task_id: e.lifecycle for e in self.events if e.lifecycle in ("completed", "cancelled")}
        return {tid: ended.get(tid, "cancelled") for tid in self.ready_before - now_ready}

    def new_timers(self) -> list[TimerView]:
        return [t for t in self.timers if t.task_id not in self.timers_before]

    def gone_timers(self) -> set[str]:
        return set(self.timers_before) - {t.task_id for t in self.timers}

    def moved_timers(self) -> list[TimerView]:
        """Return timers still waiting whose due time this command changed (pause, resume, extension)."""
        return [t for t in self.timers if t.task_id in self.timers_before and self.timers_before[t.task_id] != t.due_at]


class EngineError(Exception):
    """A case cannot take the asked step (unknown task, task not ready)."""
