"""``python -m bench.budget``: what the command budget (engine/bpmn/budget.py) costs per case.

Three workloads on the engine's runtime in memory (no database, so that the
budget's share is not hidden behind commits), each run with the budget as
shipped and with its accounting switched off (no step counter, no line
tracer; the operator guards compiled into scripts stay, they are measured
apart):

- ``perf``: bench/perf.bpmn, 3 user tasks, 2 service tasks, 2 gateways (no script);
- ``script``: a script task looping 200 rounds between two user tasks;
- ``guards``: one expression with ``+``, ``*`` and ``**`` evaluated 20,000 times,
  guarded (``_binop_``) against plain restricted code.

Figures are medians of ``--rounds`` rounds of ``--cases`` cases; the machine is
shared, so read the difference of the medians, not single rounds.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

from RestrictedPython import compile_restricted_eval

from engine.bpmn import Host, Instance, make_bundle
from engine.bpmn import budget, runtime, sandbox

from .workload import RuntimeRunner

PERF = Path(__file__).with_name("perf.bpmn").read_bytes()
SCRIPT = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_b" targetNamespace="http://example.org/bench">
  <bpmn:process id="budget_bench" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="first" camunda:candidateGroups="handler" />
    <bpmn:scriptTask id="count" scriptFormat="python"><bpmn:script>total = 0
for i in range(200):
    total += i * 2
label = 'n=' + str(total)</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="second" camunda:candidateGroups="handler" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first" />
    <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="count" />
    <bpmn:sequenceFlow id="f3" sourceRef="count" targetRef="second" />
    <bpmn:sequenceFlow id="f4" sourceRef="second" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


@contextlib.contextmanager
def accounting_off():
    """Run commands with no budget: no step counter, no line tracer (what the engine did before issue 16)."""
    saved = runtime.budget.running
    runtime.budget.running = lambda limits: contextlib.nullcontext()
    try:
        yield
    finally:
        runtime.budget.running = saved


class ScriptRunner:
    def __init__(self) -> None:
        self.bundle = make_bundle("budget_bench", {"budget_bench": SCRIPT})
        self.host = Host({}, lambda *args: None)

    def run_case(self) -> None:
        now = datetime.now(timezone.utc)
        instance = Instance.start(self.bundle, {})
        step = instance.advance(self.host, now)
        while step.status == "running":
            step = instance.complete(self.host, now, step.ready[0].task_id, {})
        if step.status != "completed":
            raise RuntimeError(f"bench case ended {step.status}: {step.error}")


def per_case(runner, cases: int, rounds: int) -> float:
    """Return the median milliseconds per case over ``rounds`` rounds of ``cases`` cases."""
    for _ in range(5):
        runner.run_case()
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(cases):
            runner.run_case()
        times.append((time.perf_counter() - began) * 1000 / cases)
    return statistics.median(times)


def guards(evaluations: int, rounds: int) -> tuple[float, float]:
    """Return microseconds per evaluation of one expression, guarded and plain."""
    source = "amount * 2 + base ** 2 + len(name + '!')"
    data = {"amount": 120, "base": 7, "name": "complaint"}
    guarded = sandbox.compile_expression(source)
    plain = compile_restricted_eval(source, "<plain>").code
    scope = {**sandbox.BASE_GLOBALS, **data}
    result = []
    for code in (guarded, plain):
        times = []
        for _ in range(rounds):
            began = time.perf_counter()
            for _ in range(evaluations):
                eval(code, scope)  # noqa: S307 - the bench's own expression
            times.append((time.perf_counter() - began) * 1e6 / evaluations)
        result.append(statistics.median(times))
    return result[0], result[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"budget as shipped: {budget.DEFAULT_LIMITS}")
    print(f"{'workload':10} {'budget ms/case':>15} {'off ms/case':>12} {'overhead':>9}")
    for name, runner in (("perf", RuntimeRunner(PERF)), ("script", ScriptRunner())):
        on = per_case(runner, args.cases, args.rounds)
        with accounting_off():
            off = per_case(runner, args.cases, args.rounds)
        print(f"{name:10} {on:15.3f} {off:12.3f} {100 * (on - off) / off:8.1f}%")
    guarded, plain = guards(20_000, args.rounds)
    print(f"{'guards':10} {guarded:12.3f} us {plain:9.3f} us {100 * (guarded - plain) / plain:8.1f}%  "
          "(one expression with +, * and **; per evaluation)")


if __name__ == "__main__":
    main()
