"""Task specs for the dialect: user tasks with candidate groups and forms, external-topic service tasks."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.camunda.specs.user_task import UserTask


class FormUserTask(UserTask):
    """A user task with candidate groups/users, assignee, due date and a plain-dict form."""

    fields: list[dict[str, Any]] = []
    candidate_groups: list[str] | str = []
    candidate_users: list[str] | str = []
    assignee: str | None = None
    due_date: str | None = None


class TopicServiceTask(ServiceTask):
    """A service task that calls the Python handler registered for its ``camunda:topic``."""

    def __init__(self, wf_spec, bpmn_id, topic: str, params: dict[str, str], **kwargs):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.params = params

    def _execute(self, task):
        engine = task.workflow.script_engine
        params = {
            name: engine.evaluate(task, source) if "${" in source else source
            for name, source in self.params.items()
        }
        result = engine.call_topic(task, self.topic, params)
        if result:
            task.data.update(result)
        return True
