"""Issue 16 item 4: a parallel split and join inside a loop waits for both branches in every round.

SpiffWorkflow 3.2.0's join fired in round 2 when B was completed before A (the
consumed token of round 1's A still counted): tasks piled up and the case went to
incident with its data a round behind. The engine's join (specs.LoopSafeParallelGateway)
counts only this round's tokens. SPEC A-1 (every step kept), the rework loops of N-6.
"""

from __future__ import annotations

import pytest

from engine.services import SYSTEM
from tests.integration.test_budgets import process, review

ROUND_FORM = ('<bpmn:extensionElements><camunda:formData><camunda:formField id="note" type="string" />'
              '</camunda:formData></bpmn:extensionElements>')


def looped_split_join(rounds: int) -> bytes:
    """start -> merge -> split -> (a | b) -> join -> count (script) -> again? (rounds) -> merge | end."""
    body = ('<bpmn:exclusiveGateway id="merge" /><bpmn:parallelGateway id="split" />'
            + review("a") + review("b") +
            '<bpmn:parallelGateway id="join" /><bpmn:scriptTask id="count" scriptFormat="python">'
            '<bpmn:script>done = done + 1</bpmn:script></bpmn:scriptTask>'
            '<bpmn:exclusiveGateway id="again" default="f_end" />')
    xml = process("pj", body, [("start", "merge"), ("merge", "split"), ("split", "a"), ("split", "b"),
                               ("a", "join"), ("b", "join"), ("join", "count"), ("count", "again")])
    return xml.replace(b"</bpmn:process>", (
        '<bpmn:sequenceFlow id="f_again" sourceRef="again" targetRef="merge"><bpmn:conditionExpression>'
        f'done &lt; {rounds}</bpmn:conditionExpression></bpmn:sequenceFlow>'
        '<bpmn:sequenceFlow id="f_end" sourceRef="again" targetRef="end" /></bpmn:process>').encode())


def ready(engine, case_id) -> dict[str, str]:
    return {t.element_id: t.id for t in engine.reads.case_page(case_id, SYSTEM).open_tasks}


@pytest.mark.parametrize("orders", [
    [("a", "b"), ("b", "a"), ("a", "b")],
    [("b", "a"), ("a", "b"), ("b", "a")],
], ids=["A,B then B,A", "B,A then A,B"])
def test_the_join_waits_for_both_branches_in_every_round(engine, handler, orders):
    engine.admin.deploy(looped_split_join(len(orders)), "pj.bpmn")
    case_id = engine.cases.start("pj", {"done": 0}).id
    for number, (first, second) in enumerate(orders, start=1):
        assert set(ready(engine, case_id)) == {"a", "b"}
        engine.cases.complete(ready(engine, case_id)[first], {}, handler)
        assert list(ready(engine, case_id)) == [second]          # the join waits for the other branch
        ref = engine.cases.complete(ready(engine, case_id)[second], {}, handler)
        page = engine.reads.case_page(case_id, SYSTEM)
        assert page.case.data["done"] == number                  # one join per round, data not rolled back
    assert ref.status == "completed"
    joins = [e for e in page.events if e.element_id == "join" and e.lifecycle == "completed"]
    assert len(joins) == len(orders)
