"""Issue 16 item 8: what a process owner writes in the Camunda modeller deploys and runs, or is refused.

Camunda's expression language literals ``true``, ``false`` and ``null`` are read as Python's True, False
and None (before: they deployed and every case went into incident at the gateway); ``eq``, ``&&``, ``!``
stay refused with line and element. Field types are the panel's (plus ``text`` and ``double``), never
silently defaulted (tests/integration/test_deploy_checks.py).
"""

from __future__ import annotations

import pytest

from engine.services import SYSTEM, DeploymentRefused, ProcessEngine
from tests.integration.test_budgets import process, review


def gateway(condition: str) -> bytes:
    """start -> gw -> (condition) yes | (default) no -> end."""
    body = ('<bpmn:exclusiveGateway id="gw" default="to_no" />' + review("yes") + review("no"))
    xml = process("gw", body, [("start", "gw"), ("yes", "end"), ("no", "end")])
    return xml.replace(b"</bpmn:process>", (
        f'<bpmn:sequenceFlow id="to_yes" sourceRef="gw" targetRef="yes"><bpmn:conditionExpression>{condition}'
        '</bpmn:conditionExpression></bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="to_no" sourceRef="gw" targetRef="no" /></bpmn:process>').encode())


@pytest.mark.parametrize("condition, data, path", [
    ("${media_exposed == true}", {"media_exposed": True}, "yes"),
    ("${media_exposed == true}", {"media_exposed": False}, "no"),
    ("${x != null}", {"x": "set"}, "yes"),
    ("${x != null}", {"x": None}, "no"),
    ("${not (done == false)}", {"done": True}, "yes"),
    ("${note == 'true'}", {"note": "true"}, "yes"),       # inside a string, true stays text
])
def test_juel_literals_route_the_case(engine, condition, data, path):
    engine.admin.deploy(gateway(condition), "gw.bpmn")
    ref = engine.cases.start("gw", data)
    assert ref.status == "running"
    assert [t.element_id for t in engine.reads.case_page(ref.id, SYSTEM).open_tasks] == [path]


@pytest.mark.parametrize("condition", ["${a eq b}", "${a &amp;&amp; b}", "${!a}", "${empty a}"])
def test_other_juel_operators_are_refused_with_line_and_element(engine, condition):
    with pytest.raises(DeploymentRefused) as refused:
        engine.admin.deploy(gateway(condition), "gw.bpmn")
    assert "does not compile" in str(refused.value) and refused.value.line is not None


# --- every name an expression reads is provided by a form field, a start datum, a script or a topic ---

def with_intake(xml: bytes) -> bytes:
    from tests.integration.test_deploy_checks import with_start_form

    return with_start_form(xml)


def test_a_condition_reading_a_name_nothing_provides_is_refused(engine):
    with pytest.raises(DeploymentRefused) as refused:
        engine.admin.deploy(with_intake(gateway("${media_exposed == true}")), "gw.bpmn")
    assert "reads media_exposed, which no form field, start datum, script or service topic provides" in str(
        refused.value)
    assert refused.value.element_id == "to_yes"


def test_names_from_the_form_a_script_or_a_declared_topic_deploy(engine, topics):
    topics.add("assess", lambda ctx: {"media_exposed": False}, sets=("media_exposed",))
    xml = with_intake(gateway("${media_exposed and agents > 0 and checked}")).replace(
        b'<bpmn:exclusiveGateway id="gw" default="to_no" />',
        b'<bpmn:serviceTask id="assess" camunda:type="external" camunda:topic="assess" />'
        b'<bpmn:scriptTask id="check" scriptFormat="python"><bpmn:script>checked = len(facts) &gt; 0'
        b'</bpmn:script></bpmn:scriptTask><bpmn:exclusiveGateway id="gw" default="to_no" />').replace(
        b'sourceRef="start" targetRef="gw"', b'sourceRef="start" targetRef="assess"').replace(
        b"</bpmn:process>", b'<bpmn:sequenceFlow id="a1" sourceRef="assess" targetRef="check" />'
                            b'<bpmn:sequenceFlow id="a2" sourceRef="check" targetRef="gw" /></bpmn:process>')
    engine.admin.deploy(xml, "gw.bpmn")
    ref = engine.cases.start("gw", {"facts": "x"})
    assert [t.element_id for t in engine.reads.case_page(ref.id, SYSTEM).open_tasks] == ["no"]


def test_a_topic_returning_a_key_it_does_not_declare_is_an_incident(engine, topics):
    topics.add("assess", lambda ctx: {"media_exposed": True, "surprise": 1}, sets=("media_exposed",))
    xml = process("tp", '<bpmn:serviceTask id="assess" camunda:type="external" camunda:topic="assess" />' + review(),
                  [("start", "assess"), ("assess", "review"), ("review", "end")])
    engine.admin.deploy(xml, "tp.bpmn")
    ref = engine.cases.start("tp", {})
    incident = engine.reads.case_page(ref.id, SYSTEM).case.incident
    assert ref.status == "incident" and "returned ['surprise'], which it does not declare" in incident


def test_the_shipped_processes_pass_the_data_flow_check(engine):
    from pathlib import Path

    from engine.topics import default_registry

    shipped = ProcessEngine(engine._core.db, engine.clock, default_registry(engine.settings))
    for name in ("service_quality.bpmn", "escalation.bpmn", "demand.bpmn", "crisis.bpmn", "normal.bpmn"):
        shipped.admin.deploy((Path(__file__).parents[2] / "processes" / name).read_bytes(), name)
