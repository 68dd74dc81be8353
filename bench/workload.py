"""The benchmark's workload: the cases' data, the ``bench_noop`` topic, and the two in-memory baselines.

Bare baseline (the ratio's denominator): plain SpiffWorkflow with its *default*
``PythonScriptEngine`` (``TaskDataEnvironment``: plain ``eval`` of the gateway
conditions), plus only the ``call_topic`` method that the dialect's
``TopicServiceTask`` needs. The specs come from the engine's own parser
(``engine.bpmn.parser.build_specs``) so both sides run the same task specs. We
chose the default engine rather than the engine's sandboxed ``SCRIPT_ENGINE``
because the issue compares against *bare* SpiffWorkflow: the sandbox
(RestrictedPython guards, host context, step views) is part of what the engine
adds, so it belongs to the persisted side's cost, not to the baseline. This is
the stricter choice: a slower baseline would make the ratio look better.

Runtime (informational): the engine's own ``engine.bpmn.runtime.Instance`` in
memory, with the sandboxed script engine, step views and audit events, and one
``dump()`` per command as ``persist`` does, but no database. It splits the
overhead into "engine runtime" and "database + services".
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import Host, Instance, make_bundle
from engine.bpmn.parser import build_specs
from engine.services import Actor

DEFAULT_BPMN = Path(__file__).with_name("perf.bpmn")
ACTOR = Actor("bench", frozenset({"bench"}))
START_DATA: dict[str, Any] = {"channel": "web", "customer": "C-0001"}
# Form data per user task (element id); the same values on every side of the comparison.
FORMS: dict[str, dict[str, Any]] = {
    "register": {"summary": "Parcel arrived damaged", "urgent": False},
    "investigate": {"findings": "Carrier dropped the parcel", "resolved": True},
    "close": {"reply": "Refund granted", "accepted": True},
}
USER_TASKS_PER_CASE = 3


def noop_result(step: str) -> dict[str, Any]:
    """What the ``bench_noop`` topic returns: a small dict merged into the case data."""
    return {"classified": "ok", "last_step": step}


def bench_noop(ctx, step: str = "") -> dict[str, Any]:
    """The TopicRegistry handler of the persisted side."""
    return noop_result(step)


def process_key(bpmn: bytes) -> str:
    """Return the id of the (single) executable process of the benchmark file."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    return etree.fromstring(bpmn).xpath("bpmn:process/@id", namespaces=ns)[0]


# --- bare SpiffWorkflow --------------------------------------------------------------------------

class BareScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's default script engine plus the topic call the dialect's service task makes."""

    def call_topic(self, task, topic: str, params: dict[str, Any]) -> dict[str, Any]:
        return noop_result(**params)


class BareRunner:
    """Runs cases on bare in-memory SpiffWorkflow; the file is parsed once."""

    def __init__(self, bpmn: bytes):
        key = process_key(bpmn)
        self.spec, self.subprocess_specs = build_specs(key, {key: bpmn})
        self.script_engine = BareScriptEngine()

    def run_case(self) -> None:
        wf = BpmnWorkflow(self.spec, self.subprocess_specs, script_engine=self.script_engine)
        wf.task_tree.data.update(START_DATA)
        wf.do_engine_steps()
        done = 0
        while not wf.completed:
            ready = wf.get_tasks(state=TaskState.READY, manual=True)
            if not ready:
                raise RuntimeError("bare case stopped without a READY user task")
            for task in ready:
                task.set_data(**FORMS[task.task_spec.bpmn_id])
                task.run()
                wf.do_engine_steps()
                done += 1
        if done != USER_TASKS_PER_CASE:
            raise RuntimeError(f"bare case completed {done} user tasks, expected {USER_TASKS_PER_CASE}")


# --- the engine's runtime in memory (informational) ----------------------------------------------

class RuntimeRunner:
    """Runs cases on ``engine.bpmn.runtime.Instance`` without a database, serializing after each command."""

    def __init__(self, bpmn: bytes):
        key = process_key(bpmn)
        self.bundle = make_bundle(key, {key: bpmn})
        self.host = Host({}, lambda topic, params, data, element_id: noop_result(**params))
        self.state_bytes = 0

    def run_case(self) -> None:
        now = datetime.now(timezone.utc)
        instance = Instance.start(self.bundle, dict(START_DATA))
        step = instance.advance(self.host, now)
        state = instance.dump()
        done = 0
        while step.status == "running":
            if not step.ready:
                raise RuntimeError("runtime case stopped without a READY user task")
            view = step.ready[0]
            step = instance.complete(self.host, now, view.task_id, FORMS[view.element_id])
            state = instance.dump()
            done += 1
        if step.status != "completed" or done != USER_TASKS_PER_CASE:
            raise RuntimeError(f"runtime case ended {step.status} after {done} user tasks: {step.error}")
        self.state_bytes = len(state.encode())
