"""Each command is one transaction with optimistic concurrency; timer sweeps in parallel fire each timer once."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from engine.services import SYSTEM, Actor, ProcessEngine, TaskAlreadyCompleted
from engine.store.db import Database
from engine.store.models import AuditEvent, Timer
from tests.conftest import fixture_bytes


def _run_together(*calls):
    """Run the calls in threads released at the same moment; return (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        barrier.wait()
        try:
            results.append(call())
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def test_double_completion_gives_one_success_and_one_task_already_completed(db_url, engine, handler, clock, topics):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    case_id = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"}).id
    task_id = engine.reads.inbox(handler).tasks[0].id
    other = Actor("hu", frozenset({"handler"}))
    # Two engines on two real connection pools, as two web workers would be.
    second = ProcessEngine(Database(db_url), clock, topics)
    try:
        results, errors = _run_together(
            lambda: engine.cases.complete(task_id, {"note": "first", "info_sufficient": True}, handler),
            lambda: second.cases.complete(task_id, {"note": "second", "info_sufficient": True}, other),
        )
    finally:
        second.dispose()
    assert [r.id for r in results] == [case_id]
    assert len(errors) == 1 and isinstance(errors[0], TaskAlreadyCompleted), errors
    detail = engine.reads.case_page(case_id, SYSTEM)
    completions = [e for e in detail.events if e.element_id == "investigate" and e.lifecycle == "completed"]
    assert len(completions) == 1
    assert [t.name for t in detail.tasks if t.state == "ready"] == ["Reply to customer"]


def _start_waiting_cases(engine, market, count):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    handler = Actor("hans", frozenset({"handler"}))
    for _ in range(count):
        case_id = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"}).id
        task = [t for t in engine.reads.inbox(handler).tasks if t.case_id == case_id][0]
        engine.cases.complete(task.id, {"note": "ok", "info_sufficient": True}, handler)
        reply = [t for t in engine.reads.inbox(market).tasks if t.case_id == case_id][0]
        engine.cases.complete(reply.id, {"accepted": True}, market)   # now waits on the 2 h cooldown timer


def test_two_parallel_sweeps_fire_each_timer_exactly_once(db_url, engine, market, clock, topics):
    _start_waiting_cases(engine, market, 20)
    with engine.store_session() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == 20
    later = clock() + timedelta(hours=3)
    sweeper = ProcessEngine(Database(db_url), clock, topics)
    try:
        results, errors = _run_together(lambda: engine.deadlines.fire_due_timers(later),
                                        lambda: sweeper.deadlines.fire_due_timers(later))
    finally:
        sweeper.dispose()
    assert errors == []
    assert sum(r["fired"] for r in results) == 20
    assert sum(r["failed"] for r in results) == 0
    with engine.store_session() as s:
        fired = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.lifecycle == "timer_fired"))
        ends = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.element_id == "end_ok"))
        waiting = s.scalar(select(func.count()).select_from(Timer))
    assert (fired, ends, waiting) == (20, 20, 0)


def test_sweep_fires_nothing_before_the_due_instant(engine, market, clock):
    _start_waiting_cases(engine, market, 1)
    assert engine.deadlines.fire_due_timers(clock() + timedelta(hours=1, minutes=59))["fired"] == 0
    assert engine.deadlines.fire_due_timers(clock() + timedelta(hours=2, seconds=1))["fired"] == 1
    assert engine.deadlines.fire_due_timers(clock() + timedelta(hours=5))["fired"] == 0
