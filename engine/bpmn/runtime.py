"""Run cases on SpiffWorkflow and report what changed as plain views.

This is the only module that touches running SpiffWorkflow objects. Callers get
``Step`` results: the READY user tasks, the waiting timers and the ordered audit
events of one command, all as small dataclasses (``views``).
"""

from __future__ import annotations

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
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from . import clock, sandbox, serialize
from .events import events as audit_events
from .serialize import json_safe
from .specs import FormUserTask
from .views import Bundle, EngineError, Step, TimerView, UserTaskView

# --- host context: functions visible to expressions and the topic dispatcher of one command ---

@dataclass
class Host:
    functions: dict[str, Any]
    call_topic: Callable[[str, dict[str, Any], dict[str, Any], str], dict[str, Any] | None]


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
        """Put tasks in ERROR back to READY and run again."""
        errored = [t for t in self._all_tasks() if t.state == TaskState.ERROR]
        if not errored:
            raise EngineError("the case has no failed step to retry")

        def act():
            for task in errored:
                task._set_state(TaskState.READY)

        return self._command(host, moment, act)

    # views ----------------------------------------------------------------

    def ready_user_tasks(self) -> list[UserTaskView]:
        return [self._user_task_view(t) for t in self._all_tasks()
                if t.state == TaskState.READY and isinstance(t.task_spec, FormUserTask)]

    def waiting_timers(self) -> list[TimerView]:
        return [TimerView(str(task.id), task.task_spec.bpmn_id, due) for task, due in self._timer_tasks()]

    def _timer_tasks(self):
        for task in self._all_tasks():
            spec = task.task_spec
            if task.state != TaskState.WAITING or not isinstance(spec, CatchingEvent):
                continue
            if not isinstance(spec.event_definition, TimerEventDefinition):
                continue
            value = spec.event_definition.details(task).value
            if value:
                yield task, _instant(value)

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
        done = [t for t in self._all_tasks() if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id is not None]
        last = max(done, key=lambda t: t.last_state_change, default=None)
        return dict(last.data if last is not None else self.workflow.task_tree.data)

    # internals --------------------------------------------------------------

    def _all_tasks(self):
        yield from self.workflow.tasks.values()
        for sub in self.workflow.subprocesses.values():
            yield from sub.tasks.values()

    def _ready_user_task(self, task_id: str):
        for task in self._all_tasks():
            if str(task.id) == task_id:
                if task.state != TaskState.READY or not isinstance(task.task_spec, FormUserTask):
                    raise EngineError(f"task {task_id} is not a ready user task")
                return task
        raise EngineError(f"task {task_id} is not part of this case")

    def _run_engine(self) -> None:
        self.workflow.refresh_timers()
        self.workflow.do_engine_steps()
        # A timer fired at the end of do_engine_steps runs its successors on the next call.
        while any(t.state == TaskState.READY and not t.task_spec.manual for t in self._all_tasks()):
            self.workflow.do_engine_steps()

    def _command(self, host: Host, moment: datetime, act: Callable[[], None]) -> Step:
        before = {t.id: t.state for t in self._all_tasks()}
        ready_before = {str(t.id) for t in self._all_tasks()
                        if t.state == TaskState.READY and isinstance(t.task_spec, FormUserTask)}
        timers_before = {t.task_id: t.due_at for t in self.waiting_timers()}
        host_token = _host.set(host)
        error = None
        try:
            with clock.engine_time(moment):
                act()
                self._run_engine()
        except (SpiffWorkflowException, sandbox.SandboxError, EngineError, Exception) as exc:  # noqa: BLE001
            error = _describe_error(exc)
        finally:
            _host.reset(host_token)
        failed = [t for t in self._all_tasks() if t.state == TaskState.ERROR]
        if error and not failed:
            raise EngineError(error)
        if failed and error and not error.startswith("["):
            error = f"[{failed[0].task_spec.bpmn_id}] {error}"

        status = "incident" if failed else ("completed" if self.workflow.completed else
                                             "paused" if self.paused_at else "running")
        host_token = _host.set(host)      # a task's dueDate may call the calendar functions
        try:
            with clock.engine_time(moment):
                ready = self.ready_user_tasks()
                self._set_due_dates(ready)
        finally:
            _host.reset(host_token)
        return Step(status, ready, self.waiting_timers(), audit_events(self.bundle, self._all_tasks(), before, error), error,
                    json_safe(self.data), ready_before, timers_before)

    def _set_due_dates(self, ready: list[UserTaskView]) -> None:
        """Give tasks without their own due date the earliest boundary timer on them or an enclosing sub-process."""
        # A deadline is an interrupting timer; reminders (non-interrupting) count only where there is none.
        deadlines: dict[str, list[datetime]] = {}
        reminders: dict[str, list[datetime]] = {}
        for timer in self.waiting_timers():
            info = self.bundle.elements.get(timer.element_id, {})
            if info.get("attached_to"):
                kind = deadlines if info.get("interrupting") else reminders
                kind.setdefault(info["attached_to"], []).append(timer.due_at)
        timers = {element: min(dues) for element, dues in {**reminders, **deadlines}.items()}
        if not timers:
            return
        for view in ready:
            if view.due_at is not None:
                continue
            dues = [timers[e] for e in self._enclosing(view.task_id) if e in timers]
            if dues:
                view.due_at, view.due_from_timer = min(dues), True

    def _enclosing(self, task_id: str) -> list[str]:
        """Return the element id of a task and of every sub-process or call activity around it."""
        task = self.workflow.get_task_from_id(UUID(task_id))
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
        if isinstance(value, datetime):
            return clock.utc(value)
        parsed = TimerEventDefinition.parse_time_or_duration(str(value))
        if isinstance(parsed, dict):
            return clock.current() + TimerEventDefinition.get_timedelta_from_start(parsed, clock.current())
        return parsed.astimezone(timezone.utc)


PAUSED_UNTIL = datetime(9999, 12, 31, tzinfo=timezone.utc)


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
    cause = getattr(exc, "error", None) or exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    task = getattr(exc, "task", None)
    if task is not None and getattr(task.task_spec, "bpmn_id", None):
        text = f"[{task.task_spec.bpmn_id}] {text}"
    return text
