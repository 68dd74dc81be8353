"""Run cases on SpiffWorkflow and report what changed as plain views.

This is the only module that touches running SpiffWorkflow objects. Callers get
``Step`` results: the READY user tasks, the waiting timers and the ordered audit
events of one command, all as small dataclasses. The serialized state leaves
the process specs out: specs are parsed once per pinned version set and cached.
"""

from __future__ import annotations

import json
import threading
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from . import clock, sandbox
from .specs import FormUserTask

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

    status: str             # running | completed | incident
    ready: list[UserTaskView]
    timers: list[TimerView]
    events: list[EventView]
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    ready_before: set[str] = field(default_factory=set)
    timers_before: set[str] = field(default_factory=set)

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
        return self.timers_before - {t.task_id for t in self.timers}


class EngineError(Exception):
    """A case cannot take the asked step (unknown task, task not ready)."""


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


# --- serialization without specs ---

class _SpecFreeConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow):
        dct = super(BpmnWorkflowConverter, self).to_dict(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None):
        dct = dict(dct, spec=None, subprocess_specs={})
        dct.pop("spec")
        dct.pop("subprocess_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value):
    from uuid import UUID

    return UUID(value)


_local = threading.local()


def _serializer() -> BpmnWorkflowSerializer:
    # The registry flips an encoder flag while it works, so each thread gets its own.
    ser = getattr(_local, "serializer", None)
    if ser is None:
        config = dict(CAMUNDA_CONFIG)
        config[BpmnWorkflow] = _SpecFreeConverter
        ser = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        _local.serializer = ser
    return ser


def json_safe(value: Any) -> Any:
    """Return ``value`` with datetimes, dates and decimals turned into strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


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
        ser = _serializer()
        dct = json.loads(state)
        ser.migrate(dct)
        workflow = ser.from_dict(dct, spec=bundle.spec, subprocess_specs=bundle.subprocess_specs)
        workflow.script_engine = SCRIPT_ENGINE
        return cls(bundle, workflow)

    def dump(self) -> str:
        return _serializer().serialize_json(self.workflow)

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
        timers = []
        for task in self._all_tasks():
            spec = task.task_spec
            if task.state != TaskState.WAITING or not isinstance(spec, CatchingEvent):
                continue
            if not isinstance(spec.event_definition, TimerEventDefinition):
                continue
            value = spec.event_definition.details(task).value
            if value:
                timers.append(TimerView(str(task.id), spec.bpmn_id, _instant(value)))
        return timers

    @property
    def data(self) -> dict[str, Any]:
        """Return the case data: the end data when completed, else that of the last completed task."""
        if self.workflow.completed:
            return dict(self.workflow.data)
        last = self.workflow.last_task
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
        timers_before = {t.task_id for t in self.waiting_timers()}
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

        status = "incident" if failed else ("completed" if self.workflow.completed else "running")
        with clock.engine_time(moment):
            ready = self.ready_user_tasks()
            self._set_due_dates(ready)
        return Step(status, ready, self.waiting_timers(), self._events(before, error), error,
                    json_safe(self.data), ready_before, timers_before)

    def _set_due_dates(self, ready: list[UserTaskView]) -> None:
        timers = {}
        for timer in self.waiting_timers():
            attached = self.bundle.elements.get(timer.element_id, {}).get("attached_to")
            if attached and (attached not in timers or timer.due_at < timers[attached]):
                timers[attached] = timer.due_at
        for view in ready:
            view.due_at = view.due_at or timers.get(view.element_id)

    def _events(self, before: dict, error: str | None) -> list[EventView]:
        changed = [t for t in self._all_tasks()
                   if t.task_spec.bpmn_id is not None and before.get(t.id) != t.state]
        changed.sort(key=lambda t: t.last_state_change)
        events = []
        for task in changed:
            lifecycle = _lifecycle(task, before.get(task.id))
            if lifecycle is None:
                continue
            spec = task.task_spec
            data = None
            if lifecycle == "completed" and task.parent is not None and spec.bpmn_id in self._data_elements():
                data = json_safe({k: v for k, v in task.data.items()
                                  if k not in task.parent.data or task.parent.data[k] != v})
            if lifecycle == "incident":
                data = {"error": error}
            events.append(EventView(
                str(task.id), spec.bpmn_id, spec.bpmn_name or "",
                self.bundle.elements.get(spec.bpmn_id, {}).get("type", type(spec).__name__),
                lifecycle, self._incoming_flow(task), data,
            ))
        return events

    def _data_elements(self) -> set[str]:
        kinds = {"userTask", "serviceTask", "scriptTask", "businessRuleTask"}
        return {k for k, v in self.bundle.elements.items() if v["type"] in kinds}

    def _incoming_flow(self, task) -> str | None:
        parent = task.parent
        while parent is not None and parent.task_spec.bpmn_id is None:
            parent = parent.parent
        if parent is None:
            return None
        return self.bundle.flows.get(f"{parent.task_spec.bpmn_id}>{task.task_spec.bpmn_id}")

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


def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise EngineError(f"timer value {value} has no timezone; timer expressions must return aware times")
    return moment.astimezone(timezone.utc)


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
    parent = task.parent
    while parent is not None and parent.task_spec.bpmn_id is None:
        parent = parent.parent
    return parent is not None and parent.state == TaskState.COMPLETED


def _describe_error(exc: BaseException) -> str:
    text = str(exc)
    cause = getattr(exc, "error", None) or exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {cause}"
    task = getattr(exc, "task", None)
    if task is not None and getattr(task.task_spec, "bpmn_id", None):
        text = f"[{task.task_spec.bpmn_id}] {text}"
    return text
