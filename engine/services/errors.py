"""Domain errors raised by services, each with a stable ``code`` and its ``params``.

User interfaces map the class to their own status (``status``: HTTP 400/403/404/409,
CLI exit codes) and translate ``code`` with ``params``; the English ``str()`` is
for logs and API clients. Form errors name each field with a ``FieldError``.
"""

from __future__ import annotations

from typing import Any

from ..bpmn.forms import FieldError

__all__ = [
    "CaseCancelled", "Conflict", "ConcurrentUpdate", "DeploymentRefused", "FieldError", "FormInvalid", "InvalidRequest",
    "NotFound", "PermissionDenied", "ServiceError", "SignInThrottled", "StepOverBudget", "TaskAlreadyCompleted", "TaskClaimedByOther",
]


class ServiceError(Exception):
    """Base of the errors a service raises on purpose: an English message, a code and its parameters."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, code: str | None = None, **params: Any):
        super().__init__(message)
        self.code = code or type(self).code
        self.params = params


class InvalidRequest(ServiceError):
    """The request itself is malformed (a missing reason, no incident to retry, a bad cursor...)."""


class NotFound(ServiceError):
    """The case, task, process or person asked for does not exist."""

    status = 404
    code = "not_found"


class PermissionDenied(ServiceError):
    """The policy gives the person no right to this action (``params['permission']`` names it when one does)."""

    status = 403
    code = "forbidden"


class SignInThrottled(ServiceError):
    """Too many refused sign-ins for this account or address within the window; ``retry_after`` in seconds."""

    status = 429
    code = "too_many_sign_ins"

    def __init__(self, scope: str, retry_after: int):
        super().__init__(f"too many refused sign-ins for this {scope}; try again in {retry_after} s", scope=scope,
                         retry_after=retry_after)
        self.retry_after = retry_after


class Conflict(ServiceError):
    """The action lost against another change of the same case, task or entry."""

    status = 409
    code = "conflict"


class CaseCancelled(Conflict):
    """The case was cancelled by an administrator: none of its tasks can be claimed or completed any more."""

    code = "case_cancelled"

    def __init__(self, case_id: int):
        super().__init__(f"case {case_id} is cancelled; nothing can be done on it", case_id=case_id)
        self.case_id = case_id


class TaskAlreadyCompleted(Conflict):
    """The task was completed (or cancelled) before this request reached it."""

    code = "task_already_completed"

    def __init__(self, task_id: str, by: str | None = None, state: str = "completed"):
        who = f" by {by}" if by else ""
        super().__init__(f"task {task_id} is already {state}{who}", task_id=task_id, by=by, state=state)
        self.task_id, self.by, self.state = task_id, by, state


class TaskClaimedByOther(Conflict):
    """The task is claimed by someone else."""

    code = "task_claimed"

    def __init__(self, task_id: str, assignee: str | None):
        super().__init__(f"task {task_id} is claimed by {assignee or 'someone else'}", task_id=task_id,
                         assignee=assignee)


class ConcurrentUpdate(Conflict):
    """The case changed between reading and writing it; nothing was written."""

    code = "concurrent_update"


class FormInvalid(ServiceError):
    """Submitted data does not satisfy a form; ``errors`` maps each bad field to its ``FieldError``."""

    code = "form_invalid"

    def __init__(self, errors: dict[str, FieldError]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()), fields=sorted(errors))
        self.errors = errors


class DeploymentRefused(ServiceError):
    """A BPMN file cannot be deployed; the message names file, line and element."""

    code = "deployment_refused"

    def __init__(self, message: str, file_name: str, line: int | None, element_id: str | None):
        super().__init__(message, file_name=file_name, line=line, element_id=element_id)
        self.file_name, self.line, self.element_id = file_name, line, element_id


class StepOverBudget(ServiceError):
    """A command on a case went over its budget (time, steps without a wait state, memory, size).

    Its transaction was rolled back; the case (``case_id``, None while it was
    being started) is put in incident with ``reason`` in a transaction of its
    own, and an administrator retries it once the process or data is fixed.
    """

    status = 422
    code = "step_over_budget"
    PREFIX = "over budget"       # the incident text starts so; the timer sweep leaves such cases alone

    def __init__(self, case_id: int | None, revision: int | None, kind: str, reason: str):
        super().__init__(f"{self.PREFIX} ({kind}): {reason}", case_id=case_id, kind=kind, reason=reason)
        self.case_id, self.revision, self.kind, self.reason = case_id, revision, kind, reason

    @property
    def incident(self) -> str:
        return str(self)
