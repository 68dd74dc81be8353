"""Domain errors raised by services; each user interface maps them to its own codes (HTTP 400/403/404/409)."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors a service raises on purpose."""

    status = 400


class NotFound(ServiceError):
    """The case, task or process asked for does not exist."""

    status = 404


class PermissionDenied(ServiceError):
    """The user is not a candidate, assignee or administrator for this action."""

    status = 403


class Conflict(ServiceError):
    """The action lost against another change of the same case or task."""

    status = 409


class TaskAlreadyCompleted(Conflict):
    """The task was completed (or cancelled) before this request reached it."""

    def __init__(self, task_id: str, by: str | None = None, state: str = "completed"):
        who = f" by {by}" if by else ""
        super().__init__(f"task {task_id} is already {state}{who}")
        self.task_id, self.by, self.state = task_id, by, state


class TaskClaimedByOther(Conflict):
    """The task is claimed by someone else."""


class ConcurrentUpdate(Conflict):
    """The case changed between reading and writing it; nothing was written."""


class FormInvalid(ServiceError):
    """Submitted form data does not satisfy the form drawn in the BPMN; ``errors`` names each field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class DeploymentRefused(ServiceError):
    """A BPMN file cannot be deployed; the message names file, line and element."""

    def __init__(self, message: str, file_name: str, line: int | None, element_id: str | None):
        super().__init__(message)
        self.file_name, self.line, self.element_id = file_name, line, element_id


class InvalidRequest(ServiceError):
    """The request itself is malformed (unknown process key, no incident to retry, ...)."""
