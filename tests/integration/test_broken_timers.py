"""Issue 16 item 3: a broken timer or due-date value puts the case in incident with its reason (no stuck case).

Before: each completion answered 409 ``ConcurrentUpdate`` forever, ``dueDate="${1/0}"`` a 500. Values that
deploy cannot see (start data, a version stored before the deploy checks) are caught when the timer starts to
wait. SPEC A-1 (the step that led to the incident is kept), T-1 (deadline timers).
"""

from __future__ import annotations

import pytest

from engine.services import SYSTEM
from tests.integration.test_budgets import process, review, stored_version


def waiting_on(kind: str, value: str) -> bytes:
    """start -> review (user task) -> wait (timer of ``kind`` = ``value``) -> after (user task) -> end."""
    body = (review() + f'<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:{kind}>{value}'
            f'</bpmn:{kind}></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>' + review("after"))
    return process("tm", body, [("start", "review"), ("review", "wait"), ("wait", "after"), ("after", "end")])


@pytest.mark.parametrize("kind, value, reason", [
    ("timeDuration", "PXYZ", "the duration 'PXYZ' is not an ISO 8601 duration"),
    ("timeCycle", "R-1/PT1H", "the cycle 'R-1/PT1H' is not R[n]/<duration>"),
    ("timeDate", "not a date", "the date 'not a date' is not an ISO 8601 date-time"),
    ("timeDate", "2025-03-10T09:00", "has no UTC offset"),
])
def test_a_timer_value_from_case_data_that_does_not_parse_is_an_incident(engine, handler, kind, value, reason):
    engine.admin.deploy(waiting_on(kind, "${when}"), "tm.bpmn")
    case_id = engine.cases.start("tm", {"when": value}).id
    [task] = engine.reads.inbox(handler).tasks
    ref = engine.cases.complete(task.id, {}, handler)        # was: 409 ConcurrentUpdate, again and again
    page = engine.reads.case_page(case_id, SYSTEM)
    assert ref.status == page.case.status == "incident"
    assert page.case.incident.startswith("[wait]") and reason in page.case.incident
    assert [(t.element_id, t.state, t.completed_by) for t in page.tasks] == [("review", "completed", "hans")]
    assert [e.element_id for e in page.events if e.lifecycle == "incident"] == ["wait"]


def test_a_timer_calling_an_unknown_function_in_a_stored_version_is_an_incident(engine, handler):
    stored_version(engine, "tm", waiting_on("timeDate", "${due_in_calendar_years(3)}"))
    case_id = engine.cases.start("tm", {}).id
    ref = engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {}, handler)
    incident = engine.reads.case_page(case_id, SYSTEM).case.incident
    assert ref.status == "incident" and "name 'due_in_calendar_years' is not defined" in incident


@pytest.mark.parametrize("due, reason", [
    ("${1/0}", "division by zero"),
    ("${'soon'}", "the date 'soon' is not an ISO 8601 date-time"),
])
def test_a_due_date_that_cannot_be_computed_is_an_incident_not_a_server_error(engine, due, reason):
    stored_version(engine, "dd", process("dd", f'<bpmn:userTask id="ask" camunda:candidateGroups="handler" '
                                               f'camunda:dueDate="{due}" />', [("start", "ask"), ("ask", "end")]))
    ref = engine.cases.start("dd", {})
    page = engine.reads.case_page(ref.id, SYSTEM)
    assert ref.status == page.case.status == "incident"
    assert page.case.incident.startswith("[ask]") and reason in page.case.incident
    assert page.tasks == ()         # the task is not offered with a due date nobody could compute


def test_a_good_timer_from_case_data_waits(engine, handler):
    engine.admin.deploy(waiting_on("timeDuration", "${when}"), "tm.bpmn")
    case_id = engine.cases.start("tm", {"when": "PT2H"}).id
    ref = engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {}, handler)
    assert ref.status == "running"
    assert [t.element_id for t in engine.reads.case_page(case_id, SYSTEM).timers] == ["wait"]
