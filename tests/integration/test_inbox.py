"""The inbox: a clerk sees the READY tasks assigned to them and, unless asked not to, those their groups may claim."""

from __future__ import annotations

from engine.services import Actor
from tests.conftest import fixture_bytes


def _two_cases(engine):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    engine.admin.deploy(fixture_bytes("script_task.bpmn"), "script_task.bpmn")
    loop = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"})
    script = engine.cases.start("script_demo", {"amount": 1})
    return loop.open_tasks[0].id, script.open_tasks[0].id


def _ids(tasks) -> set[str]:
    return {t.id for t in tasks}


def test_group_members_see_claimable_tasks_and_others_do_not(engine, handler, market):
    investigate, review = _two_cases(engine)
    assert _ids(engine.reads.inbox(handler).tasks) == {investigate, review}
    assert engine.reads.inbox(market).tasks == ()
    assert engine.reads.inbox(Actor("nobody", frozenset())).tasks == ()


def test_a_claimed_task_leaves_the_other_candidates_inbox_and_stays_in_the_assignees(engine, handler):
    investigate, review = _two_cases(engine)
    colleague = Actor("hilde", frozenset({"handler"}))
    engine.cases.claim(investigate, handler)
    assert _ids(engine.reads.inbox(handler).tasks) == {investigate, review}
    assert _ids(engine.reads.inbox(handler, include_claimable=False).tasks) == {investigate}
    assert _ids(engine.reads.inbox(colleague).tasks) == {review}
    assert engine.reads.inbox(colleague, include_claimable=False).tasks == ()


def test_filters_by_process_and_i4_the_next_task_reaches_the_group_the_routing_names(engine, handler, market):
    investigate, review = _two_cases(engine)
    assert _ids(engine.reads.inbox(handler, process_key="script_demo").tasks) == {review}
    engine.cases.complete(investigate, {"note": "enough", "info_sufficient": True}, handler)
    reply = engine.reads.inbox(market).tasks
    assert [t.element_id for t in reply] == ["reply"]
    assert _ids(engine.reads.inbox(handler).tasks) == {review}, "the completed task left every inbox"
