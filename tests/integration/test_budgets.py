"""Issue 16 item 1: no BPMN can hang or exhaust a worker; every command runs under a budget (docs/budgets.md).

Over budget, the command's transaction rolls back, the case goes to incident
with the reason, the pool stays healthy and the timer sweep goes on. SPEC A-1
(every step is kept or nothing is written), A-2 (administrator actions are
audited), T-1 (timers fire on time for every other case).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import insert

from engine.scheduler import sweep
from engine.services import SYSTEM, ProcessEngine
from engine.services.errors import StepOverBudget
from engine.settings import Settings
from engine.store.models import ProcessVersion
from tests.conftest import fixture_bytes

SHIPPED_DATA = Path(__file__).parents[2] / "data"
SECONDS = 0.5


def process(key: str, body: str, flows: list[tuple[str, str]]) -> bytes:
    """Return a small executable BPMN file: ``body`` elements between start and end, wired by ``flows``."""
    wiring = "\n".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
                       for i, (a, b) in enumerate(flows))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="defs_{key}" targetNamespace="http://example.org/complaints/tests">
  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="start" />
    {body}
    <bpmn:endEvent id="end" />
    {wiring}
  </bpmn:process>
</bpmn:definitions>""".encode()


def script(element_id: str, code: str) -> str:
    return f'<bpmn:scriptTask id="{element_id}" scriptFormat="python"><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>'


def review(element_id: str = "review") -> str:
    return f'<bpmn:userTask id="{element_id}" camunda:candidateGroups="handler" />'


def timer(element_id: str, duration: str = "PT1H") -> str:
    return (f'<bpmn:intermediateCatchEvent id="{element_id}"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{duration}</bpmn:timeDuration>'
            f'</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')


def script_first(key: str, code: str) -> bytes:
    """start -> run (script) -> review (user task) -> end."""
    return process(key, script("run", code) + review(), [("start", "run"), ("run", "review"), ("review", "end")])


def budgeted(db, clock, topics, tmp_path, budget: str) -> ProcessEngine:
    """Return an engine on a copy of the shipped rule files whose budget.toml is ``budget``."""
    data = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, data)
    (data / "budget.toml").write_text(budget, encoding="utf-8")
    return ProcessEngine(db, clock, topics, cache_instances=False, settings=Settings(data_dir=data))


@pytest.fixture
def tight(db, clock, topics, tmp_path) -> ProcessEngine:
    """An engine whose budget is half a second and 200 steps (the shipped one is 10 s and 5,000)."""
    return budgeted(db, clock, topics, tmp_path, f"[budget]\nseconds = {SECONDS}\nsteps = 200\nmemory_mb = 64\n")


def stored_version(engine: ProcessEngine, key: str, xml: bytes) -> None:
    """Store a version as one deployed before deploy refused it would (a raw row: deploy itself refuses it)."""
    with engine._core.db.transaction() as session:
        session.execute(insert(ProcessVersion), {
            "key": key, "version": 1, "name": key, "file_name": f"{key}.bpmn", "xml": xml, "sha256": key,
            "calls": [], "deployed_by": "earlier", "deployed_at": engine.clock()})


@pytest.mark.parametrize("code, kind", [
    ("while True: pass", "time"),
    ("x = 0\nwhile True:\n    try:\n        x += 1\n    except Exception:\n        pass", "time"),
    ("f = lambda n: f(n - 1) + f(n - 1) if n else 0\ny = f(60)", "time"),
    ("x = [0 for a in range(10**6) for b in range(10**6)]", "time"),
    ("s = str(10**10**8)", "size"),
    ("p = pow(7, 10**9)", "size"),
    ("n = len('a' * 2 * 10**9)", "size"),
])
def test_a_script_over_budget_at_start_leaves_the_case_in_incident_with_the_reason(tight, code, kind, handler):
    tight.admin.deploy(script_first("bomb", code), "bomb.bpmn")
    began = time.monotonic()
    ref = tight.cases.start("bomb", {"complaint": "C-1"})
    assert time.monotonic() - began < SECONDS + 5
    page = tight.reads.case_page(ref.id, SYSTEM)
    assert (ref.status, page.case.status) == ("incident", "incident")
    assert page.case.incident.startswith(f"over budget ({kind}):")
    assert page.tasks == ()                 # nothing of the step was kept: review was never reached
    assert page.case.data["complaint"] == "C-1"     # the complaint itself is kept for the administrator
    [event] = [e for e in page.events if e.lifecycle == "incident"]
    assert event.data == {"error": page.case.incident, "budget": kind}
    assert tight.reads.inbox(handler).tasks == ()


def test_a_memory_bomb_built_in_a_loop_stops_at_the_memory_budget(db, clock, topics, tmp_path):
    """Memory, not time: a budget of 60 s (a loaded machine allocates slowly) and 64 MB."""
    engine = budgeted(db, clock, topics, tmp_path, "[budget]\nseconds = 60\nmemory_mb = 64\n")
    engine.admin.deploy(script_first("bomb", "rows = []\nwhile True:\n    rows.append([0] * 10**6)"), "bomb.bpmn")
    ref = engine.cases.start("bomb", {})
    incident = engine.reads.case_page(ref.id, SYSTEM).case.incident
    assert ref.status == "incident" and incident.startswith("over budget (memory): a script grew the worker's memory")


def test_a_loop_without_a_wait_state_stops_at_the_step_budget(tight):
    loop = process("spin", '<bpmn:exclusiveGateway id="gw" />' + script("count", "n = n + 1"),
                   [("start", "gw"), ("gw", "count"), ("count", "gw")])
    stored_version(tight, "spin", loop)
    ref = tight.cases.start("spin", {"n": 0})
    incident = tight.reads.case_page(ref.id, SYSTEM).case.incident
    assert ref.status == "incident" and incident.startswith("over budget (steps): more than 200 engine steps")


def test_a_completion_over_budget_is_rolled_back_and_the_case_goes_to_incident(tight, handler, admin):
    after = process("slow", review() + script("run", "while True: pass"),
                    [("start", "review"), ("review", "run"), ("run", "end")])
    tight.admin.deploy(after, "slow.bpmn")
    case_id = tight.cases.start("slow", {}).id
    [task] = tight.reads.inbox(handler).tasks
    with pytest.raises(StepOverBudget) as refused:
        tight.cases.complete(task.id, {}, handler)
    assert refused.value.code == "step_over_budget" and refused.value.case_id == case_id
    page = tight.reads.case_page(case_id, SYSTEM)
    assert page.case.status == "incident" and page.case.incident.startswith("over budget (time)")
    assert [(t.element_id, t.state) for t in page.tasks] == [("review", "ready")]    # the completion was undone
    assert not [e for e in page.events if e.lifecycle == "completed" and e.element_id == "review"]
    # The retry runs the case on from what was stored: the task waits again, nothing was lost.
    assert tight.cases.retry(case_id, admin).status == "running"


def test_fifteen_hanging_starts_leave_the_pool_healthy(tight, handler):
    tight.admin.deploy(script_first("bomb", "while True: pass"), "bomb.bpmn")
    tight.admin.deploy(script_first("fine", "checked = True"), "fine.bpmn")
    for _ in range(15):
        assert tight.cases.start("bomb", {}).status == "incident"
    assert tight.cases.start("fine", {}).status == "running"
    assert tight.reads.health()["processes"] == ["bomb", "fine"]
    assert len(tight.reads.inbox(handler).tasks) == 1


def test_one_hanging_case_behind_a_due_timer_does_not_stop_the_sweep_of_twenty_others(tight, clock):
    """The single scheduler (its sweep job) fires the 20 due timers and puts the hanging case in incident."""
    tight.admin.deploy(process("hang", timer("wait") + script("run", "while True: pass"),
                               [("start", "wait"), ("wait", "run"), ("run", "end")]), "hang.bpmn")
    tight.admin.deploy(process("calm", timer("wait") + review(), [("start", "wait"), ("wait", "review"),
                                                                   ("review", "end")]), "calm.bpmn")
    hanging = tight.cases.start("hang", {}).id         # its timer is the first due: the sweep meets it first
    clock.advance(minutes=1)
    calm = [tight.cases.start("calm", {}).id for _ in range(20)]
    clock.advance(hours=2)
    assert sweep(tight) == {"fired": 20, "failed": 1, "conflicts": 0}
    assert tight.reads.case_page(hanging, SYSTEM).case.incident.startswith("over budget (time)")
    assert {tight.reads.case_page(c, SYSTEM).tasks[0].element_id for c in calm} == {"review"}
    # The next sweep (or a restarted scheduler) does not run into the hanging case again.
    assert sweep(tight) == {"fired": 0, "failed": 0, "conflicts": 0}
    assert [e.lifecycle for e in tight.reads.case_page(hanging, SYSTEM).events].count("incident") == 1


def test_the_shipped_budget_is_data_and_bounds_every_command(engine):
    limits = engine._core.limits
    assert (limits.seconds, limits.steps, limits.memory_mb) == (10.0, 5000, 512)


def test_an_ordinary_script_runs_under_the_budget(tight, handler):
    tight.admin.deploy(fixture_bytes("script_task.bpmn"), "script_task.bpmn")
    ref = tight.cases.start("script_demo", {})
    assert ref.status == "running" and tight.reads.case_page(ref.id, SYSTEM).case.data["checked"] is True
