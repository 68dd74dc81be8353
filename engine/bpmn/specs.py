"""Task specs for the dialect: user tasks with candidate groups and forms, external-topic service tasks."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway, ServiceTask
from SpiffWorkflow.camunda.specs.user_task import UserTask
from SpiffWorkflow.util.task import TaskState


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


class LoopSafeParallelGateway(ParallelGateway):
    """A parallel join that counts only the tokens of the current round of a loop around it (issue 16 item 4).

    SpiffWorkflow 3.2.0's join looks at every task of its spec in the tree: in a
    loop, the join task of the previous round's first branch (cancelled when the
    join fired) still has a completed parent, so in the next round the join
    fires as soon as the other branch arrives (A,B then B,A). A cancelled join
    task is a token that was already consumed: it is skipped here; the rest is
    SpiffWorkflow's rule.
    """

    def _check_threshold_unstructured(self, my_task):
        waiting_inputs = set(self.inputs)

        def remove_ancestor(task):
            while task is not None:
                if task.task_spec in waiting_inputs:
                    waiting_inputs.remove(task.task_spec)
                    return
                task = task.parent

        for task in my_task.workflow.get_tasks(spec_name=self.name):
            if task is not my_task and task.state == TaskState.CANCELLED:
                continue        # consumed by an earlier firing of this join
            if task.is_descendant_of(my_task):
                remove_ancestor(task)       # first round: the join is predicted again after itself
            elif my_task.is_descendant_of(task):
                continue                    # an earlier round's join, on the way to this one
            elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return not waiting_inputs
