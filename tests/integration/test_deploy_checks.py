"""Issue 16 items 2 and 3: deploy refuses what would break every new case, naming file, line and element.

One XML parser configuration for deploy and start (no DTD, no entities, no
network); timers, due dates, forms and scripts are checked for what running
them needs. SPEC A-1 (a refused deployment changes nothing), I-6 (the intake
form decides what a case needs).
"""

from __future__ import annotations

import pytest

from engine.services import DeploymentRefused, FormInvalid
from tests.conftest import fixture_bytes, messages
from tests.integration.test_budgets import process, review, script, timer

HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'


def with_doctype(doctype: str, text_in_documentation: str) -> bytes:
    body = process("ent", review(), [("start", "review"), ("review", "end")]).decode()
    body = body.replace(HEADER, HEADER + doctype + "\n")
    return body.replace('<bpmn:startEvent id="start" />',
                        f'<bpmn:startEvent id="start"><bpmn:documentation>{text_in_documentation}'
                        '</bpmn:documentation></bpmn:startEvent>').encode()


def refused(engine, xml: bytes) -> DeploymentRefused:
    with pytest.raises(DeploymentRefused) as caught:
        engine.admin.deploy(xml, "bad.bpmn")
    assert engine.reads.health()["versions"] == 0          # nothing was stored
    return caught.value


@pytest.mark.parametrize("doctype, text", [
    ('<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>', "&x;"),
    ('<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>', "plain"),
    ('<!DOCTYPE d [<!ENTITY e "__import__(\'os\')">]>', "&e;"),
    ('<!DOCTYPE d SYSTEM "http://127.0.0.1:9/bpmn.dtd">', "plain"),
], ids=["external", "parameter", "internal", "external-dtd"])
def test_a_file_with_a_dtd_or_entities_is_refused_at_deploy(engine, doctype, text):
    error = refused(engine, with_doctype(doctype, text))
    assert "DOCTYPE" in error.args[0] or "entity" in error.args[0]
    assert error.file_name == "bad.bpmn" and error.line is not None


def test_an_entity_in_called_element_is_refused(engine):
    xml = with_doctype('<!DOCTYPE d [<!ENTITY k "loop_demo">]>', "plain").replace(
        b'<bpmn:userTask id="review" camunda:candidateGroups="handler" />',
        b'<bpmn:callActivity id="review" calledElement="&k;" />')
    assert "DOCTYPE" in refused(engine, xml).args[0]


def test_a_loop_without_a_wait_state_is_refused_with_its_elements(engine):
    loop = process("spin", '<bpmn:exclusiveGateway id="gw" />' + script("count", "n = n + 1"),
                   [("start", "gw"), ("gw", "count"), ("count", "gw")])
    error = refused(engine, loop)
    assert "loop without a wait state: count -> gw" in error.args[0]
    assert error.element_id in {"gw", "count"}


def test_a_loop_through_a_user_task_deploys(engine):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")


def test_an_enum_field_without_values_is_refused(engine):
    xml = process("f", '<bpmn:userTask id="ask" camunda:candidateGroups="handler"><bpmn:extensionElements>'
                       '<camunda:formData><camunda:formField id="kind" type="enum" /></camunda:formData>'
                       '</bpmn:extensionElements></bpmn:userTask>', [("start", "ask"), ("ask", "end")])
    error = refused(engine, xml)
    assert "enum field 'kind' needs values" in error.args[0] and error.element_id == "ask"


@pytest.mark.parametrize("field, reason", [
    ('<camunda:formField id="n" type="long" defaultValue="many" />', "the default 'many' of field 'n' must be a whole"),
    ('<camunda:formField id="c" type="enum" defaultValue="fax"><camunda:value id="web" /></camunda:formField>',
     "the default 'fax' of field 'c' must be one of web"),
    ('<camunda:formField id="n" type="long" defaultValue="5"><camunda:validation>'
     '<camunda:constraint name="max" config="3" /></camunda:validation></camunda:formField>',
     "the default '5' of field 'n' must be at most 3"),
    ('<camunda:formField id="x" />', "form field 'x' has no type"),
    ('<camunda:formField id="x" type="textarea" />', "unknown type 'textarea'"),
    ('<camunda:formField id="due_in_working_days" type="long" />', "is a name the expressions use"),
    ('<camunda:formField id="len" type="long" />', "is a name the expressions use"),
    ('<camunda:formField id="p" type="string"><camunda:validation>'
     '<camunda:constraint name="pattern" config="(a)\\1" /></camunda:validation></camunda:formField>',
     "not an RE2 regular expression"),
], ids=["long-default", "enum-default", "max-default", "no-type", "unknown-type", "reserved-function",
        "reserved-builtin", "backreference"])
def test_incoherent_forms_are_refused(engine, field, reason):
    xml = process("f", '<bpmn:userTask id="ask" camunda:candidateGroups="handler"><bpmn:extensionElements>'
                       f'<camunda:formData>{field}</camunda:formData></bpmn:extensionElements></bpmn:userTask>',
                  [("start", "ask"), ("ask", "end")])
    assert reason in refused(engine, xml).args[0]


def test_a_script_with_a_bare_except_is_refused(engine):
    error = refused(engine, process("k", script("run", "try:\n    x = 1\nexcept:\n    pass"),
                                    [("start", "run"), ("run", "end")]))
    assert "a bare except is not allowed" in error.args[0] and error.element_id == "run"


def test_a_script_defining_a_class_is_refused(engine):
    error = refused(engine, process("k", script("run", "class Box:\n    pass"), [("start", "run"), ("run", "end")]))
    assert "class definitions are not allowed" in error.args[0] and error.element_id == "run"


@pytest.mark.parametrize("kind, value, reason", [
    ("timeDuration", "PXYZ", "reads PXYZ, which no form field, script or start datum provides"),
    ("timeCycle", "R-1/PT1H", "reads PT1H, R, which no form field"),
    ("timeCycle", "'R-1/PT1H'", "n a count >= 0"),
    ("timeDate", "'not a date'", "is not an ISO 8601 date-time"),
    ("timeDate", "${due_in_calendar_years(3)}", "reads due_in_calendar_years, which no form field"),
    ("timeDuration", "${'PT%dH' % (agents - 1)}", "'PT-1H' is not an ISO 8601 duration"),
    ("timeDate", "2025-01-01T09:00", "has no UTC offset"),
    ("timeCycle", "R/PT0S", "is zero"),
    ("timeDuration", "${1/0}", "ZeroDivisionError"),
])
def test_broken_timer_expressions_are_refused_at_deploy(engine, kind, value, reason):
    body = (f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{kind}>{value}</bpmn:{kind}>'
            '</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    error = refused(engine, with_start_form(process("t", body, [("start", "wait"), ("wait", "end")])))
    assert reason in error.args[0] and error.element_id == "wait"


def test_a_broken_due_date_is_refused_at_deploy(engine):
    xml = process("d", '<bpmn:userTask id="ask" camunda:candidateGroups="handler" camunda:dueDate="${1/0}" />',
                  [("start", "ask"), ("ask", "end")])
    error = refused(engine, xml)
    assert "dueDate" in error.args[0] and "ZeroDivisionError" in error.args[0] and error.element_id == "ask"


def test_good_timers_deploy(engine):
    body = timer("a", "PT24H") + timer("b", "${due_in_working_days(3)}").replace("timeDuration", "timeDate") \
        + timer("c", "R3/PT1H").replace("timeDuration", "timeCycle").replace("intermediateCatchEvent", "boundaryEvent")
    body = body.replace('<bpmn:boundaryEvent id="c">', '<bpmn:boundaryEvent id="c" attachedToRef="ask" '
                                                      'cancelActivity="false">')
    body += '<bpmn:userTask id="ask" camunda:candidateGroups="handler" />'
    engine.admin.deploy(process("g", body, [("start", "a"), ("a", "b"), ("b", "ask"), ("ask", "end"),
                                            ("c", "end")]), "g.bpmn")


# --- intake: case data may not shadow what expressions use ---

START = ('<bpmn:startEvent id="start"><bpmn:extensionElements><camunda:formData>'
         '<camunda:formField id="facts" type="string"><camunda:validation><camunda:constraint name="required" />'
         '</camunda:validation></camunda:formField>'
         '<camunda:formField id="agents" type="long" defaultValue="0" />'
         '</camunda:formData></bpmn:extensionElements></bpmn:startEvent>')


def with_start_form(xml: bytes) -> bytes:
    return xml.replace(b'<bpmn:startEvent id="start" />', START.encode())


@pytest.fixture
def intake(engine):
    xml = process("in", review() + script("count", "agent_note = 'agents: %d' % agents"),
                  [("start", "count"), ("count", "review"), ("review", "end")])
    engine.admin.deploy(with_start_form(xml), "in.bpmn")
    return "in"


def test_a_start_key_that_shadows_a_deadline_function_is_refused(engine, intake, handler):
    with pytest.raises(FormInvalid) as caught:
        engine.cases.start(intake, {"facts": "x", "due_in_working_days": 0}, handler)
    assert messages(caught.value.errors) == {
        "due_in_working_days": "is a name the process's expressions use (a deadline function) and cannot be case data"}
    assert engine.reads.case_list(handler) == []


def test_unknown_start_keys_are_refused_for_people(engine, intake, handler):
    with pytest.raises(FormInvalid) as caught:
        engine.cases.start(intake, {"facts": "x", "priority": "high"}, handler)
    assert messages(caught.value.errors) == {"priority": "is not a field of this form"}


def test_an_optional_field_left_out_takes_its_default(engine, intake, handler):
    ref = engine.cases.start(intake, {"facts": "x"}, handler)
    page = engine.reads.case_page(ref.id, handler)
    assert ref.status == "running" and page.case.data["agent_note"] == "agents: 0"
