"""Issue 16 item 3: a case in incident is repaired by an administrator, audited (SPEC A-2), then retried.

``engine.cases.repair``: set case data (validated against the start form of the case's version), move the
case to another version of its process, retry its failed steps. ``complaints retry`` and ``complaints
repair`` exit 6 when the case is in incident again.
"""

from __future__ import annotations

import json

import pytest

from engine.cli import STILL_IN_INCIDENT, main
from engine.services import SYSTEM, FormInvalid, InvalidRequest, PermissionDenied
from tests.integration.test_budgets import process, review, script
from tests.integration.test_deploy_checks import START

WHEN_FORM = ('<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>'
             '<camunda:formField id="when" type="string" /><camunda:formField id="agents" type="long" />'
             '</camunda:formData></bpmn:extensionElements></bpmn:startEvent>')


def timer_case_xml() -> bytes:
    """start (form: when, agents) -> review -> wait (timeDuration ${when}) -> after -> end."""
    body = (review() + '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration>'
            '${when}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>' + review("after"))
    xml = process("rp", body, [("start", "review"), ("review", "wait"), ("wait", "after"), ("after", "end")])
    return xml.replace(b'<bpmn:startEvent id="start" />', WHEN_FORM.encode())


def script_case_xml(code: str) -> bytes:
    """start (intake form) -> review -> run (script ``code``) -> after -> end."""
    xml = process("sc", review() + script("run", code) + review("after"),
                  [("start", "review"), ("review", "run"), ("run", "after"), ("after", "end")])
    return xml.replace(b'<bpmn:startEvent id="start" />', START.encode())


@pytest.fixture
def broken_timer(engine, handler):
    engine.admin.deploy(timer_case_xml(), "rp.bpmn")
    case_id = engine.cases.start("rp", {"when": "PXYZ"}, handler).id
    assert engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {}, handler).status == "incident"
    return case_id


def test_an_administrator_fixes_the_data_of_a_broken_timer_and_the_case_waits_again(engine, broken_timer, admin):
    ref = engine.cases.repair(broken_timer, admin, reason="customer agreed a one-hour call-back",
                              data={"when": "PT1H"})
    page = engine.reads.case_page(broken_timer, SYSTEM)
    assert ref.status == page.case.status == "running" and page.case.incident is None
    assert [t.element_id for t in page.timers] == ["wait"]
    [repair] = [e for e in page.events if e.lifecycle == "admin_action"]
    assert (repair.actor, repair.data["action"], repair.data["reason"], repair.data["data"]) == (
        "ada", "repair", "customer agreed a one-hour call-back", {"when": "PT1H"})
    assert "PXYZ" in repair.data["incident"]


def test_repair_data_is_checked_against_the_start_form(engine, broken_timer, admin):
    with pytest.raises(FormInvalid) as unknown:
        engine.cases.repair(broken_timer, admin, reason="x", data={"priority": "high"})
    with pytest.raises(FormInvalid) as typed:
        engine.cases.repair(broken_timer, admin, reason="x", data={"agents": "many"})
    with pytest.raises(FormInvalid) as shadow:
        engine.cases.repair(broken_timer, admin, reason="x", data={"due_in_working_days": 1})
    assert [set(e.value.errors) for e in (unknown, typed, shadow)] == [{"priority"}, {"agents"},
                                                                        {"due_in_working_days"}]
    assert engine.reads.case_page(broken_timer, SYSTEM).case.status == "incident"     # nothing changed


def test_only_administrators_repair_and_always_with_a_reason(engine, broken_timer, admin, handler):
    with pytest.raises(PermissionDenied):
        engine.cases.repair(broken_timer, handler, reason="x", data={"when": "PT1H"})
    with pytest.raises(InvalidRequest) as no_reason:
        engine.cases.repair(broken_timer, admin, reason=" ", data={"when": "PT1H"})
    assert no_reason.value.code == "reason_required"


def test_a_case_moves_to_a_fixed_version_and_runs_on(engine, handler, admin):
    engine.admin.deploy(script_case_xml("ratio = 1 / 0"), "sc.bpmn")
    case_id = engine.cases.start("sc", {"facts": "x"}, handler).id
    assert engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {}, handler).status == "incident"
    [v2] = engine.admin.deploy(script_case_xml("ratio = 1 / 2"), "sc.bpmn")
    ref = engine.cases.repair(case_id, admin, reason="script fixed in version 2", version=v2.version)
    page = engine.reads.case_page(case_id, SYSTEM)
    assert ref.status == "running" and page.case.version_id == v2.version_id
    assert page.case.data["ratio"] == 0.5
    assert [t.element_id for t in page.open_tasks] == ["after"]
    [repair] = [e for e in page.events if e.lifecycle == "admin_action"]
    assert repair.data["version"]["to"] == v2.version_id


def test_a_move_to_a_version_without_the_element_the_case_stands_at_is_refused(engine, handler, admin):
    engine.admin.deploy(script_case_xml("ratio = 1 / 0"), "sc.bpmn")
    case_id = engine.cases.start("sc", {"facts": "x"}, handler).id
    engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {}, handler)
    other = process("sc", review(), [("start", "review"), ("review", "end")])
    [v2] = engine.admin.deploy(other.replace(b'<bpmn:startEvent id="start" />', START.encode()), "sc.bpmn")
    with pytest.raises(InvalidRequest) as refused:
        engine.cases.repair(case_id, admin, reason="try", version=v2.version)
    assert refused.value.code == "migration_refused" and "run" in str(refused.value)


def test_complaints_retry_fails_loudly_when_the_step_fails_again(engine, db_url, broken_timer, tmp_path, capsys):
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"username": "ada", "name": "Ada", "groups": ["admin"]}]))
    assert main(["--database", db_url, "users", "load", str(users)]) == 0
    assert main(["--database", db_url, "retry", str(broken_timer), "--user", "ada"]) == STILL_IN_INCIDENT
    assert "still in incident after the retry" in capsys.readouterr().err
    assert main(["--database", db_url, "repair", str(broken_timer), "--user", "ada", "--reason", "fix",
                 "--data", '{"when": "PT2H"}']) == 0
    assert engine.reads.case_page(broken_timer, SYSTEM).case.status == "running"
