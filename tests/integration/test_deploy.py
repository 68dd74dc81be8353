"""Deploying BPMN files: version pinning, idempotent redeploy, refusals naming file, line and element (SPEC A-1).

docs/bpmn-dialect.md: deploying refuses, naming file, line and element: malformed XML; an element the engine
cannot execute; an expression that does not compile in the sandbox; a call activity whose process is neither
in the file nor deployed; a service topic with no registered handler.
"""

from __future__ import annotations

import pytest

from engine.services import SYSTEM, Actor, DeploymentRefused
from tests.conftest import fixture_bytes

LOOP = fixture_bytes("loop.bpmn")
CALLER = fixture_bytes("caller.bpmn")
START_DATA = {"responsible_group": "handler", "delays": 0}


def line_of(content: bytes, needle: bytes) -> int:
    """Return the 1-based line of the first occurrence of ``needle``."""
    return content[:content.index(needle)].count(b"\n") + 1


def run_to_the_end(engine, clock, case_id, actor) -> None:
    """Work a loop_demo case (or a caller of it) through investigate, reply and the 2 h cooldown."""
    for fields in ({"info_sufficient": "true", "note": "fixed"}, {"accepted": "true"}):
        [task] = [t for t in engine.reads.case_page(case_id, SYSTEM).tasks if t.state == "ready"]
        engine.cases.complete(task.id, fields, actor)
    clock.advance(hours=3)
    engine.deadlines.fire_due_timers()


def task_names(engine, case_id) -> list[str]:
    return [t.name for t in engine.reads.case_page(case_id, SYSTEM).tasks]


# --- versions ----------------------------------------------------------------------------------

def test_a1_case_keeps_the_version_it_started_on_to_the_end(engine, clock, handler):
    [v1] = engine.admin.deploy(LOOP, "loop.bpmn")
    case_a = engine.cases.start("loop_demo", START_DATA).id
    renamed = LOOP.replace(b'name="Investigate"', b'name="Investigate (v2)"').replace(
        b'name="Reply to customer"', b'name="Reply to customer (v2)"')
    [v2] = engine.admin.deploy(renamed, "loop.bpmn")
    case_b = engine.cases.start("loop_demo", START_DATA).id
    assert (v1.version, v2.version, v2.created) == (1, 2, True)
    assert v2.version_id != v1.version_id

    run_to_the_end(engine, clock, case_a, handler)
    run_to_the_end(engine, clock, case_b, handler)

    a, b = engine.reads.case_page(case_a, SYSTEM), engine.reads.case_page(case_b, SYSTEM)
    assert (a.case.status, a.case.version_id, a.case.pinned) == ("completed", v1.version_id, {"loop_demo": v1.version_id})
    assert (b.case.status, b.case.version_id, b.case.pinned) == ("completed", v2.version_id, {"loop_demo": v2.version_id})
    assert task_names(engine, case_a) == ["Investigate", "Reply to customer"]
    assert task_names(engine, case_b) == ["Investigate (v2)", "Reply to customer (v2)"]
    assert {e.version_id for e in a.events} == {v1.version_id}
    assert {e.element_name for e in a.events if e.element_type == "userTask"} == {"Investigate", "Reply to customer"}


def test_identical_redeploy_is_a_no_op_with_the_same_version(engine):
    [first] = engine.admin.deploy(LOOP, "loop.bpmn")
    stored = engine.admin.versions()
    [again] = engine.admin.deploy(LOOP, "loop.bpmn")
    assert (first.created, again.created) == (True, False)
    assert (again.version_id, again.version, again.sha256) == (first.version_id, 1, first.sha256)
    assert engine.admin.versions() == stored
    assert [(v.key, v.version) for v in stored] == [("loop_demo", 1)]


def test_changed_file_becomes_the_next_version_and_new_cases_start_on_it(engine):
    [v1] = engine.admin.deploy(LOOP, "loop.bpmn")
    [v2] = engine.admin.deploy(LOOP.replace(b"PT48H", b"PT24H"), "loop.bpmn")
    assert [(v.version, v.id) for v in engine.admin.versions("loop_demo")] == [(2, v2.version_id), (1, v1.version_id)]
    assert engine.reads.case_page(engine.cases.start("loop_demo", START_DATA).id, SYSTEM).case.version_id == v2.version_id


# --- refusals ------------------------------------------------------------------------------------

COMPLEX_GATEWAY = b'<bpmn:complexGateway id="gw_complex" name="Complex" />'
PROCESS_OPEN = b'<bpmn:process id="loop_demo" name="Loop demo" isExecutable="true">'
WITH_COMPLEX = LOOP.replace(PROCESS_OPEN, PROCESS_OPEN + b"\n    " + COMPLEX_GATEWAY)
BAD_CONDITION = LOOP.replace(b"${not info_sufficient}", b"${not info_sufficient)}")
NO_HANDLER = LOOP.replace(b'camunda:topic="notify"', b'camunda:topic="book_nowhere"')
BAD_FORM = LOOP.replace(b'id="amount" label="Amount" type="long"', b'id="amount" label="Amount" type="money"')
CUT = LOOP[: len(LOOP) // 2]
HTML = b'<?xml version="1.0" encoding="UTF-8"?>\n<html><body><p>not a process</p></body></html>\n'

REFUSED = [
    pytest.param(CUT, "loop.bpmn", CUT.count(b"\n") + 1, None, "malformed XML", id="malformed_xml_cut_file"),
    pytest.param(b"complaint: the meter is wrong", "notes.txt", 1, None, "malformed XML", id="plain_text"),
    pytest.param(HTML, "page.bpmn", 2, None, "not a BPMN 2.0 file", id="not_bpmn_root"),
    pytest.param(WITH_COMPLEX, "loop.bpmn", line_of(WITH_COMPLEX, COMPLEX_GATEWAY), "gw_complex",
                 "bpmn:complexGateway cannot be executed", id="unsupported_complex_gateway"),
    pytest.param(BAD_CONDITION, "loop.bpmn", line_of(BAD_CONDITION, b"${not info_sufficient)}"), "flow_3",
                 "does not compile", id="condition_does_not_compile"),
    pytest.param(CALLER, "caller.bpmn", line_of(CALLER, b'<bpmn:callActivity id="call_loop"'), "call_loop",
                 "'loop_demo', which is neither in this file nor deployed", id="called_process_not_deployed"),
    pytest.param(NO_HANDLER, "loop.bpmn", line_of(NO_HANDLER, b'<bpmn:serviceTask id="notify_customer"'),
                 "notify_customer", "'book_nowhere' has no registered handler", id="topic_without_handler"),
    pytest.param(BAD_FORM, "loop.bpmn", line_of(BAD_FORM, b'<bpmn:userTask id="investigate"'), "investigate",
                 "unknown type 'money'", id="form_field_of_unknown_type"),
]


@pytest.mark.parametrize(("content", "file_name", "line", "element_id", "words"), REFUSED)
def test_invalid_file_is_refused_naming_file_line_and_element_and_nothing_is_stored(
        engine, content, file_name, line, element_id, words):
    engine.admin.deploy(fixture_bytes("script_task.bpmn"), "script_task.bpmn")
    stored = engine.admin.versions()
    with pytest.raises(DeploymentRefused) as refused:
        engine.admin.deploy(content, file_name)
    error = refused.value
    assert (error.file_name, error.line, error.element_id) == (file_name, line, element_id)
    where = f"{file_name}:{line}" + (f" [{element_id}]" if element_id else "")
    assert str(error).startswith(where)
    assert words in str(error)
    assert error.status == 400
    assert engine.admin.versions() == stored


def test_refused_new_version_leaves_the_last_good_one_in_use(engine):
    [v1] = engine.admin.deploy(LOOP, "loop.bpmn")
    with pytest.raises(DeploymentRefused):
        engine.admin.deploy(BAD_CONDITION, "loop.bpmn")
    assert [v.id for v in engine.admin.versions("loop_demo")] == [v1.version_id]
    assert engine.reads.case_page(engine.cases.start("loop_demo", START_DATA).id, SYSTEM).case.version_id == v1.version_id


# --- call activities ------------------------------------------------------------------------------

def test_caller_deploys_after_the_called_process_and_runs_its_user_tasks(engine, clock, handler):
    [loop] = engine.admin.deploy(LOOP, "loop.bpmn")
    [caller] = engine.admin.deploy(CALLER, "caller.bpmn")
    case_id = engine.cases.start("caller_demo", START_DATA).id
    detail = engine.reads.case_page(case_id, SYSTEM)
    assert detail.case.pinned == {"caller_demo": caller.version_id, "loop_demo": loop.version_id}
    [investigate] = engine.reads.inbox(handler).tasks
    assert (investigate.case_id, investigate.element_id, investigate.candidate_groups) == (
        case_id, "investigate", ("handler",))

    run_to_the_end(engine, clock, case_id, handler)

    detail = engine.reads.case_page(case_id, SYSTEM)
    assert detail.case.status == "completed"
    assert [(t.element_id, t.state, t.completed_by) for t in detail.tasks] == [
        ("investigate", "completed", "hans"), ("reply", "completed", "hans")]
    assert [e.element_id for e in detail.events if e.lifecycle == "completed"][-2:] == ["call_loop", "c_end"]


def test_running_caller_keeps_the_called_version_it_started_with(engine, clock, handler):
    [loop_v1] = engine.admin.deploy(LOOP, "loop.bpmn")
    engine.admin.deploy(CALLER, "caller.bpmn")
    first = engine.cases.start("caller_demo", START_DATA).id
    [loop_v2] = engine.admin.deploy(LOOP.replace(b'name="Investigate"', b'name="Investigate (v2)"'), "loop.bpmn")
    second = engine.cases.start("caller_demo", START_DATA).id
    assert engine.reads.case_page(first, SYSTEM).case.pinned["loop_demo"] == loop_v1.version_id
    assert engine.reads.case_page(second, SYSTEM).case.pinned["loop_demo"] == loop_v2.version_id
    run_to_the_end(engine, clock, first, handler)
    assert engine.reads.case_page(first, SYSTEM).case.status == "completed"
    assert task_names(engine, first) == ["Investigate", "Reply to customer"]
    assert task_names(engine, second) == ["Investigate (v2)"]


def test_i5_the_registering_clerk_is_recorded_but_is_not_the_first_ask_owner(engine, handler):
    from engine.services import FormInvalid

    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    clerk = Actor("zhang", frozenset({"intake"}))
    case_id = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"}, clerk).id
    data = engine.reads.case_page(case_id, SYSTEM).case.data
    assert data["registered_by"] == "zhang" and "first_ask_owner" not in data
    with pytest.raises(FormInvalid) as refused:      # a person field names someone of the organisation
        engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market", "first_ask_owner": "li"}, clerk)
    assert refused.value.errors["first_ask_owner"].code == "unknown_person"
    engine.accounts.add_user("li", "李处理", ["handler"])
    named = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market",
                                            "first_ask_owner": "li"}, clerk).id
    assert engine.reads.case_page(named, SYSTEM).case.data["first_ask_owner"] == "li"


def test_only_administrators_and_process_owners_deploy(engine):
    from engine.services import PermissionDenied

    with pytest.raises(PermissionDenied):
        engine.admin.deploy(LOOP, "loop.bpmn", Actor("hans", frozenset({"handler"})))
    assert engine.admin.versions() == []
    assert engine.admin.deploy(LOOP, "loop.bpmn", Actor("owner", frozenset({"process_owner"})))[0].created
