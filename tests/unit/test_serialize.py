"""engine.bpmn.serialize.dump writes SpiffWorkflow's own format: the same text as SpiffWorkflow's registry.

``dump`` builds the serialization of the workflow, its sub-processes and tasks
directly instead of through SpiffWorkflow's generic registry. Every state
checked here is compared with ``reference`` (the registry path), and loading
the text gives a workflow that serializes to the same again, so databases
written before and after keep loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from engine.bpmn import Host, Instance, make_bundle, serialize
from engine.services import SYSTEM
from tests.conftest import SHANGHAI
from tests.processes.casewalk import ROOT, Walk, shipped_engine

MARKET = "complaint.billing.disputed_fees"
AGENT = "complaint.service.call_centre_agent"
SHIPPED = {path.stem for path in (ROOT / "processes").glob("*.bpmn")}
NOW = datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)
FAST_DUMP = serialize.dump          # the function under test, kept before the spy below replaces it


def reference(workflow) -> str:
    """Serialize through SpiffWorkflow's generic registry: what the engine wrote before the fast path."""
    return serialize.serializer().serialize_json(workflow)


@dataclass
class Written:
    text: str           # what dump wrote
    expected: str       # what SpiffWorkflow's registry writes for the same workflow
    restored: str       # what the registry writes for load(text)
    specs: set[str]     # the processes in the workflow: its own and those of its sub-processes


def check(workflow) -> Written:
    """Dump ``workflow`` both ways and load the fast text again."""
    text = FAST_DUMP(workflow)
    restored = serialize.load(text, workflow.spec, workflow.subprocess_specs)
    specs = {workflow.spec.name} | {sub.spec.name for sub in workflow.subprocesses.values()}
    return Written(text, reference(workflow), reference(restored), specs)


def assert_same(written: Written) -> None:
    assert json.loads(written.text) == json.loads(written.expected)
    assert written.text == written.expected          # key order too: the very same text
    assert json.loads(written.restored) == json.loads(written.expected)


def paused_timers(written: Written) -> list[dict[str, Any]]:
    state = json.loads(written.text)
    workflows = [state, *state["subprocesses"].values()]
    return [task["internal_data"] for wf in workflows for task in wf["tasks"].values()
            if "paused_remaining" in task["internal_data"]]


# --- the shipped processes, walked through the real engine ---------------------------------------

@pytest.fixture
def written(monkeypatch) -> list[Written]:
    """Record every state the engine writes (a spy on our own serialize.dump, which persist calls)."""
    seen: list[Written] = []

    def spy(workflow):
        record = check(workflow)
        seen.append(record)
        return record.text

    monkeypatch.setattr(serialize, "dump", spy)
    return seen


@pytest.fixture(params=["live", "restored"])
def walks(request, db, clock):
    """The shipped engine: workflows kept in memory between commands, or restored from the database each time."""
    return shipped_engine(db, clock, cache_instances=request.param == "live")


def test_every_state_the_shipped_processes_write_is_spiffworkflows_own_text(walks, clock, written):
    engine = walks
    # normal.bpmn: the handle sub-process, a deadline paused, resumed and extended, through to the end.
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler")
    engine.deadlines.pause(walk.case_id, "客户出差, 约定下周联系", engine.accounts.actor("li.handler"))
    clock.advance(hours=30)
    engine.deadlines.resume(walk.case_id, engine.accounts.actor("li.handler"))
    engine.deadlines.extend(walk.case_id, 2, "已告知客户延期原因", engine.accounts.actor("li.handler"))
    walk.investigate("li.handler").reply("li.handler").do("act", "li.handler", action_taken="已退费")
    walk.record("li.handler").do("approve_record", "wang.head", head_approved=True, head_opinion="同意")
    walk.callback().decide().close()
    assert walk.status == "completed"
    # escalation.bpmn as a call activity: no solution found (N-3), then E-1 .. E-5.
    Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler", solution_found=False) \
        .to_reply_e5()
    # a deadline that fires (N-11): the overdue general complaint becomes major and escalates.
    overdue = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    clock.set(datetime(2025, 3, 12, 18, 1, tzinfo=SHANGHAI))
    engine.deadlines.fire_due_timers()
    assert overdue.ready() == ["handover"]
    # demand.bpmn and service_quality.bpmn as call activities.
    demand = Walk.start(engine, "zhang.intake", "demand.broadband")
    demand.do("register", "zhang.intake", responsible_person="zhao.group", demand_summary="希望开通千兆宽带")
    Walk.start(engine, "pan.agent", AGENT, service_quality_agent_count=1, complained_agent="xie.agent") \
        .call_back("wu.teamleader", "refused")
    # crisis.bpmn on its own, with its report deadline passed.
    crisis = engine.cases.start("crisis", {"issue": "基站故障", "category": "complaint.network.signal",
                                          "crisis_trigger": "manual", "warning_level": 0},
                                engine.accounts.actor("zhao.group"))
    clock.advance(hours=2)
    engine.deadlines.fire_due_timers()
    Walk(engine, crisis.id).do("report", "zhao.group", issue_description="基站故障", impact_scope="城东",
                               complaint_count=120, nationwide=False, responsibility_clear=True)

    # rectification.bpmn (P-4) as the scheduler starts it.
    engine.cases.start("rectification", {"department": "network", "month": "2025-02", "department_head": "ma.network",
                                         "rectification_due": "2025-04-03T18:00:00+08:00"}, SYSTEM)

    assert SHIPPED == {"crisis", "demand", "escalation", "normal", "rectification", "service_quality"} \
        and len(written) > 25
    for record in written:
        assert_same(record)
    assert set().union(*(r.specs for r in written)) >= SHIPPED
    assert any(json.loads(r.text)["subprocesses"] for r in written)
    assert any(paused_timers(r) for r in written)


# --- bench/perf.bpmn in memory, with data SpiffWorkflow's registry converts ------------------------

def noop_topic(topic: str, params: dict[str, Any], data: dict[str, Any], element_id: str) -> dict[str, Any]:
    return {"classified": "ok", "last_step": params.get("step"), "checked_at": NOW + timedelta(minutes=5)}


FORMS = {
    "register": {"summary": "包裹破损", "urgent": False},
    "investigate": {"findings": "承运商摔坏", "resolved": True},
    "close": {"reply": "已退款", "accepted": True},
}
RICH_DATA = {
    "received": NOW,                                              # datetime: {"value": ..., "typename": "datetime"}
    "waited": timedelta(hours=3, seconds=5),                      # timedelta
    "ref": UUID("12345678-1234-5678-1234-567812345678"),          # UUID
    "history": [{"at": NOW, "note": "电话", "tries": [1, 2.5, None, True]}, ["nested", {"deep": {"x": []}}]],
    "tags": {"vip"},                                              # a set is written as a list
    "pair": ("a", 1),                                             # a tuple too
    "empty": {},
}


@pytest.fixture
def perf_bundle():
    bpmn = (ROOT / "bench" / "perf.bpmn").read_bytes()
    return make_bundle("bench_perf", {"bench_perf": bpmn})


def run_perf_case(bundle, data: dict[str, Any]) -> list[Written]:
    """Run a bench_perf case to its end in memory, checking every state it passes, live and restored."""
    host = Host({}, noop_topic)
    instance = Instance.start(bundle, data)
    step = instance.advance(host, NOW)
    seen = [check(instance.workflow)]
    while step.status == "running":
        view = step.ready[0]
        step = instance.complete(host, NOW, view.task_id, FORMS[view.element_id])
        seen.append(check(instance.workflow))
        restored = Instance.load(bundle, instance.dump())      # task ids no longer shared objects
        seen.append(check(restored.workflow))
    assert step.status == "completed"
    return seen


def test_bench_perf_states_with_datetimes_uuids_sets_and_nested_data_are_the_same_text(perf_bundle):
    seen = run_perf_case(perf_bundle, {"channel": "web", **RICH_DATA})
    assert len(seen) == 7
    for record in seen:
        assert_same(record)
    assert '"typename": "datetime"' in seen[-1].text and '"typename": "UUID"' in seen[-1].text
    restored = serialize.load(seen[-1].text, perf_bundle.spec, perf_bundle.subprocess_specs)
    assert restored.data["received"] == NOW and restored.data["tags"] == ["vip"]


@pytest.mark.parametrize("value", [Decimal("0.05"), NOW.date()], ids=["decimal", "date"])
def test_decimal_and_date_values_in_case_data_are_written_and_read_back(perf_bundle, value):
    """The sandbox lets scripts leave a Decimal or a date in case data; a dump must not refuse them."""
    instance = Instance.start(perf_bundle, {"amount": {"fee": value}})
    instance.advance(Host({}, noop_topic), NOW)
    text = serialize.dump(instance.workflow)
    assert text == reference(instance.workflow)
    restored = serialize.load(text, perf_bundle.spec, perf_bundle.subprocess_specs)
    fee = restored.task_tree.data["amount"]["fee"]
    assert fee == value and type(fee) is type(value)


def test_a_state_written_before_the_fast_path_loads_and_is_written_again_unchanged(perf_bundle):
    instance = Instance.start(perf_bundle, {"channel": "web", **RICH_DATA})
    instance.advance(Host({}, noop_topic), NOW)
    old_text = reference(instance.workflow)                      # as the registry wrote it into the database
    restored = Instance.load(perf_bundle, old_text)
    assert restored.dump() == old_text
