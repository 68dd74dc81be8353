"""Completing user tasks through the engine: form validation, candidates and conflicts (SPEC I-6, N-2, A-1).

tests/fixtures/loop.bpmn: ``investigate`` (candidate group handler) has the form
info_sufficient: boolean, note: string required minlength 2, amount: long 0..100000, channel: enum hotline|web.
"""

from __future__ import annotations

import pytest

from engine.services import (
    SYSTEM,
    Actor,
    FormInvalid,
    NotFound,
    PermissionDenied,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
)
from tests.conftest import fixture_bytes, messages, stored_state

VALID = {"info_sufficient": "true", "note": "meter misread", "amount": "42", "channel": "web"}


@pytest.fixture
def case_id(engine):
    """Return the id of a loop_demo case waiting at ``investigate``."""
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    return engine.cases.start("loop_demo", {"responsible_group": "handler", "delays": 0}).id


@pytest.fixture
def investigate(engine, case_id):
    """Return the id of the READY ``investigate`` task."""
    [task] = engine.reads.case_page(case_id, SYSTEM).tasks
    assert (task.element_id, task.state) == ("investigate", "ready")
    return task.id


@pytest.fixture
def colleague():
    """Another member of the handler group."""
    return Actor("hugo", frozenset({"handler"}))


def snapshot(engine, case_id, actor):
    """Return everything a refused command must leave as it was: tasks, revision, audit trail, inbox."""
    detail = engine.reads.case_page(case_id, SYSTEM)
    return (
        [(t.id, t.state, t.assignee, t.completed_by) for t in detail.tasks],
        detail.case.revision, detail.case.status, stored_state(engine, detail.case.id),
        [e.id for e in detail.events],
        [t.id for t in engine.reads.inbox(actor).tasks],
    )


INVALID = [
    pytest.param({"info_sufficient": "true", "amount": "10"}, {"note": "is required"}, id="missing_note"),
    pytest.param({"note": "x"}, {"note": "must be at least 2 characters"}, id="note_too_short"),
    pytest.param({"note": "ok", "amount": "abc"}, {"amount": "must be a whole number"}, id="amount_not_a_number"),
    pytest.param({"note": "ok", "amount": -1}, {"amount": "must be at least 0"}, id="amount_negative"),
    pytest.param({"note": "ok", "amount": "100001"}, {"amount": "must be at most 100000"}, id="amount_too_big"),
    pytest.param({"note": "ok", "channel": "fax"}, {"channel": "must be one of hotline, web"}, id="channel_fax"),
    pytest.param({"note": "ok", "approved_by": "mia"}, {"approved_by": "is not a field of this form"},
                 id="unknown_field"),
    pytest.param({"info_sufficient": "perhaps", "amount": "abc", "channel": "fax", "x": "1"},
                 {"info_sufficient": "must be true or false", "note": "is required",
                  "amount": "must be a whole number", "channel": "must be one of hotline, web",
                  "x": "is not a field of this form"}, id="every_field_wrong"),
]


@pytest.mark.parametrize(("submitted", "errors"), INVALID)
def test_i6_invalid_form_is_refused_naming_each_field_and_changes_nothing(
        engine, case_id, investigate, handler, submitted, errors):
    before = snapshot(engine, case_id, handler)
    with pytest.raises(FormInvalid) as refused:
        engine.cases.complete(investigate, submitted, handler)
    assert messages(refused.value.errors) == errors
    assert all(name in str(refused.value) for name in errors)
    assert refused.value.status == 400
    assert snapshot(engine, case_id, handler) == before
    assert engine.reads.task_page(investigate, SYSTEM).task.state == "ready"

    engine.cases.complete(investigate, VALID, handler)
    assert engine.reads.task_page(investigate, SYSTEM).task.state == "completed"


def test_valid_form_completes_the_task_with_coerced_values(engine, case_id, investigate, handler, notifications):
    engine.cases.complete(investigate, VALID, handler)
    detail = engine.reads.case_page(case_id, SYSTEM)
    done = engine.reads.task_page(investigate, SYSTEM).task
    assert (done.state, done.completed_by) == ("completed", "hans")
    completed = [e for e in detail.events if e.element_id == "investigate" and e.lifecycle == "completed"]
    assert [(e.actor, e.data) for e in completed] == [
        ("hans", {"info_sufficient": True, "note": "meter misread", "amount": 42, "channel": "web"})]
    assert notifications == [{"case": case_id, "to": "customer", "template": "reply:meter misread"}]
    assert [(t.element_id, t.state) for t in detail.tasks] == [("investigate", "completed"), ("reply", "ready")]
    assert investigate not in [t.id for t in engine.reads.inbox(handler).tasks]


def test_one_completion_advances_the_case_revision_by_exactly_one(engine, case_id, investigate, handler):
    revision = engine.reads.case_page(case_id, SYSTEM).case.revision
    engine.cases.complete(investigate, VALID, handler)
    assert engine.reads.case_page(case_id, SYSTEM).case.revision == revision + 1


def test_unchecked_boolean_is_false_and_loops_back_to_investigate(engine, case_id, investigate, handler):
    engine.cases.complete(investigate, {"note": "need the invoice"}, handler)
    detail = engine.reads.case_page(case_id, SYSTEM)
    assert [(t.element_id, t.state) for t in detail.tasks] == [("investigate", "completed"), ("investigate", "ready")]
    delay = [e for e in detail.events if e.element_id == "tell_delay"]
    assert [(e.lifecycle, e.data) for e in delay] == [("completed", {"delays": 1})]


# --- 403: only candidates work on a task -------------------------------------------------------

def test_403_actor_outside_candidate_groups_may_not_claim(engine, case_id, investigate, market, handler):
    before = snapshot(engine, case_id, handler)
    with pytest.raises(PermissionDenied) as refused:
        engine.cases.claim(investigate, market)
    assert refused.value.status == 403
    assert snapshot(engine, case_id, handler) == before
    assert engine.reads.inbox(market).tasks == ()


def test_403_actor_outside_candidate_groups_may_not_complete(engine, case_id, investigate, market, handler):
    before = snapshot(engine, case_id, handler)
    with pytest.raises(PermissionDenied) as refused:
        engine.cases.complete(investigate, VALID, market)
    assert refused.value.status == 403
    assert snapshot(engine, case_id, handler) == before


# --- 409: claimed by someone else, already completed -------------------------------------------

def test_409_task_claimed_by_a_colleague_cannot_be_claimed_or_completed(
        engine, case_id, investigate, handler, colleague):
    engine.cases.claim(investigate, handler)
    assert engine.reads.task_page(investigate, SYSTEM).task.assignee == "hans"
    before = snapshot(engine, case_id, handler)
    with pytest.raises(TaskClaimedByOther) as claimed:
        engine.cases.claim(investigate, colleague)
    assert claimed.value.status == 409
    with pytest.raises(TaskClaimedByOther):
        engine.cases.complete(investigate, VALID, colleague)
    assert snapshot(engine, case_id, handler) == before
    assert engine.reads.inbox(colleague).tasks == ()

    engine.cases.complete(investigate, VALID, handler)
    assert engine.reads.task_page(investigate, SYSTEM).task.completed_by == "hans"


def test_409_second_completion_is_task_already_completed(engine, case_id, investigate, handler, colleague):
    engine.cases.complete(investigate, VALID, handler)
    before = snapshot(engine, case_id, handler)
    with pytest.raises(TaskAlreadyCompleted) as again:
        engine.cases.complete(investigate, VALID, handler)
    assert (again.value.status, again.value.by, again.value.state) == (409, "hans", "completed")
    with pytest.raises(TaskAlreadyCompleted):
        engine.cases.complete(investigate, VALID, colleague)
    with pytest.raises(TaskAlreadyCompleted):
        engine.cases.claim(investigate, colleague)
    assert snapshot(engine, case_id, handler) == before


# --- 404 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [
    lambda engine, actor: engine.cases.claim("00000000-0000-0000-0000-000000000000", actor),
    lambda engine, actor: engine.cases.complete("00000000-0000-0000-0000-000000000000", VALID, actor),
    lambda engine, actor: engine.reads.task_page("00000000-0000-0000-0000-000000000000", SYSTEM).task,
], ids=["claim", "complete", "read"])
def test_404_unknown_task_id_is_not_found(engine, case_id, handler, command):
    before = snapshot(engine, case_id, handler)
    with pytest.raises(NotFound) as missing:
        command(engine, handler)
    assert missing.value.status == 404
    assert snapshot(engine, case_id, handler) == before


def test_the_policy_file_decides_who_retries_and_a_change_applies_without_a_restart(db, clock, topics, tmp_path):
    """Roles are data: move repair_cases from admin to a new group in the file; the running engine follows."""
    from pathlib import Path

    from engine.services import ProcessEngine
    from engine.settings import Settings

    shipped = (Path(__file__).parents[2] / "data" / "policy.toml").read_text(encoding="utf-8")
    (tmp_path / "policy.toml").write_text(shipped, encoding="utf-8")
    engine = ProcessEngine(db, clock, topics, settings=Settings(data_dir=tmp_path))
    operator = Actor("otto", frozenset({"operations"}))
    assert not engine.allows(operator, "repair_cases")
    (tmp_path / "policy.toml").write_text(shipped.replace('repair_cases = ["admin"]', 'repair_cases = ["operations"]'),
                                          encoding="utf-8")
    assert engine.allows(operator, "repair_cases")
    assert not engine.allows(Actor("ada", frozenset({"admin"})), "repair_cases")
