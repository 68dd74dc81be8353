"""Conformance by replay: run a recorded trail again on SpiffWorkflow against the exact specs the case ran on.

The replay is driven by the trail, not by case data: a user task of the trail
is completed when SpiffWorkflow offers it READY, a timer of the trail fires
when SpiffWorkflow has it WAITING, and every gateway takes the outgoing flow
that leads soonest to the trail's next pending element (the trail's data is
not needed, so logs of other systems replay too). Script tasks and service
topics do nothing. What SpiffWorkflow runs by itself (gateways, events,
service tasks, sub-processes) is matched with the trail's entries.

An element the trail shows that is not enabled is first reached by *model
moves* (completing the enabled tasks it lies behind: those are *skipped*);
if no move reaches it, it is *out of order* (a step skipped earlier came
late), *repeated* (done already, not offered again) or *unexpected*.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition, DurationTimerEventDefinition, TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from . import clock, serialize
from .events import events as step_events
from .specs import FormUserTask
from .views import Bundle, EngineError

__all__ = ["COMPARED", "DEVIATION_KINDS", "Deviation", "REPLAYED", "TrailStep", "replay"]

DEVIATION_KINDS = ("skipped", "unexpected", "out_of_order", "repeated")
COMPARED = ("completed", "timer_fired")         # the lifecycles a trail is replayed by
HINTS = ("ready",)          # entries that only steer gateways: a user task became READY (the trail's end shows its way)
REPLAYED = COMPARED + HINTS
MAX_MOVES = 25                                  # model moves tried to reach one trail element

# The replay runs at a fixed instant: waiting timers are due long after it, a timer the trail fires just before.
_T0 = datetime(2000, 1, 1, tzinfo=timezone.utc)
_FIRE = _T0 - timedelta(seconds=1)
_NEVER = {"date": "9000-01-01T00:00:00+00:00", "duration": "P100Y"}
_CYCLE_COUNT = re.compile(r"^\s*['\"]?R(\d*)/", re.I)


def _never_cycle(expression: str) -> str:
    """A cycle whose ticks come only when the trail fires them, as many as the model's literal allows (R3/...),
    unbounded when it gives none or is computed."""
    found = _CYCLE_COUNT.match(expression or "")
    return f"R{found.group(1) if found else ''}/P100Y"


@dataclass(frozen=True)
class TrailStep:
    """One compared entry of a trail: an element completed or a timer fired."""

    element_id: str
    lifecycle: str = "completed"


@dataclass(frozen=True)
class Deviation:
    """A difference between trail and model: its kind, the element, the trail position that showed it."""

    kind: str
    element_id: str
    position: int           # index of the trail step that revealed it; len(trail) for what was missing at the end


class _ReplayScriptEngine(PythonScriptEngine):
    """Expressions answered from the trail: gateway conditions by the oracle, timers never due, scripts no-ops."""

    def __init__(self, replayer: _Replayer):
        super().__init__()
        self.replayer = replayer

    def evaluate(self, task, expression, external_context=None):
        spec = task.task_spec
        if isinstance(spec, CatchingEvent) and isinstance(spec.event_definition, TimerEventDefinition):
            definition = spec.event_definition
            if isinstance(definition, CycleTimerEventDefinition):
                return _never_cycle(definition.expression)
            return _NEVER["duration" if isinstance(definition, DurationTimerEventDefinition) else "date"]
        targets = [name for condition, name in getattr(spec, "cond_task_specs", ())
                   if condition is not None and condition.args[0] == expression]
        if targets:
            return self.replayer.choose(task) in targets
        return None

    def execute(self, task, script, external_context=None):
        return True

    def call_topic(self, task, topic, params):
        return None


def _all_tasks(workflow: BpmnWorkflow):
    return itertools.chain(workflow.tasks.values(),
                           itertools.chain.from_iterable(s.tasks.values() for s in workflow.subprocesses.values()))


def _is_timer(task) -> bool:
    spec = task.task_spec
    return isinstance(spec, CatchingEvent) and isinstance(spec.event_definition, TimerEventDefinition)


class _Replayer:
    def __init__(self, bundle: Bundle, trail: Sequence[TrailStep], observe: frozenset[str] | None,
                 moves: Sequence[tuple[int, Bundle]] = ()):
        self.bundle, self.trail, self.observe = bundle, trail, observe
        self.moves = dict(moves)         # trail position -> the bundle the case was moved to before it
        self.workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=_ReplayScriptEngine(self))
        self.cursor = -1
        self.consumed: set[int] = set()
        self.executed: set[str] = set()          # elements the replay completed, matched with the trail
        self._before: dict = {}
        self.moving = False
        self.echo_until = -1                     # entries up to here follow a deviating step of a person
        self.expected: tuple[str, str] | None = None     # the trail step being run, matched in advance
        self.unmatched: list[tuple[str, str, int]] = []    # engine elements run by the replay, not yet in the trail
        self.open_skips: dict[str, int] = {}     # element -> index in deviations of a skip not yet made good
        self.deviations: list[Deviation] = []
        self._reach: dict[tuple, frozenset[str]] = {}
        # For each position, where the next command starts: the next user task completion or timer in the trail.
        self._command_end = [len(trail)] * (len(trail) + 1)
        for index in range(len(trail) - 1, -1, -1):
            nxt = index + 1
            self._command_end[index] = nxt if nxt < len(trail) and self._is_input(trail[nxt]) else self._command_end[nxt]

    def _is_input(self, step: TrailStep) -> bool:
        if step.lifecycle == "timer_fired":
            return True
        return step.lifecycle == "completed" and self.bundle.elements.get(step.element_id, {}).get("type") == "userTask"

    def observed(self, element_id: str) -> bool:
        return self.observe is None or element_id in self.observe

    # --- running ---

    def run(self, ended: bool) -> list[Deviation]:
        self._command(lambda: None)
        for index, step in enumerate(self.trail):
            if index in self.moves:
                self._migrate(self.moves.pop(index))
            if index in self.consumed or step.lifecycle in HINTS:
                continue
            self.cursor = index
            if self._take(step):
                pass
            elif index < self.echo_until and not self._is_input(step):
                pass            # what the engine did after a deviating step of a person: part of that deviation
            elif not self._reach_by_moves(step):
                self._classify(step)
                if self._is_input(step):
                    self.echo_until = self._command_end[index]
            self.consumed.add(index)
        self.cursor = len(self.trail)
        for element_id, _, position in self.unmatched:
            if self.observed(element_id):
                self.deviations.append(Deviation("skipped", element_id, position))
        if ended and not self.workflow.completed:
            for task in self._ready_user_tasks():
                self._skip(task.task_spec.bpmn_id)
        return self.deviations

    def _migrate(self, bundle: Bundle) -> None:
        """Move the replay onto another version as the repair moved the case (the runtime's own migration)."""
        from .runtime import Instance

        try:
            Instance(self.bundle, self.workflow).migrate(bundle)
        except EngineError:
            return              # the repair could not have moved it either; the rest is judged on the old version
        self.bundle = bundle
        self._reach.clear()

    def _take(self, step: TrailStep) -> bool:
        """Do what the trail step says if the replay has it enabled; tell whether it did."""
        if self.cursor in self.consumed:
            return True
        if step.lifecycle == "timer_fired":
            timer = self._waiting_timer(step.element_id)
            if timer is None:
                return False
            self._run_step(step, lambda: self._fire(timer))
        elif self._is_input(step):
            task = next((t for t in self._ready_user_tasks() if t.task_spec.bpmn_id == step.element_id), None)
            if task is None:
                return False
            self._run_step(step, task.run)
        else:
            found = next((entry for entry in self.unmatched if entry[:2] == (step.element_id, step.lifecycle)), None)
            if found is None:
                return False
            self.unmatched.remove(found)
            self.executed.add(step.element_id)
            self.consumed.add(self.cursor)
        return self.cursor in self.consumed

    def _run_step(self, step: TrailStep, act) -> None:
        # Consumed before it runs, so that a gateway looping back to the same element does not aim at it.
        self.consumed.add(self.cursor)
        self.expected = (step.element_id, step.lifecycle)
        self._command(act)
        self.expected = None

    def _command(self, act) -> None:
        before = self._before = {task: task.state for task in _all_tasks(self.workflow)}
        with clock.engine_time(_T0):
            act()
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps()
            while any(t.state == TaskState.READY and not t.task_spec.manual for t in _all_tasks(self.workflow)):
                self.workflow.do_engine_steps()
        for event in step_events(self.bundle, list(_all_tasks(self.workflow)), before, None):
            if event.lifecycle in COMPARED:
                self._produced(event.element_id, event.lifecycle)

    def _produced(self, element_id: str, lifecycle: str) -> None:
        """Match an element the replay ran with the trail's earliest pending entry of it, else it was skipped."""
        if self.expected == (element_id, lifecycle):
            self.expected = None
            self.executed.add(element_id)
            return
        # Only within the current command: up to the trail's next user task or timer.
        for index in range(max(self.cursor, 0), self._command_end[max(self.cursor, 0)] if self.trail else 0):
            step = self.trail[index]
            if index not in self.consumed and step.element_id == element_id and step.lifecycle == lifecycle:
                self.consumed.add(index)
                self.executed.add(element_id)
                return
        if self._is_input(TrailStep(element_id, lifecycle)):
            self._skip(element_id)
        elif self.moving:
            pass            # what the engine ran after a skipped step is part of that skip
        else:       # an engine element the trail may list a little later (its entries were moved): decide at the end
            self.unmatched.append((element_id, lifecycle, self.cursor))

    def _skip(self, element_id: str) -> None:
        if self.observed(element_id):
            self.open_skips[element_id] = len(self.deviations)
            self.deviations.append(Deviation("skipped", element_id, self.cursor))

    @staticmethod
    def _fire(timer) -> None:
        """Make a waiting timer due before the replay's instant (a cycle: its next tick)."""
        value = timer.internal_data.get("event_value")
        if isinstance(value, dict):
            value["next"] = _FIRE.isoformat()
        else:
            timer.internal_data["event_value"] = _FIRE.isoformat()

    def _ready_user_tasks(self) -> list:
        return [t for t in _all_tasks(self.workflow) if t.state == TaskState.READY and isinstance(t.task_spec, FormUserTask)]

    def _waiting_timer(self, element_id: str | None = None):
        return next((t for t in _all_tasks(self.workflow) if t.state == TaskState.WAITING and _is_timer(t)
                     and element_id in (None, t.task_spec.bpmn_id)), None)

    # --- deviations ---

    def _reach_by_moves(self, step: TrailStep) -> bool:
        """Complete enabled tasks (skips) or fire timers until the step is enabled; undo everything if it never is."""
        target = step.element_id
        saved = (serialize.dump(self.workflow), set(self.consumed), set(self.executed), dict(self.open_skips),
                 len(self.deviations), list(self.unmatched))
        for _ in range(MAX_MOVES):
            move = self._move_towards(target)
            if move is None:
                break
            kind, task = move       # what the move runs and the trail does not show is recorded as skipped
            self.moving = True
            try:
                self._command(task.run if kind == "skip" else lambda: self._fire(task))
            finally:
                self.moving = False
            if self._take(step):
                return True
        workflow = serialize.load(saved[0], self.bundle.spec, self.bundle.subprocess_specs)
        workflow.script_engine = self.workflow.script_engine
        self.workflow = workflow
        self.consumed, self.executed, self.open_skips, self.unmatched = saved[1], saved[2], saved[3], saved[5]
        del self.deviations[saved[4]:]
        return False

    def _move_towards(self, target: str):
        timers = [t for t in _all_tasks(self.workflow) if t.state == TaskState.WAITING and _is_timer(t)
                  and target in self._reachable(t)]
        users = [t for t in self._ready_user_tasks() if target in self._reachable(t)]
        silent = [t for t in timers if not self.observed(t.task_spec.bpmn_id)]
        if silent:
            return "fire", silent[0]
        if users:
            return "skip", users[0]
        if timers:
            return "fire", timers[0]
        return None

    def _classify(self, step: TrailStep) -> None:
        element = step.element_id
        if element in self.open_skips:
            index = self.open_skips.pop(element)
            self.deviations[index] = Deviation("out_of_order", element, self.cursor)
        elif element in self.executed:
            self.deviations.append(Deviation("repeated", element, self.cursor))
        else:
            self.deviations.append(Deviation("unexpected", element, self.cursor))

    # --- the gateway oracle ---

    def choose(self, task) -> str | None:
        """Return the name of the gateway's output that leads soonest, and skipping least, to the trail's next entry.

        Each output is scored by the earliest pending trail entry it can reach and how many observed elements
        the trail does not show lie on the way (0-1 breadth-first search over the spec graph).
        """
        spec = task.task_spec
        # What this command ran so far (the gateway included) has entries still pending: they are behind us.
        behind = Counter(t.task_spec.bpmn_id for t in _all_tasks(self.workflow)
                         if t.state == TaskState.COMPLETED and self._before.get(t) != TaskState.COMPLETED)
        behind[spec.bpmn_id] += 1
        first: dict[str, int] = {}
        for index in range(max(self.cursor, 0), len(self.trail)):
            if index not in self.consumed:
                element = self.trail[index].element_id
                if behind[element] > 0 and self.trail[index].lifecycle in COMPARED:
                    behind[element] -= 1
                else:
                    first.setdefault(element, index)
        exits = self._exits(task)
        best, best_score = getattr(spec, "default_task_spec", None) or spec.outputs[0].name, (len(self.trail), 0)
        for output in spec.outputs:
            score = self._aim(output, exits, first)
            if score < best_score:
                best, best_score = output.name, score
        return best

    def _aim(self, start, exits: tuple, first: dict[str, int]) -> tuple[int, int]:
        best = (len(self.trail), 0)
        queue = deque([(0, start, exits)])
        seen: set[tuple] = set()
        while queue:
            cost, spec, outer = queue.popleft()
            key = (id(spec), tuple(id(e) for e in outer))
            if key in seen:
                continue
            seen.add(key)
            element, step = spec.bpmn_id, 0
            if element is not None and not isinstance(spec, SubWorkflowTask) and self.observed(element):
                if element in first:
                    best = min(best, (first[element], cost))
                    continue
                step = 1            # the trail does not show it: taking this way skips it
            for nxt, nxt_outer in self._successors(spec, outer):
                if step:
                    queue.append((cost + 1, nxt, nxt_outer))
                else:
                    queue.appendleft((cost, nxt, nxt_outer))
        return best

    def _successors(self, spec, outer: tuple):
        """Yield (spec, exits) after ``spec``: into a sub-workflow, along its outputs, out of a sub-workflow's end."""
        if isinstance(spec, SubWorkflowTask):
            inner = self.bundle.subprocess_specs.get(spec.spec)
            if inner is not None:
                yield from ((s, (spec,) + outer) for s in inner.start.outputs)
        if spec.outputs:
            yield from ((s, outer) for s in spec.outputs)
        elif outer:            # the end of a sub-workflow: continue after the activity holding it
            yield from ((s, outer[1:]) for s in outer[0].outputs)

    def _exits(self, task) -> tuple:
        """Return the specs a walk continues with when it leaves the task's (sub-)workflow, innermost first."""
        chain = []
        workflow = task.workflow
        while workflow is not self.workflow and workflow.parent_task_id is not None:
            parent = self.workflow.get_task_from_id(workflow.parent_task_id)
            chain.append(parent.task_spec)
            workflow = parent.workflow
        return tuple(chain)

    def _walk(self, starts: Iterable[Any], exits: tuple) -> frozenset[str]:
        """Return every observed element reachable from ``starts``."""
        found: set[str] = set()
        seen: set[tuple] = set()
        todo = [(spec, exits) for spec in starts]
        while todo:
            spec, outer = todo.pop()
            key = (id(spec), tuple(id(e) for e in outer))
            if key in seen:
                continue
            seen.add(key)
            if spec.bpmn_id is not None and not isinstance(spec, SubWorkflowTask) and self.observed(spec.bpmn_id):
                found.add(spec.bpmn_id)
            todo.extend(self._successors(spec, outer))
        return frozenset(found)

    def _reachable(self, task) -> frozenset[str]:
        exits = self._exits(task)
        key = (id(task.task_spec), tuple(id(e) for e in exits))
        if key not in self._reach:
            self._reach[key] = self._walk(task.task_spec.outputs, exits)
        return self._reach[key]


def replay(bundle: Bundle, trail: Sequence[TrailStep], ended: bool, observe: frozenset[str] | None = None,
           moves: Sequence[tuple[int, Bundle]] = ()) -> tuple[Deviation, ...]:
    """Replay ``trail`` on ``bundle``; return its deviations (none: the trail fits).

    ``ended``: the case is over, so steps the model still waits for were skipped.
    ``observe``: the elements the trail's source records (None: all, as the engine's own trail does);
    elements outside it pass silently.
    ``moves``: (trail position, bundle) of each repair that moved the case to another version before that entry.
    """
    return tuple(_Replayer(bundle, trail, observe, moves).run(ended))
