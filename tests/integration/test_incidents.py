"""A failing service task: the case goes into incident, keeps what happened before, and an admin retries it.

tests/fixtures/flaky_service.bpmn: approve (user task, handler) -> book (service task, topic flaky_booking)
-> confirm (user task, handler). SPEC A-1 (every step is kept, nothing half-written), A-2 (administrator
overrides are visible), S-7 (a deduction booking writes ledger rows in the command's transaction).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.services import SYSTEM, Actor, Conflict, NotFound, PermissionDenied
from engine.store.models import Account
from tests.conftest import fixture_bytes

ERROR = "deduction ledger is offline"


@pytest.fixture
def booking_calls(topics):
    """Register ``flaky_booking``: the first call writes a row, then raises; later calls write a row and succeed.

    Yields the list of (username written, params) of every call.
    """
    calls = []

    def flaky_booking(ctx, **params):
        attempt = len(calls) + 1
        username = f"ledger_{attempt}"
        calls.append((username, params))
        ctx.session.add(Account(username=username, display_name=f"written by attempt {attempt}", locale="zh_CN"))
        ctx.session.flush()
        if attempt == 1:
            raise RuntimeError(ERROR)
        return {"booked": attempt}

    topics.add("flaky_booking", flaky_booking)
    return calls


@pytest.fixture
def case_id(engine, booking_calls):
    """Return the id of a flaky_demo case waiting at ``approve``."""
    engine.admin.deploy(fixture_bytes("flaky_service.bpmn"), "flaky_service.bpmn")
    return engine.cases.start("flaky_demo", {"complaint": "C-1"}).id


@pytest.fixture
def incident(engine, case_id, handler):
    """Complete ``approve`` so that ``book`` fails; return the case id, now in incident."""
    [approve] = engine.reads.case_page(case_id, SYSTEM).tasks
    engine.cases.complete(approve.id, {"outcome": "upheld"}, handler)
    return case_id


def accounts(db) -> list[str]:
    """Return the usernames stored in the account table."""
    with db.transaction(write=False) as session:
        return list(session.scalars(select(Account.username).order_by(Account.username)))


def test_failing_handler_puts_the_case_in_incident_with_the_error(engine, incident, booking_calls):
    detail = engine.reads.case_page(incident, SYSTEM)
    assert detail.case.status == "incident"
    assert ERROR in detail.case.incident
    failed = [e for e in detail.events if e.lifecycle == "incident"]
    assert [(e.element_id, e.element_type, e.actor) for e in failed] == [("book", "serviceTask", "hans")]
    assert failed[0].data == {"error": detail.case.incident}
    assert booking_calls == [("ledger_1", {"rule_id": "S-1", "outcome": "upheld"})]


def test_a1_user_task_completion_that_led_to_the_incident_is_kept(engine, incident, handler):
    detail = engine.reads.case_page(incident, SYSTEM)
    assert [(t.element_id, t.state, t.completed_by) for t in detail.tasks] == [("approve", "completed", "hans")]
    assert [(e.element_id, e.lifecycle, e.actor, e.data) for e in detail.events
            if e.element_id == "approve" and e.lifecycle == "completed"] == [
        ("approve", "completed", "hans", {"outcome": "upheld"})]
    assert engine.reads.inbox(handler).tasks == ()


def test_failing_handler_leaves_none_of_its_own_writes(db, incident):
    assert "ledger_1" not in accounts(db)


def test_a2_admin_retry_runs_the_step_again_and_is_audited(engine, db, incident, admin, handler, booking_calls):
    assert engine.cases.retry(incident, admin).status == "running"
    detail = engine.reads.case_page(incident, SYSTEM)
    assert (detail.case.status, detail.case.incident) == ("running", None)
    assert len(booking_calls) == 2
    assert accounts(db) == ["ledger_2"]
    retries = [e for e in detail.events if e.lifecycle == "admin_action"]
    assert [(e.actor, e.data["action"]) for e in retries] == [("ada", "retry")]
    assert ERROR in retries[0].data["incident"]
    assert [(e.element_id, e.lifecycle) for e in detail.events if e.element_id == "book"] == [
        ("book", "incident"), ("book", "completed")]
    [confirm] = engine.reads.inbox(handler).tasks
    assert (confirm.case_id, confirm.element_id) == (incident, "confirm")

    engine.cases.complete(confirm.id, {}, handler)
    assert engine.reads.case_page(incident, SYSTEM).case.status == "completed"


def test_topic_result_is_merged_into_the_case_data(engine, incident, admin):
    engine.cases.retry(incident, admin).status
    assert engine.reads.case_page(incident, SYSTEM).case.data == {"complaint": "C-1", "outcome": "upheld", "booked": 2,
                                               "registered_by": "system"}


def test_a2_retry_by_a_non_admin_is_permission_denied_and_changes_nothing(engine, incident, handler, booking_calls):
    before = engine.reads.case_page(incident, SYSTEM)
    with pytest.raises(PermissionDenied) as refused:
        engine.cases.retry(incident, handler).status
    assert refused.value.status == 403
    after = engine.reads.case_page(incident, SYSTEM)
    assert (after.case.status, after.case.revision) == ("incident", before.case.revision)
    assert [e.id for e in after.events] == [e.id for e in before.events]
    assert len(booking_calls) == 1


def test_retry_of_a_case_not_in_incident_is_a_conflict(engine, case_id, admin, booking_calls):
    before = engine.reads.case_page(case_id, SYSTEM)
    with pytest.raises(Conflict, match="not in incident"):
        engine.cases.retry(case_id, admin).status
    after = engine.reads.case_page(case_id, SYSTEM)
    assert (after.case.status, after.case.revision) == ("running", before.case.revision)
    assert [e.id for e in after.events] == [e.id for e in before.events]
    assert booking_calls == []


def test_retry_of_an_unknown_case_is_not_found(engine, admin):
    with pytest.raises(NotFound):
        engine.cases.retry(4711, admin).status


def test_second_retry_after_success_is_a_conflict(engine, incident, admin):
    engine.cases.retry(incident, admin).status
    with pytest.raises(Conflict):
        engine.cases.retry(incident, Actor("root", frozenset({"admin"}))).status
