"""The UI's words for the engine's error codes: field errors and service errors, translated with their params."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from .labels import labels

# Field error codes (engine/bpmn/forms.py MESSAGES) to the UI's msgids; the params fill the placeholders.
FIELD = {
    "not_a_field": "is not a field of this form", "read_only": "is read-only", "required": "is required",
    "text": "must be text", "whole_number": "must be a whole number", "number": "must be a number",
    "boolean": "must be true or false", "date": "must be a date (YYYY-MM-DD)", "one_of": "must be one of %(options)s",
    "min_length": "must be at least %(n)s characters", "max_length": "must be at most %(n)s characters",
    "min": "must be at least %(n)s", "max": "must be at most %(n)s", "pattern": "must match %(pattern)s",
    "date_min": "must be on or after %(date)s", "date_max": "must be on or before %(date)s",
    "unknown_group": "unknown group: %(groups)s", "taken": "is taken", "not_a_unit": "is not a unit",
    "reserved": "is a name the process's expressions use (%(name)s) and cannot be case data",
    "long_range": "must be a whole number of at most 19 digits (a 64-bit long)",
    "unknown_person": "is nobody of the organisation: %(value)s",
    "not_a_candidate": "may not work on this task (not in its groups): %(value)s",
}

# Service error codes (engine/services/errors.py and where they are raised) to the UI's msgids.
SERVICE = {
    "task_already_completed": "This task was already %(state)s by %(by)s; nothing was changed.",
    "task_claimed": "This task is claimed by %(assignee)s.",
    "concurrent_update": "The case changed while you worked on it; nothing was written. Open it again.",
    "not_candidate": "This page belongs to tasks of other groups.",
    "not_involved": "This case belongs to other groups.",
    "forbidden": "You may not do this.",
    "may_not_start": "You may not start a case of process %(process_key)s.",
    "task_not_found": "There is no such task.",
    "case_not_found": "There is no such case.",
    "process_not_deployed": "The process %(process_key)s is not deployed.",
    "reason_required": "A reason is required.",
    "not_claimed": "The task is not claimed: claim it first.",
    "invalid_number": "Not a case number.",
    "invalid_sort": "Sort by newest, oldest or last changed.",
    "filter_name": "A filter needs a name (at most 100 characters).",
    "filter_not_found": "There is no such saved filter.",
    "invalid_token": "This form is out of date; open the intake form again.",
    "not_in_incident": "The case is not in incident.",
    "invalid_date": "Not a date (YYYY-MM-DD).",
    "invalid_cursor": "This page link is out of date; start from the first page.",
    "nul_character": "Text may not contain the NUL character.",
    "migration_refused": "The case cannot move to that version: %(reason)s",
    "version_not_found": "Process %(process_key)s has no version %(version)s.",
    "case_completed": "The case is completed; there is nothing to repair.",
    "case_cancelled": "The case was cancelled; nothing can be done on it any more.",
    "case_closed": "The case is completed; it cannot be cancelled.",
    "step_over_budget": "This step did not finish within its budget (%(kind)s): nothing was saved and the case is "
                        "now in incident for an administrator.",
    "report_not_found": "There is no report %(report)s.",
    "invalid_period": "%(period)s is not a period of report %(report)s.",
    "no_department": "You head no department: the reports show a department to its head.",
    "other_department": "You see the reports of your own department only.",
    "invalid_drill": "These figures have no list of cases (%(keys)s).",
    "invalid_format": "Export as CSV or XLSX.",
    "mail_not_found": "There is no such message.",
    "mail_not_dead": "This message is %(state)s: only a dead one is sent again.",
}


def field_error(error: Any, field: dict | None = None) -> str:
    """Return a form field's error (a FieldError) in the UI's language; given the form field, the values an
    enum allows are named as its options are (camunda:value name), not by their ids."""
    code = getattr(error, "code", None)
    msgid = FIELD.get(code)
    if not msgid:
        return str(error)
    params = dict(error.params)
    if code == "one_of" and field and field.get("options"):
        lb = labels()
        params["options"] = ("、" if lb.zh else ", ").join(lb.option_name(o) for o in field["options"])
    return gettext(msgid, **params)


def service_error(code: str, params: dict[str, Any], message: str) -> str:
    """Return a service error in the UI's language; a code without words here shows the engine's English."""
    msgid = SERVICE.get(code)
    if msgid is None:
        return message
    return gettext(msgid, **{k: "—" if v is None else v for k, v in params.items()})
