"""A-1/A-2: the append-only audit trail records every step; the executed path, loops included, is read from it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from engine.services import SYSTEM
from engine.store.models import AuditEvent
from tests.conftest import fixture_bytes


def _walk_with_one_loop(engine, handler, market, clock):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    case_id = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"}).id
    engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {"note": "need more", "info_sufficient": False}, handler)
    engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {"note": "enough", "info_sufficient": True}, handler)
    engine.cases.complete(engine.reads.inbox(market).tasks[0].id, {"accepted": True}, market)
    engine.deadlines.fire_due_timers(clock() + timedelta(hours=3))
    return case_id


def test_a1_executed_path_of_a_case_with_a_loop(engine, handler, market, clock):
    case_id = _walk_with_one_loop(engine, handler, market, clock)
    path = [step.id for step in engine.reads.case_page(case_id, SYSTEM).path]
    assert path == [
        "start", "flow_1", "gw_merge", "flow_10", "investigate", "flow_2", "gw_info", "flow_3", "tell_delay",
        "flow_5", "gw_merge", "flow_10", "investigate", "flow_2", "gw_info", "flow_4", "notify_customer", "flow_6", "reply",
        "flow_7", "cooldown", "flow_9", "end_ok",
    ]


def test_a1_audit_events_carry_version_actor_lifecycle_and_data(engine, handler, market, clock):
    case_id = _walk_with_one_loop(engine, handler, market, clock)
    detail = engine.reads.case_page(case_id, SYSTEM)
    assert detail.case.status == "completed"
    events = detail.events
    assert {e.version_id for e in events} == {detail.case.version_id}
    lifecycles = [(e.element_id, e.lifecycle, e.actor) for e in events]
    assert ("investigate", "ready", "system") in lifecycles
    assert ("reply_overdue", "cancelled", "mia") in lifecycles
    assert ("cooldown", "timer_fired", "scheduler") in lifecycles
    first = next(e for e in events if e.element_id == "investigate" and e.lifecycle == "completed")
    assert first.data == {"note": "need more", "info_sufficient": False}
    script = next(e for e in events if e.element_id == "tell_delay")
    assert script.data == {"delays": 1}
    assert [e.id for e in events] == sorted(e.id for e in events)


@pytest.mark.parametrize("change", ["update", "delete"])
def test_a1_audit_trail_refuses_update_and_delete(db, engine, handler, market, clock, change):
    _walk_with_one_loop(engine, handler, market, clock)
    statement = update(AuditEvent).values(actor="forger") if change == "update" else delete(AuditEvent)
    with pytest.raises(DBAPIError, match="append-only"):
        with db.transaction() as session:
            session.execute(statement)


def test_cached_and_restored_runs_write_the_same_trail(db, clock, topics, handler, market):
    from engine.services import ProcessEngine

    trails = []
    for cache in (True, False):
        engine = ProcessEngine(db, clock, topics, cache_instances=cache)
        case_id = _walk_with_one_loop(engine, handler, market, clock)
        trails.append([(e.element_id, e.lifecycle, e.flow_id, e.data) for e in engine.reads.case_page(case_id, SYSTEM).events])
    assert trails[0] == trails[1]


def test_a2_path_through_a_parallel_join_shows_both_branches(engine, handler):
    from engine.services import Actor

    engine.admin.deploy(fixture_bytes("parallel.bpmn"), "parallel.bpmn")
    case_id = engine.cases.start("parallel_demo", {}).id
    pr = Actor("sun", frozenset({"pr"}))
    engine.cases.complete(engine.reads.inbox(pr).tasks[0].id, {}, pr)
    engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {}, handler)
    flows = [step.id for step in engine.reads.case_page(case_id, SYSTEM).path if step.kind == "flow"]
    assert sorted(flows) == ["p_f1", "p_f2", "p_f3", "p_f4", "p_f5", "p_f6"]
    assert engine.reads.case_page(case_id, SYSTEM).case.status == "completed"


def test_case_data_shows_what_was_entered_inside_a_called_process_while_it_runs(engine, handler):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    engine.admin.deploy(fixture_bytes("caller.bpmn"), "caller.bpmn")
    case_id = engine.cases.start("caller_demo", {"delays": 0, "responsible_group": "market"}).id
    engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {"note": "found it", "info_sufficient": True}, handler)
    detail = engine.reads.case_page(case_id, SYSTEM)
    assert detail.case.status == "running"
    assert (detail.case.data["note"], detail.case.data["notified"]) == ("found it", "reply:found it")
