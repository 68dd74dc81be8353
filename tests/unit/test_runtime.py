"""engine.bpmn.runtime.Instance in memory: what a command reports agrees with the case it leaves behind.

A command reads the tasks once before and once after it runs; these tests pin
that its Step says what the views of the case say afterwards, for tasks inside a
call activity too, and how a task id that names no ready user task is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest

from engine.bpmn import EngineError, Host, Instance, clock, json_safe, make_bundle
from tests.conftest import SHANGHAI, fixture_bytes

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)
HOST = Host({}, lambda topic, params, data, element_id: {"notified": topic})


@pytest.fixture
def caller():
    """caller.bpmn: a call activity running loop.bpmn (investigate, loop back, reply with a due date and timers)."""
    bundle = make_bundle("caller_demo", {"caller_demo": fixture_bytes("caller.bpmn"),
                                         "loop_demo": fixture_bytes("loop.bpmn")})
    return Instance.start(bundle, {"delays": 0, "responsible_group": "market"})


def assert_step_matches_the_case(instance: Instance, step, moment: datetime = NOW) -> None:
    with clock.engine_time(moment):
        assert step.ready == instance.ready_user_tasks()
    assert step.timers == instance.waiting_timers()
    assert step.data == json_safe(instance.data)


def test_a_user_task_inside_a_call_activity_is_completed_by_its_id(caller):
    step = caller.advance(HOST, NOW)
    assert [v.element_id for v in step.ready] == ["investigate"] and step.new_ready() == step.ready
    task = caller.workflow.get_task_from_id(UUID(step.ready[0].task_id))
    assert task.workflow is not caller.workflow                     # it runs in the called process
    assert_step_matches_the_case(caller, step)

    step = caller.complete(HOST, NOW, step.ready[0].task_id, {"info_sufficient": False, "note": "more"})
    assert [v.element_id for v in step.ready] == ["investigate"] and step.data["delays"] == 1
    assert [(e.element_id, e.lifecycle) for e in step.events][:3] == [
        ("investigate", "completed"), ("gw_info", "completed"), ("tell_delay", "completed")]
    assert_step_matches_the_case(caller, step)

    step = caller.complete(HOST, NOW, step.ready[0].task_id, {"info_sufficient": True, "note": "enough"})
    [reply] = step.ready
    assert (reply.element_id, reply.candidate_groups, reply.due_at) == ("reply", ["market"], NOW + timedelta(hours=48))
    assert {t.element_id for t in step.timers} == {t.element_id for t in step.new_timers()} != set()
    assert_step_matches_the_case(caller, step)

    overdue = {t.task_id for t in step.timers}
    step = caller.complete(HOST, NOW, reply.task_id, {"accepted": True})
    assert step.status == "running" and step.gone_ready() == {reply.task_id: "completed"}
    assert step.gone_timers() == overdue and [t.element_id for t in step.timers] == ["cooldown"]
    assert_step_matches_the_case(caller, step)

    later = NOW + timedelta(hours=2, minutes=1)
    step = caller.advance(HOST, later)
    assert step.status == "completed" and step.timers == [] and step.events[0].lifecycle == "timer_fired"
    assert_step_matches_the_case(caller, step, later)


def test_an_id_that_names_no_ready_user_task_is_refused(caller):
    step = caller.advance(HOST, NOW)
    task_id = step.ready[0].task_id
    call_activity = next(t for t in caller.workflow.tasks.values() if t.task_spec.bpmn_id == "call_loop")
    for other, reason in [(task_id.upper(), "is not part of this case"), (f"{{{task_id}}}", "is not part of this case"),
                          ("not-a-uuid", "is not part of this case"),
                          (str(call_activity.id), "is not a ready user task")]:
        with pytest.raises(EngineError, match=reason):
            caller.complete(HOST, NOW, other, {})
    caller.complete(HOST, NOW, task_id, {"info_sufficient": True, "note": "enough"})
    with pytest.raises(EngineError, match="is not a ready user task"):
        caller.complete(HOST, NOW, task_id, {})
