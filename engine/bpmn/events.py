"""Audit events of one command: which BPMN elements changed state, in order, with the flow that led there."""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Iterable

from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

from .serialize import json_safe
from .specs import FormUserTask
from .views import Bundle, EventView

DATA_ELEMENTS = {"userTask", "serviceTask", "scriptTask", "businessRuleTask"}


def events(bundle: Bundle, tasks: Iterable[Any], before: dict, error: str | None) -> list[EventView]:
    """Return the audit events of the tasks whose state differs from ``before`` (task -> state), in change order."""
    changed = []
    for task in tasks:
        if task.task_spec.bpmn_id is None:
            continue
        previous = before.get(task)
        cycle = _is_cycle(task)
        if cycle:
            changed.extend(_ticks(task, before))
        # A cycle's completion after its last tick is no firing of its own (its ticks were); an incident or a
        # cancellation is recorded like any timer's.
        if previous != task.state and not (cycle and task.state == TaskState.COMPLETED):
            lifecycle = _lifecycle(task, previous)
            if lifecycle is not None:
                changed.append((task.last_state_change, task, lifecycle))
    changed.sort(key=itemgetter(0))     # stable: ties keep the task order, as before
    result = []
    for _, task, lifecycle in changed:
        spec = task.task_spec
        info = bundle.elements.get(spec.bpmn_id, {})
        data = None
        if lifecycle == "completed" and info.get("type") in DATA_ELEMENTS:
            parent = task.parent
            if parent is not None:
                old = parent.data
                data = json_safe({k: v for k, v in task.data.items() if k not in old or old[k] != v})
        if lifecycle == "incident":
            data = {"error": error}
        result.append(EventView(str(task.id), spec.bpmn_id, spec.bpmn_name or "",
                                info.get("type", type(spec).__name__), lifecycle, _incoming_flow(bundle, task), data))
    return result


def _is_cycle(task) -> bool:
    spec = task.task_spec
    return isinstance(spec, CatchingEvent) and isinstance(spec.event_definition, CycleTimerEventDefinition)


def _ticks(task, before: dict) -> list[tuple[float, Any, str]]:
    """Return a ``timer_fired`` entry for each tick of a timer cycle in this command.

    A cycle's task stays WAITING while it ticks: each tick adds a new child per outgoing flow (SpiffWorkflow's
    ``CycleTimerEventDefinition.update_task``), and the cycle never completes on its own before its last tick.
    A tick is dated just before the first change of the children it made, so that it precedes them.
    """
    new = [child for child in task.children if child not in before]
    outputs = max(len(task.task_spec.outputs), 1)
    new.sort(key=lambda child: child.last_state_change)
    return [(min(c.last_state_change for c in new[i:i + outputs]) - 1e-6, task, "timer_fired")
            for i in range(0, len(new), outputs)]


def _incoming_flow(bundle: Bundle, task) -> str | None:
    parent = _bpmn_parent(task)
    if parent is None:
        return None
    return bundle.flows.get(f"{parent.task_spec.bpmn_id}>{task.task_spec.bpmn_id}")


def _bpmn_parent(task):
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent


def _lifecycle(task, previous: int | None) -> str | None:
    state = task.state
    if state == TaskState.COMPLETED:
        spec = task.task_spec
        if isinstance(spec, CatchingEvent) and isinstance(spec.event_definition, TimerEventDefinition):
            return "timer_fired"
        return "completed"
    if state == TaskState.ERROR:
        return "incident"
    if state == TaskState.READY and isinstance(task.task_spec, FormUserTask):
        return "ready"
    if state == TaskState.CANCELLED and isinstance(task.task_spec, UnstructuredJoin) and _arrived(task):
        return "joined"     # a branch reached the join, which completed on another branch's task
    if state == TaskState.CANCELLED and previous in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
        return "cancelled"
    return None


def _arrived(task) -> bool:
    parent = _bpmn_parent(task)
    return parent is not None and parent.state == TaskState.COMPLETED
