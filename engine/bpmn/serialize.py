"""Serialize running workflows without their specs (specs are parsed once per version set and cached)."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.task import Task


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


def _uuid(value: str) -> UUID:
    return UUID(value)


_local = threading.local()


def serializer() -> BpmnWorkflowSerializer:
    # The registry flips an encoder flag while it works, so each thread gets its own.
    ser = getattr(_local, "serializer", None)
    if ser is None:
        config = dict(CAMUNDA_CONFIG)
        config[BpmnWorkflow] = _SpecFreeConverter
        ser = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        # The sandbox lets scripts leave Decimal and date values in case data (exact amounts, calendar
        # days); SpiffWorkflow's registry converts datetime and timedelta but not these two.
        ser.registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
        ser.registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
        _local.serializer = ser
        _local.encoder = ser._encoder_cls()
    return ser


def diff_registry():
    """Return a registry that converts the dialect's specs (as their SpiffWorkflow bases) for ``bpmn.util.diff``."""
    registry = getattr(_local, "diff_registry", None)
    if registry is None:
        from SpiffWorkflow.bpmn.specs.defaults import NoneTask, ParallelGateway

        from .specs import FormUserTask, LoopSafeParallelGateway, TopicServiceTask

        config = dict(CAMUNDA_CONFIG)
        for own, base in ((FormUserTask, NoneTask), (TopicServiceTask, NoneTask),
                          (LoopSafeParallelGateway, ParallelGateway)):
            config[own] = config[base]
        registry = _local.diff_registry = BpmnWorkflowSerializer.configure(config)
    return registry


_PLAIN = {str, int, float, bool, type(None)}


def json_safe(value: Any) -> Any:
    """Return ``value`` with datetimes, dates and decimals turned into strings."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, dict):
        return {str(k): v if type(v) in _PLAIN else json_safe(v) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple, set)):
        return [json_safe(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def dump(workflow: BpmnWorkflow) -> str:
    """Return the workflow's state as JSON, specs left out (SpiffWorkflow's own format, the same text)."""
    ser = serializer()
    registry = ser.registry
    registry._encoder_mode = True      # as in serialize_json, for the registry calls and the encoder's default
    try:
        dct = _workflow_dict(workflow, registry)
        dct[ser.VERSION_KEY] = ser.VERSION
        return _local.encoder.encode(dct)
    except _NotPlain:
        pass
    finally:
        registry._encoder_mode = False
    return ser.serialize_json(workflow)


# --- the fast path of dump ---
#
# serialize_json sends the workflow, each sub-process and each task through the
# registry (a dispatch, a partial and a dict update per object) before encoding.
# For the classes our configuration hands to SpiffWorkflow 3.2.0's own converters
# (BpmnWorkflow to _SpecFreeConverter, BpmnSubWorkflow, Task) the dicts below are
# what those converters return, key for key and in the same order, and they are
# encoded by an instance of the same encoder class with the same settings: data
# values that are not JSON types (datetimes, UUIDs, timedeltas, sets, callables)
# reach the same ``default`` hook, and a Decimal or a date fails the same way. A
# workflow, sub-process or task of another class falls back to serialize_json as
# a whole. tests/unit/test_serialize.py compares both texts state by state.

class _NotPlain(Exception):
    """The workflow holds an object the fast path does not mirror; use SpiffWorkflow's registry."""


def _workflow_dict(workflow, registry) -> dict[str, Any]:
    """Mirror _SpecFreeConverter.to_dict (with the typename the registry adds)."""
    if type(workflow) is not BpmnWorkflow:
        raise _NotPlain
    dct = _common_dict(workflow, registry)
    subprocesses = {}
    for key, sub in workflow.subprocesses.items():
        if type(sub) is not BpmnSubWorkflow:
            raise _NotPlain
        sub_dct = _common_dict(sub, registry)        # BpmnSubWorkflowConverter.to_dict
        sub_dct["parent_task_id"] = str(sub.parent_task_id)
        sub_dct["spec"] = sub.spec.name
        sub_dct["typename"] = registry.typenames[BpmnSubWorkflow]
        subprocesses[str(key)] = sub_dct
    dct["subprocesses"] = subprocesses
    dct["bpmn_events"] = registry.convert(workflow.bpmn_events)
    dct["typename"] = registry.typenames[BpmnWorkflow]
    return dct


def _common_dict(workflow, registry) -> dict[str, Any]:
    """Mirror WorkflowConverter.to_dict."""
    last_task = workflow.last_task
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(last_task.id) if last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": _tasks_dict(workflow, registry),
        "root": str(workflow.task_tree.id),
    }


def _tasks_dict(workflow, registry) -> dict[str, Any]:
    """Mirror TaskConverter.to_dict (with the typename the registry adds) for every task of one workflow."""
    own = workflow.tasks
    # A running workflow shares each id object between the task, its parent's child list and its children's
    # parent link: turn each into text once. The keys stay alive meanwhile, so an id() names exactly one of them.
    texts = {id(key): str(key) for key in own}
    typename = registry.typenames[Task]
    convert = registry.convert
    result = {}
    for key, task in own.items():
        if type(task) is not Task:
            raise _NotPlain
        owner = task.workflow
        parent_id = task._parent
        parent = (own if owner is workflow else owner.tasks).get(parent_id)       # task.parent
        if parent is None:
            data, delta = task.data, {}
        else:
            # DeepMerge.get_updated_keys and get_deleted_keys: a child's data is stored as a delta.
            old, new = parent.data, task.data
            data = {}
            delta = {
                "updates": {k: new[k] for k in new if k not in old or new[k] != old[k]},
                "deletions": [k for k in old if k not in new],
            }
        internal = task.internal_data
        text = texts[id(key)]
        result[text] = {
            "id": text if task.id is key else str(task.id),
            "parent": (texts.get(id(parent_id)) or str(parent_id)) if parent is not None else None,
            "children": [texts.get(id(child)) or str(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task._state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": {} if type(internal) is dict and not internal else convert(internal),
            "data": data,
            "delta": delta,
            "typename": typename,
        }
    return result


def load(state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Restore a workflow from ``dump`` output onto the given specs."""
    ser = serializer()
    dct = json.loads(state)
    ser.migrate(dct)
    return ser.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
