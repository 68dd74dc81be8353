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
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG


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




def dump(workflow: BpmnWorkflow) -> str:
    """Return the workflow's state as JSON, specs left out."""
    return serializer().serialize_json(workflow)


def load(state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
    """Restore a workflow from ``dump`` output onto the given specs."""
    ser = serializer()
    dct = json.loads(state)
    ser.migrate(dct)
    return ser.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
