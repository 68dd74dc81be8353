"""BPMN parsing, validation and execution on SpiffWorkflow; nothing else imports SpiffWorkflow."""

from __future__ import annotations

from . import clock
from .budget import BudgetExceeded, Limits, load_limits
from .forms import validate as validate_form
from .parser import BpmnFileError, FileInfo, build_specs, describe, inspect_file, start_form
from .runtime import Host, Instance
from .serialize import json_safe
from .views import Bundle, EngineError, EventView, Step, TimerView, UserTaskView
from .sandbox import SandboxError, describe_name, reserved_names

__all__ = [
    "BpmnFileError", "BudgetExceeded", "Bundle", "Limits", "load_limits", "EngineError", "EventView", "FileInfo", "Host", "Instance", "SandboxError", "describe_name", "reserved_names",
    "Step", "TimerView", "UserTaskView", "clock", "inspect_file", "json_safe", "make_bundle", "validate_form",
]


def make_bundle(top_key: str, xml_by_key: dict[str, bytes]) -> Bundle:
    """Parse the stored XML of a pinned version set into a runnable bundle."""
    spec, subprocess_specs = build_specs(top_key, xml_by_key)
    elements, flows = describe(xml_by_key)
    return Bundle(top_key, spec, subprocess_specs, elements, flows, start_form(top_key, xml_by_key[top_key]))
