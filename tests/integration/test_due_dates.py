"""A user task's camunda:dueDate may call the business calendar, like timers do (N-8 call-back due date)."""

from __future__ import annotations

from datetime import datetime

from engine.services import SYSTEM
from tests.conftest import SHANGHAI

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_due" targetNamespace="http://example.org/tests">
  <bpmn:process id="due_demo" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="callback" name="Call back" camunda:candidateGroups="callback"
        camunda:dueDate="${due_in_working_days(3)}">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="callback" />
    <bpmn:sequenceFlow id="f2" sourceRef="callback" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_n8_due_date_expression_calls_the_working_day_calendar(engine):
    engine.admin.deploy(BPMN, "due.bpmn")
    ref = engine.cases.start("due_demo", {})
    assert ref.status == "running"
    task = engine.reads.task_page(ref.open_tasks[0].id, SYSTEM).task
    assert task.due_at == datetime(2025, 3, 6, 18, 0, tzinfo=SHANGHAI)     # Monday 09:00 + 3 working days
