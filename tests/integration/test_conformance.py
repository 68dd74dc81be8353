"""Conformance by replay (SPEC §10 A-2): trails judged against the exact versions their cases ran on.

Every walk of tests/processes is replayed by its fixture (tests/processes/conftest.py) and must fit; here:
each deviation type on a trail built from an engine-run case, overrides that are not deviations, versions.
"""

from __future__ import annotations

import pytest

from engine.bpmn import make_bundle
from engine.bpmn.replay import Deviation, TrailStep, replay
from engine.services import SYSTEM, PermissionDenied, Selection
from tests.conftest import PROCESSES, fixture_bytes
from tests.processes.casewalk import DEPLOY_ORDER, Walk, shipped_engine

MARKET = "complaint.billing.disputed_fees"


@pytest.fixture
def shipped(db, clock):
    return shipped_engine(db, clock)


@pytest.fixture
def officer(shipped):
    """The demo organisation's compliance officer."""
    return shipped.accounts.actor("qian.audit")


def closed_case(engine) -> Walk:
    """Return a normal complaint run from intake to closing (N-1 .. N-10)."""
    return Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide().close()


def trail_of(engine, case_id: int) -> list[TrailStep]:
    return [TrailStep(e.element_id, e.lifecycle) for e in engine.reads.case_page(case_id, SYSTEM).events
            if e.element_id and e.lifecycle in ("completed", "timer_fired", "ready")]


def normal_bundle():
    return make_bundle("normal", {key: (PROCESSES / f"{key}.bpmn").read_bytes() for key in DEPLOY_ORDER})


def block(trail: list[TrailStep], element_id: str) -> slice:
    """Return the slice of the command that completed ``element_id``: its entry up to the next user task's."""
    start = trail.index(TrailStep(element_id))
    end = next((i for i in range(start + 1, len(trail)) if trail[i].lifecycle == "ready"), len(trail))
    end = next((i for i in range(end, len(trail)) if trail[i].lifecycle != "ready"), len(trail))
    return slice(start, end)


@pytest.fixture
def happy_trail(shipped):
    return trail_of(shipped, closed_case(shipped).case_id)


def test_a2_an_engine_run_case_fits_and_its_path_is_the_executed_one(shipped, officer):
    walk = closed_case(shipped)
    judged = shipped.compliance.case(walk.case_id, officer)
    assert judged.fits and judged.deviations == () and judged.versions == {k: 1 for k in judged.versions}
    assert judged.path == tuple(walk.path()) and "decide_outcome" in judged.path


def test_a2_a_deleted_step_is_skipped_and_named(happy_trail):
    trail = list(happy_trail)
    del trail[block(trail, "approve_record")]
    kinds = [(d.kind, d.element_id) for d in replay(normal_bundle(), trail, ended=True)]
    assert kinds == [("skipped", "approve_record")]


def test_a2_a_step_done_twice_is_repeated_beyond_the_model(happy_trail):
    trail = list(happy_trail)
    act = block(trail, "act")
    trail[act.stop:act.stop] = trail[act]
    assert [(d.kind, d.element_id) for d in replay(normal_bundle(), trail, ended=True)] == [("repeated", "act")]


def test_a2_two_steps_swapped_are_out_of_order(happy_trail):
    trail = list(happy_trail)
    act, record = block(trail, "act"), block(trail, "record_four_elements")
    trail[act.start:record.stop] = trail[record] + trail[act]
    found = replay(normal_bundle(), trail, ended=True)
    assert ("out_of_order", "act") in [(d.kind, d.element_id) for d in found]
    assert {d.kind for d in found} == {"out_of_order"}


def test_a2_an_element_not_allowed_there_is_unexpected(happy_trail):
    trail = list(happy_trail)
    after_accept = block(trail, "accept").stop
    trail.insert(after_accept, TrailStep("decide_outcome"))
    found = replay(normal_bundle(), trail, ended=True)
    assert found == (Deviation("unexpected", "decide_outcome", after_accept),)


def test_a2_a_closed_case_that_stopped_early_skipped_the_rest(happy_trail):
    trail = happy_trail[:block(happy_trail, "callback").start]
    assert replay(normal_bundle(), trail, ended=False) == ()          # a running case waits at the call-back
    assert [(d.kind, d.element_id) for d in replay(normal_bundle(), trail, ended=True)] == [("skipped", "callback")]


def test_a2_deviations_carry_time_and_actor_and_the_summary_lists_them(shipped, officer, clock):
    walk = Walk.start(shipped, "zhang.intake", MARKET).accept("li.handler")
    clock.advance(hours=1)
    walk.investigate("li.handler")
    judged = shipped.compliance.case(walk.case_id, officer)
    assert judged.fits and judged.status == "running" and judged.path[-1] == "gw_solution"
    summary = shipped.compliance.summary(officer, Selection(process_key="normal"))
    assert (summary.cases, summary.fitting, summary.deviating) == (1, 1, ())
    assert [(r.process_key, r.version, r.month, r.cases, r.fitting) for r in summary.rows] == [
        ("normal", 1, "2025-03", 1, 1)]


def test_a2_pause_resume_and_extension_are_overrides_not_deviations(shipped, officer, clock):
    walk = Walk.start(shipped, "zhang.intake", MARKET).accept("li.handler")
    handler = shipped.accounts.actor("li.handler")
    shipped.deadlines.pause(walk.case_id, "等待客户提供材料", handler)
    clock.advance(hours=2)
    shipped.deadlines.resume(walk.case_id, handler)
    shipped.deadlines.extend(walk.case_id, 2, "等待厂家检测报告,已告知客户", handler)
    walk.investigate("li.handler").reply("li.handler")
    judged = shipped.compliance.case(walk.case_id, officer)
    assert judged.fits
    assert [(o.action, o.actor, o.reason) for o in judged.overrides] == [
        ("paused", "li.handler", "等待客户提供材料"), ("resumed", "li.handler", None),
        ("extended", "li.handler", "等待厂家检测报告,已告知客户")]
    summary = shipped.compliance.summary(officer)
    assert (summary.fitting, summary.overridden) == (1, 1)


def test_a2_an_administrators_retry_of_an_incident_is_an_override(engine, topics, handler, admin):
    calls = []

    def flaky_booking(ctx, **params):
        calls.append(params)
        if len(calls) == 1:
            raise RuntimeError("ledger offline")
        return {"booked": True}

    topics.add("flaky_booking", flaky_booking)
    engine.admin.deploy(fixture_bytes("flaky_service.bpmn"), "flaky_service.bpmn")
    case_id = engine.cases.start("flaky_demo", {"complaint": "C-1"}).id
    [approve] = engine.reads.case_page(case_id, SYSTEM).tasks
    engine.cases.complete(approve.id, {"outcome": "upheld"}, handler)
    engine.cases.retry(case_id, admin)
    judged = engine.compliance.case(case_id, admin)
    assert judged.fits and [(o.action, o.actor) for o in judged.overrides] == [("retry", "ada")]
    assert judged.path.count("book") == 1


DEADLINE_V2 = fixture_bytes("deadline.bpmn").replace(
    b'<bpmn:sequenceFlow id="d_f1" sourceRef="d_start" targetRef="d_reply" />',
    b'<bpmn:sequenceFlow id="d_f1" sourceRef="d_start" targetRef="d_triage" />'
    b'<bpmn:userTask id="d_triage" name="Triage" camunda:candidateGroups="handler" />'
    b'<bpmn:sequenceFlow id="d_f0" sourceRef="d_triage" targetRef="d_reply" />')


def test_a2_a_case_that_ran_on_v1_is_judged_against_v1_after_v2_is_deployed(engine, handler, admin):
    engine.admin.deploy(fixture_bytes("deadline.bpmn"), "deadline.bpmn")
    old = engine.cases.start("deadline_demo", {})
    engine.admin.deploy(DEADLINE_V2, "deadline.bpmn")
    new = engine.cases.start("deadline_demo", {})
    assert [t.element_id for t in new.open_tasks] == ["d_triage"]
    engine.cases.complete(old.open_tasks[0].id, {}, handler)
    judged = engine.compliance.case(old.id, admin)
    assert (judged.version, judged.status, judged.fits) == (1, "completed", True)
    v2 = make_bundle("deadline_demo", {"deadline_demo": DEADLINE_V2})
    v1_trail = [TrailStep(e) for e in judged.path]
    assert [(d.kind, d.element_id) for d in replay(v2, v1_trail, ended=True)] == [("skipped", "d_triage")]
    engine.cases.complete(new.open_tasks[0].id, {}, handler)
    assert engine.compliance.case(new.id, admin).fits and engine.compliance.case(new.id, admin).version == 2


def test_a2_only_compliance_and_administrators_see_conformance(shipped, officer):
    walk = closed_case(shipped)
    assert shipped.compliance.case(walk.case_id, officer).fits
    with pytest.raises(PermissionDenied) as refused:
        shipped.compliance.case(walk.case_id, shipped.accounts.actor("li.handler"))
    assert refused.value.params == {"permission": "see_compliance"}
    with pytest.raises(PermissionDenied):
        shipped.compliance.summary(shipped.accounts.actor("zhao.group"))


TWO_STEPS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_two" targetNamespace="http://example.org/tests">
  <bpmn:process id="two_steps" isExecutable="true">
    <bpmn:startEvent id="t_start"/>
    <bpmn:sequenceFlow id="t_f1" sourceRef="t_start" targetRef="t_check"/>
    <bpmn:userTask id="t_check" name="Check" camunda:candidateGroups="handler"/>
    <bpmn:sequenceFlow id="t_f2" sourceRef="t_check" targetRef="t_reply"/>
    <bpmn:userTask id="t_reply" name="Reply" camunda:candidateGroups="handler"/>
    <bpmn:sequenceFlow id="t_f3" sourceRef="t_reply" targetRef="t_end"/>
    <bpmn:endEvent id="t_end"/>
  </bpmn:process>
</bpmn:definitions>
"""
TWO_STEPS_V2 = TWO_STEPS.replace(
    b'<bpmn:sequenceFlow id="t_f1" sourceRef="t_start" targetRef="t_check"/>',
    b'<bpmn:sequenceFlow id="t_f1" sourceRef="t_start" targetRef="t_triage"/>'
    b'<bpmn:userTask id="t_triage" name="Triage" camunda:candidateGroups="handler"/>'
    b'<bpmn:sequenceFlow id="t_f0" sourceRef="t_triage" targetRef="t_check"/>')


def test_a2_a_case_repaired_onto_v2_is_judged_on_v1_up_to_the_repair_and_on_v2_after(engine, handler, admin):
    engine.admin.deploy(TWO_STEPS, "two_steps.bpmn")
    case = engine.cases.start("two_steps", {})                       # v1: waits at t_check
    engine.admin.deploy(TWO_STEPS_V2, "two_steps.bpmn")             # v2: t_triage before t_check
    engine.cases.repair(case.id, admin, reason="迁移到新版本", version=2, retry=False)
    for _ in range(2):
        [task] = [t for t in engine.reads.case_page(case.id, SYSTEM).tasks if t.state == "ready"]
        engine.cases.complete(task.id, {}, handler)
    judged = engine.compliance.case(case.id, admin)
    assert (judged.version, judged.status, judged.fits) == (2, "completed", True)
    assert [o.action for o in judged.overrides] == ["repair"]
    v2 = make_bundle("two_steps", {"two_steps": TWO_STEPS_V2})
    whole_on_v2 = replay(v2, [TrailStep(e) for e in judged.path], ended=True)
    assert [(d.kind, d.element_id) for d in whole_on_v2] == [("skipped", "t_triage")]     # what the split avoids
    assert engine.compliance.summary(admin, Selection(process_key="two_steps")).fitting == 1


def crisis_tracked(engine, clock, hours: int = 3) -> Walk:
    """C-6: a crisis reported, remedied, its hourly count fired by the scheduler ``hours`` times; still tracked."""
    from tests.processes.test_crisis import crisis, remedy, report

    walk = remedy(report(crisis(engine)))
    for _ in range(hours):
        clock.advance(hours=1, minutes=1)
        engine.deadlines.fire_due_timers()
    return walk


def crisis_bundle():
    return make_bundle("crisis", {"crisis": (PROCESSES / "crisis.bpmn").read_bytes()})


def test_c6_a2_hourly_counts_on_a_timer_cycle_replay_clean_and_a_tampered_trail_is_caught(shipped, officer, clock):
    walk = crisis_tracked(shipped, clock)
    walk.do("assess_tracking", "zhao.group", tracking_note="投诉量回落,事件结束")
    judged = shipped.compliance.case(walk.case_id, officer)
    assert judged.fits and judged.deviations == () and judged.path.count("hourly_count") == 3
    trail = trail_of(shipped, walk.case_id)
    assert replay(crisis_bundle(), trail, ended=False) == ()
    tick = trail.index(TrailStep("hourly_count", "timer_fired"))
    without_tick = trail[:tick] + trail[tick + 1:]                    # a count nobody's timer ran
    assert [(d.kind, d.element_id) for d in replay(crisis_bundle(), without_tick, ended=False)] == [
        ("skipped", "hourly_count")]
    late = trail + [TrailStep("hourly_count", "timer_fired"), TrailStep("count_complaints")]    # after the close
    assert replay(crisis_bundle(), late, ended=False) == (Deviation("repeated", "hourly_count", len(trail)),)


def finite_cycle(cycle: str) -> bytes:
    """review (user task) with a non-interrupting boundary cycle ``cycle`` -> ping (user task) on each tick."""
    from tests.integration.test_budgets import process, review

    body = (review() + '<bpmn:boundaryEvent id="every_hour" cancelActivity="false" attachedToRef="review">'
            f'<bpmn:timerEventDefinition><bpmn:timeCycle>{cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>'
            '</bpmn:boundaryEvent><bpmn:scriptTask id="ping"><bpmn:script>pinged = True</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="pinged" />')
    return process("cy", body, [("start", "review"), ("review", "end"), ("every_hour", "ping"), ("ping", "pinged")])


def test_c6_a2_a_cycle_of_two_ticks_fires_twice_and_a_third_tick_in_the_trail_is_repeated(engine, handler, admin, clock):
    engine.admin.deploy(finite_cycle("R2/PT1H"), "cy.bpmn")
    case_id = engine.cases.start("cy", {}).id
    for _ in range(4):
        clock.advance(hours=1, minutes=1)
        engine.deadlines.fire_due_timers()
    page = engine.reads.case_page(case_id, SYSTEM)
    assert [e.element_id for e in page.events if e.lifecycle == "timer_fired"] == ["every_hour", "every_hour"]
    assert [step.id for step in page.path if step.kind == "element"].count("ping") == 2
    judged = engine.compliance.case(case_id, admin)
    assert judged.fits and judged.deviations == ()
    trail = trail_of(engine, case_id)
    bundle = make_bundle("cy", {"cy": finite_cycle("R2/PT1H")})
    third = trail + [TrailStep("every_hour", "timer_fired"), TrailStep("ping"), TrailStep("pinged")]
    assert [d.kind for d in replay(bundle, third, ended=False)] == ["repeated"]
