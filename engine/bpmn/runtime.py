"""Run cases on SpiffWorkflow and report what changed as plain views.

This is the only module that touches running SpiffWorkflow objects. Callers get
``Step`` results: the READY user tasks, the waiting timers and the ordered audit
events of one command, all as small dataclasses (``views``).
"""

from __future__ import annotations

import itertools
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from . import budget, clock, sandbox, serialize, timers
from .events import events as audit_events
from .serialize import json_safe
from .specs import FormUserTask
from .views import Bundle, EngineError, Step, TimerView, UserTaskView

# --- host context: functions visible to expressions and the topic dispatcher of one command ---

@dataclass
class Host:
    functions: dict[str, Any]
    call_topic: Callable[[str, dict[str, Any], dict[str, Any], str], dict[str, Any] | None]
    limits: budget.Limits = budget.DEFAULT_LIMITS      # the budget of each command (``budget``)


_host: ContextVar[Host | None] = ContextVar("engine_host", default=None)


def _functions() -> dict[str, Any]:
    host = _host.get()
    return host.functions if host else {}


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression, context, external_context=None):
        return sandbox.evaluate(expression, context, {**_functions(), **(external_context or {})})

    def execute(self, script, context, external_context=None):
        sandbox.execute(script, context, {**_functions(), **(external_context or {})})
        return True


class _ScriptEngine(PythonScriptEngine):
    def evaluate(self, task, expression, external_context=None):
        value = super().evaluate(task, expression, external_context)
        definition = getattr(task.task_spec, "event_definition", None)
        kind = timers.kind_of(definition)
        if kind and expression == definition.expression:
            # A timer's value is parsed later, outside any task: check it here, where its task is known.
            try:
                timers.check(kind, value)
            except timers.TimerValueError as exc:
                raise WorkflowTaskException(f"timer {expression.strip()!r}: {exc}", task=task, exception=exc) from exc
        return value

    def call_topic(self, task, topic: str, params: dict[str, Any]) -> dict[str, Any] | None:
        host = _host.get()
        if host is None:
            raise EngineError(f"no host to call service topic {topic!r}")
        return host.call_topic(topic, params, task.data, task.task_spec.bpmn_id)


SCRIPT_ENGINE = _ScriptEngine(environment=_SandboxEnvironment())


# --- the running case ---

class Instance:
    """One running case: a SpiffWorkflow workflow and the bundle it was started on."""

    def __init__(self, bundle: Bundle, workflow: BpmnWorkflow):
        self.bundle = bundle
        self.workflow = workflow

    @classmethod
    def start(cls, bundle: Bundle, data: dict[str, Any]) -> Instance:
        workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=SCRIPT_ENGINE)
        workflow.task_tree.data.update(data)
        return cls(bundle, workflow)

    @classmethod
    def load(cls, bundle: Bundle, state: str) -> Instance:
        workflow = serialize.load(state, bundle.spec, bundle.subprocess_specs)
        workflow.script_engine = SCRIPT_ENGINE
        return cls(bundle, workflow)

    def dump(self) -> str:
        return serialize.dump(self.workflow)

    # commands -------------------------------------------------------------

    def advance(self, host: Host, moment: datetime) -> Step:
        """Run engine steps (and due timers) until the case waits."""
        return self._command(host, moment, lambda: None)

    def complete(self, host: Host, moment: datetime, task_id: str, data: dict[str, Any]) -> Step:
        """Complete a READY user task with already validated form data."""
        task = self._ready_user_task(task_id)

        def act():
            task.set_data(**data)
            task.run()

        return self._command(host, moment, act)

    def retry(self, host: Host, moment: datetime) -> Step:
        """Put tasks in ERROR back to READY and run again.

        A case without a failed task (its last command went over budget and was
        rolled back) is run on from where it was stored: its due timers fire again.
        """
        errored = [t for t in self._all_tasks() if t.state == TaskState.ERROR]

        def act():
            for task in errored:
                _rerun(task)

        return self._command(host, moment, act)

    def repair(self, host: Host, moment: datetime, changes: dict[str, Any], retry: bool) -> Step:
        """An administrator's repair: set case data on the tasks the case stands at, then (``retry``) run the
        failed steps again; without ``retry`` the case stays as it is, with the new data."""
        open_tasks = [t for t in self._all_tasks() if t.state in (_READY, _WAITING, _ERROR, TaskState.STARTED)]

        def act():
            # A waiting or failed task takes its parent's data again when it is updated: both get the changes.
            for task in open_tasks or [_last_completed(self._all_tasks()) or self.workflow.task_tree]:
                task.data.update(changes)
                if task.parent is not None:
                    task.parent.data.update(changes)
            if retry:
                for task in open_tasks:
                    if task.state == _ERROR:
                        _rerun(task)

        return self._command(host, moment, act)

    def cancel(self, host: Host, moment: datetime) -> Step:
        """An administrator's cancel: every open task, waiting timer and failed step is cancelled (call
        activities too); the case keeps its data and its status becomes ``cancelled``."""
        data = self.data

        def act():
            for task in list(self._all_tasks()):
                if task.state == _ERROR:        # a failed step ends with the case; nobody retries it
                    task._set_state(TaskState.CANCELLED)
            self.workflow.data.update(data)     # as an end event would: the ended case's data is the workflow's
            self.workflow.cancel()

        step = self._command(host, moment, act)
        step.status, step.error = "cancelled", None
        return step

    def migrate(self, bundle: Bundle) -> None:
        """Move the case onto another version's specs; refuse if an element it stands at is not in that version."""
        registry = serialize.diff_registry()
        top, subs = diff_workflow(registry, self.workflow, bundle.spec, bundle.subprocess_specs)
        standing = (_READY, _WAITING, _ERROR, TaskState.STARTED)
        lost = [t.task_spec.bpmn_id for t in top.removed if t.state in standing and t.task_spec.bpmn_id]
        for sp_id, diff in subs.items():
            if diff is None:
                lost.append(self.workflow.get_task_from_id(sp_id).task_spec.bpmn_id)
            else:
                lost += [t.task_spec.bpmn_id for t in diff.removed if t.state in standing and t.task_spec.bpmn_id]
        if lost:
            raise EngineError(f"the other version has no {', '.join(sorted(set(lost)))}, where the case stands")
        migrate_workflow(top, self.workflow, bundle.spec)
        for sp_id, diff in subs.items():
            sub = self.workflow.subprocesses[sp_id]
            migrate_workflow(diff, sub, bundle.subprocess_specs[sub.spec.name])
        self.workflow.subprocess_specs = bundle.subprocess_specs
        self.bundle = bundle

    # views ----------------------------------------------------------------

    def ready_user_tasks(self) -> list[UserTaskView]:
        return [self._user_task_view(t) for t in self._all_tasks() if t.state == _READY and _is_user_task(t)]

    def waiting_timers(self) -> list[TimerView]:
        return _timer_views(self._timer_tasks())

    def _timer_tasks(self):
        return _dues(t for t in self._all_tasks() if t.state == _WAITING and _is_timer(t))

    # pausing the deadline clock (N-4) -------------------------------------

    @property
    def paused_at(self) -> str | None:
        return self.workflow.data.get("paused_at")

    def pause(self, host: Host, moment: datetime, remaining: Callable[[datetime, str], float]) -> Step:
        """Stop every waiting timer; keep what is left of each, as ``remaining(due, kind)`` measures it."""
        if self.paused_at:
            raise EngineError(f"the case is already paused since {self.paused_at}")

        def act():
            self._run_engine()      # deadlines already passed at the pause happen; they are not paused away
            if self.workflow.completed:
                raise EngineError("the case ended when its passed deadlines fired; there is nothing to pause")
            for task, due in list(self._timer_tasks()):
                task.internal_data["paused_remaining"] = remaining(due, _timer_kind(task))
                _set_due(task, PAUSED_UNTIL)
            self.workflow.data["paused_at"] = moment.isoformat()

        return self._command(host, moment, act)

    def paused_remaining(self) -> dict[str, float]:
        """Return, per paused timer element, the seconds it had left when the case was paused."""
        return {task.task_spec.bpmn_id: task.internal_data["paused_remaining"]
                for task, _ in self._timer_tasks() if "paused_remaining" in task.internal_data}

    def resume(self, host: Host, moment: datetime, due: Callable[[float, str], datetime]) -> Step:
        """Restart the paused timers, each due after the time it had left (``due(remaining, kind)``)."""
        if not self.paused_at:
            raise EngineError("the case is not paused")

        def act():
            for task, _ in list(self._timer_tasks()):
                if "paused_remaining" in task.internal_data:
                    left = task.internal_data.pop("paused_remaining")
                    _set_due(task, due(left, _timer_kind(task)))
            self.workflow.data.pop("paused_at")

        return self._command(host, moment, act)

    def move_timers(self, host: Host, moment: datetime, new_due: Callable[[datetime, str], datetime],
                    element_id: str | None = None) -> Step:
        """Set a new due time on the waiting timers (of one element, or all): an agreed extension."""
        if self.paused_at:
            raise EngineError("resume the case before extending its deadlines")
        chosen = [(t, d) for t, d in self._timer_tasks() if element_id in (None, t.task_spec.bpmn_id)]
        if not chosen:
            raise EngineError(f"no waiting timer {element_id or ''} to extend".replace("  ", " "))

        def act():
            for task, due in chosen:
                _set_due(task, new_due(due, _timer_kind(task)))

        return self._command(host, moment, act)

    @property
    def data(self) -> dict[str, Any]:
        """Return the case data: the end data when completed, else that of the last completed task.

        The last task may sit inside a sub-process or call activity: what a clerk
        entered there is part of the case while the sub-process runs.
        """
        if self.workflow.completed:
            return dict(self.workflow.data)
        return self._data_after(_last_completed(self._all_tasks()))

    def _data_after(self, last) -> dict[str, Any]:
        """Return the case data of a running case whose last completed task is ``last`` (None: none yet)."""
        return dict(last.data if last is not None else self.workflow.task_tree.data)

    # internals --------------------------------------------------------------

    def _all_tasks(self):
        subprocesses = self.workflow.subprocesses.values()
        return itertools.chain(self.workflow.tasks.values(),
                               itertools.chain.from_iterable(sub.tasks.values() for sub in subprocesses))

    def _ready_user_task(self, task_id: str):
        task = self._find_task(task_id)
        if task is None:
            raise EngineError(f"task {task_id} is not part of this case")
        if task.state != _READY or not _is_user_task(task):
            raise EngineError(f"task {task_id} is not a ready user task")
        return task

    def _find_task(self, task_id: str):
        """Return the task of this case (sub-processes and call activities included) with ``task_id``, or None."""
        try:
            key = UUID(task_id)
        except (TypeError, ValueError):
            key = None
        if key is not None and str(key) == task_id:       # only the canonical spelling str(task.id) names a task
            task = self.workflow.tasks.get(key)
            if task is not None:
                return task
            for sub in self.workflow.subprocesses.values():
                task = sub.tasks.get(key)
                if task is not None:
                    return task
        return None

    def _run_engine(self) -> None:
        # Each engine task run counts against the command's budget (steps without a wait state, wall time).
        active = budget.current()
        step = active.step if active is not None else None
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps(did_complete_task=step)
        # A timer fired at the end of do_engine_steps runs its successors on the next call.
        while any(t.state == _READY and not t.task_spec.manual for t in self._all_tasks()):
            self.workflow.do_engine_steps(did_complete_task=step)

    def _command(self, host: Host, moment: datetime, act: Callable[[], None]) -> Step:
        """Run ``act`` and the engine under the host's budget; ``budget.BudgetExceeded`` leaves this instance
        half-run: the caller drops it (and rolls back its transaction)."""
        with budget.running(host.limits):
            return self._budgeted(host, moment, act)

    def _budgeted(self, host: Host, moment: datetime, act: Callable[[], None]) -> Step:
        # One pass over the tasks before the command and one after it (see _scan). ``before`` is keyed by the
        # task objects: a command never makes a second Task with an id (only deserialization passes ids).
        before: dict[Any, int] = {}
        ready_before: set[str] = set()
        waiting = []
        for task in self._all_tasks():
            state = before[task] = task.state
            if state == _READY:
                if _is_user_task(task):
                    ready_before.add(str(task.id))
            elif state == _WAITING and _is_timer(task):
                waiting.append(task)
        timers_before = {t.task_id: t.due_at for t in _timer_views(_dues(waiting))}
        host_token = _host.set(host)
        error = exc_task = None
        try:
            with clock.engine_time(moment):
                act()
                self._run_engine()
        except (SpiffWorkflowException, sandbox.SandboxError, EngineError, Exception) as exc:  # noqa: BLE001
            error = _describe_error(exc)
            exc_task = getattr(exc, "task", None)
        finally:
            _host.reset(host_token)
        tasks = list(self._all_tasks())
        failed, ready_tasks, waiting, last = _scan(tasks)
        if error and not failed:
            failed = self._fail_task_of(exc_task, tasks)
        if error and not failed:
            raise EngineError(error)
        if failed and error and not error.startswith("["):
            error = f"[{failed[0].task_spec.bpmn_id}] {error}"

        host_token = _host.set(host)      # a task's dueDate may call the calendar functions
        try:
            with clock.engine_time(moment):
                ready, ready_tasks, broken = self._views(ready_tasks)
                timers = _timer_views(_dues(waiting))
                self._set_due_dates(ready_tasks, ready, timers)
        finally:
            _host.reset(host_token)
        if broken:      # a user task whose due date or people cannot be computed: an incident on that task
            failed = failed + [task for task, _ in broken]
            error = error or broken[0][1]
        status = "incident" if failed else ("completed" if self.workflow.completed else
                                             "paused" if self.paused_at else "running")
        data = dict(self.workflow.data) if self.workflow.completed else self._data_after(last)
        return Step(status, ready, timers, audit_events(self.bundle, tasks, before, error), error,
                    json_safe(data), ready_before, timers_before)

    def _views(self, ready_tasks: list) -> tuple[list[UserTaskView], list, list[tuple[Any, str]]]:
        """Return the views of the READY user tasks, those tasks, and (task, reason) for those that failed."""
        views, kept, broken = [], [], []
        for task in ready_tasks:
            try:
                views.append(self._user_task_view(task))
                kept.append(task)
            except (SpiffWorkflowException, sandbox.SandboxError, EngineError, Exception) as exc:  # noqa: BLE001
                task._set_state(TaskState.ERROR)
                broken.append((task, f"[{task.task_spec.bpmn_id}] {_describe_error(exc)}"))
        return views, kept, broken

    def _fail_task_of(self, task, tasks: list) -> list:
        """Put the task an error was raised for (a timer whose value does not parse...) in ERROR: an incident."""
        if task is None or task not in tasks or task.state in (_COMPLETED, TaskState.CANCELLED):
            return []
        task._set_state(TaskState.ERROR)
        return [task]

    def _set_due_dates(self, ready_tasks: list, ready: list[UserTaskView], timers: list[TimerView]) -> None:
        """Give tasks without their own due date the earliest boundary timer on them or an enclosing sub-process."""
        # A deadline is an interrupting timer; reminders (non-interrupting) count only where there is none.
        deadlines: dict[str, list[datetime]] = {}
        reminders: dict[str, list[datetime]] = {}
        for timer in timers:
            info = self.bundle.elements.get(timer.element_id, {})
            if info.get("attached_to") and info.get("timer_kind") != "timeCycle":     # a cycle is no deadline
                kind = deadlines if info.get("interrupting") else reminders
                kind.setdefault(info["attached_to"], []).append(timer.due_at)
        timers = {element: min(dues) for element, dues in {**reminders, **deadlines}.items()}
        if not timers:
            return
        for task, view in zip(ready_tasks, ready):
            if view.due_at is not None:
                continue
            dues = [timers[e] for e in self._enclosing(task) if e in timers]
            if dues:
                view.due_at, view.due_from_timer = min(dues), True

    def _enclosing(self, task) -> list[str]:
        """Return the element id of a task and of every sub-process or call activity around it."""
        chain = [task.task_spec.bpmn_id]
        while task.workflow is not self.workflow:
            task = self.workflow.get_task_from_id(task.workflow.parent_task_id)
            chain.append(task.task_spec.bpmn_id)
        return chain

    def _user_task_view(self, task) -> UserTaskView:
        spec: FormUserTask = task.task_spec
        return UserTaskView(
            task_id=str(task.id),
            element_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            candidate_groups=self._people(task, spec.candidate_groups),
            candidate_users=self._people(task, spec.candidate_users),
            assignee=self._people(task, spec.assignee)[0] if spec.assignee else None,
            form=spec.fields,
            documentation=(spec.documentation or "").strip(),
            due_at=self._due(task, spec.due_date),
        )

    def _people(self, task, value: list[str] | str | None) -> list[str]:
        if not value:
            return []
        if isinstance(value, list):
            return value
        result = sandbox.evaluate(value, task.data, _functions())
        if isinstance(result, str):
            return [p.strip() for p in result.split(",") if p.strip()]
        return [str(p) for p in result or []]

    def _due(self, task, source: str | None) -> datetime | None:
        if not source:
            return None
        value = sandbox.evaluate(source, task.data, _functions())
        try:
            timers.check_due(value)
        except timers.TimerValueError as exc:
            raise EngineError(f"dueDate {source.strip()!r}: {exc}") from None
        if isinstance(value, datetime):
            return clock.utc(value)
        parsed = TimerEventDefinition.parse_time_or_duration(str(value))
        if isinstance(parsed, dict):
            return clock.current() + TimerEventDefinition.get_timedelta_from_start(parsed, clock.current())
        return parsed.astimezone(timezone.utc)


PAUSED_UNTIL = datetime(9999, 12, 31, tzinfo=timezone.utc)

_READY, _WAITING, _COMPLETED, _ERROR = TaskState.READY, TaskState.WAITING, TaskState.COMPLETED, TaskState.ERROR


def _rerun(task) -> None:
    """Put a task in ERROR back: a timer waits again (its value computed afresh), any other task is READY."""
    if _is_timer(task):
        task.internal_data.pop("event_value", None)
        task._set_state(TaskState.WAITING)
        task.task_spec._update(task)        # evaluates the timer again and registers it with the event manager
    else:
        task._set_state(TaskState.READY)


def _is_user_task(task) -> bool:
    return isinstance(task.task_spec, FormUserTask)


def _is_timer(task) -> bool:
    spec = task.task_spec
    return isinstance(spec, CatchingEvent) and isinstance(spec.event_definition, TimerEventDefinition)


def _dues(timer_tasks):
    """Yield (task, due instant) for the timer tasks that have a pending time."""
    for task in timer_tasks:
        value = task.task_spec.event_definition.details(task).value
        if value:
            yield task, _instant(value)


def _timer_views(timer_tasks) -> list[TimerView]:
    return [TimerView(str(task.id), task.task_spec.bpmn_id, due) for task, due in timer_tasks]


def _scan(tasks: list) -> tuple[list, list, list, Any]:
    """Return the failed tasks, READY user tasks, WAITING timers (in task order) and the last completed task."""
    failed, ready, waiting = [], [], []
    last = None         # the first of the latest completed BPMN tasks, as max(..., key=last_state_change) picks it
    for task in tasks:
        state = task.state
        if state == _COMPLETED:
            if task.task_spec.bpmn_id is not None and (last is None or task.last_state_change > last.last_state_change):
                last = task
        elif state == _READY:
            if _is_user_task(task):
                ready.append(task)
        elif state == _WAITING:
            if _is_timer(task):
                waiting.append(task)
        elif state == _ERROR:
            failed.append(task)
    return failed, ready, waiting, last


def _last_completed(tasks):
    return _scan(list(tasks))[3]


def _timer_kind(task) -> str:
    """Return 'clock' for durations and cycles (plain hours), 'working' for computed dates (working time)."""
    return "working" if isinstance(task.task_spec.event_definition, TimeDateEventDefinition) else "clock"


def _set_due(task, due: datetime) -> None:
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):          # a cycle: move its next tick
        value["next"] = due.isoformat()
    else:
        task.internal_data["event_value"] = due.isoformat()


def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise EngineError(f"timer value {value} has no timezone; timer expressions must return aware times")
    return moment.astimezone(timezone.utc)


def _describe_error(exc: BaseException) -> str:
    text = str(exc)
    cause = getattr(exc, "error", None) or exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    task = getattr(exc, "task", None)
    if task is not None and getattr(task.task_spec, "bpmn_id", None):
        text = f"[{task.task_spec.bpmn_id}] {text}"
    return text
