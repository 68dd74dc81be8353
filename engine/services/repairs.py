"""Administrators' actions on a case outside its process (A-2, each audited as ``admin_action`` with actor and
reason): retry the failed steps of an incident, repair its data or version, cancel it.

Commands as in ``cases``: each takes the core and an open session and never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from ..bpmn import EngineError, describe_name, json_safe, reserved_names, validate_form
from ..bpmn.forms import FieldError
from ..store import rows
from ..store.models import Deadline
from .core import Actor, Core, audit_row, calendar_functions
from .errors import CaseCancelled, Conflict, FormInvalid, InvalidRequest, NotFound
from .people import named_people, people_errors
from .views import CaseRef

__all__ = ["cancel_case", "repair", "retry_incident"]


def retry_incident(core: Core, session: Session, case_id: int, actor: Actor, now: datetime) -> CaseRef:
    """Run the failed steps of a case in incident again (an administrator's action, audited)."""
    core.policy.require(actor, "repair_cases", "retry incidents")
    case = rows.case_head(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
    if case.status != "incident":
        # The request is sound; the case's state refuses it (another administrator retried it first...): 409.
        raise Conflict(f"case {case_id} is not in incident (status {case.status})", code="not_in_incident",
                       case_id=case_id, status=case.status)
    instance = core.instance(session, case)
    step = core.step(case, lambda: instance.retry(core.host(session, case.id, actor, now), now))
    admin = audit_row(case, "admin_action", actor, now, data={"action": "retry", "incident": case.incident})
    return core.persist(session, case, instance, step, actor, now, extra_events=[admin])


def repair(core: Core, session: Session, case_id: int, actor: Actor, now: datetime, *, reason: str,
           data: dict[str, Any] | None = None, version: int | None = None, retry: bool = True) -> CaseRef:
    """An administrator repairs a case (A-2, audited): set case data (validated against the start form of the
    case's version), move it to another version of its process, and retry its failed steps.

    ``version`` is a version number of the case's process key (the called processes follow their latest
    versions). Without ``retry`` the case keeps its incident, with the new data or version.
    """
    core.policy.require(actor, "repair_cases", "repair cases")
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required (A-2: the repair is audited)", code="reason_required")
    case = rows.case_head(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
    if case.status == "completed":
        raise Conflict(f"case {case_id} is completed; there is nothing to repair", code="case_completed",
                       case_id=case_id)
    if case.status == "cancelled":
        raise CaseCancelled(case.id)
    instance = core.instance(session, case)
    moved = None
    if version is not None:
        target = rows.version_id_of(session, case.process_key, version)
        if target is None:
            raise NotFound(f"process {case.process_key!r} has no version {version}", code="version_not_found",
                           process_key=case.process_key, version=version)
        pinned = {**core.pin(session, case.process_key), case.process_key: target}
        bundle = core.bundle(session, case.process_key, pinned)
        try:
            instance.migrate(bundle)
        except EngineError as exc:
            raise InvalidRequest(str(exc), code="migration_refused", case_id=case_id, version=version,
                                 reason=str(exc)) from exc
        moved = {"from": case.version_id, "to": target}
    clean: dict[str, Any] = {}
    if data:
        clean = _repair_data(core, session, instance.bundle.start_form, data, now)
        # As at intake (I-5, S-6): a person field names a person of the organisation, stored as the username.
        clean = named_people(session, instance.bundle.start_form or [], clean)
        if errors := people_errors(core, session, clean, actor):
            raise FormInvalid(errors)
    step = core.step(case, lambda: instance.repair(core.host(session, case.id, actor, now), now, clean, retry))
    if moved is not None:
        rows.update_case(session, case.id, case.revision, {"version_id": moved["to"], "pinned": pinned})
    admin = audit_row(case, "admin_action", actor, now, data={
        "action": "repair", "reason": reason.strip(), "data": json_safe(clean), "version": moved,
        "retry": retry, "incident": case.incident})
    return core.persist(session, case, instance, step, actor, now, extra_events=[admin])


def cancel_case(core: Core, session: Session, case_id: int, actor: Actor, now: datetime, *, reason: str) -> CaseRef:
    """An administrator cancels a case (A-2, audited with actor and reason): its open tasks, timers and failed
    steps are cancelled and it ends with status ``cancelled``; a completed or cancelled case is a conflict.

    Its deadlines end with it: one still ahead is left out of adherence (``cancelled``), one already passed
    when the case was cancelled was missed all the same (as the adherence counts a due, unswept one).
    """
    core.policy.require(actor, "repair_cases", "cancel cases")
    if not reason or not reason.strip():
        raise InvalidRequest("a reason is required (A-2: the cancel is audited)", code="reason_required")
    case = rows.case_head(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
    if case.status == "cancelled":
        raise CaseCancelled(case.id)
    if case.status == "completed":
        raise Conflict(f"case {case_id} is completed; it cannot be cancelled", code="case_closed", case_id=case_id)
    instance, case_status_before = core.instance(session, case), case.status
    step = core.step(case, lambda: instance.cancel(core.host(session, case.id, actor, now), now))
    admin = audit_row(case, "admin_action", actor, now, data={
        "action": "cancel", "reason": reason.strip(), "status": case.status, "incident": case.incident})
    ref = core.persist(session, case, instance, step, actor, now, extra_events=[admin])
    if case_status_before != "paused":      # a paused clock had not run out (N-4)
        session.execute(update(Deadline).where(
            Deadline.case_id == case.id, Deadline.outcome == "cancelled", Deadline.ended_at == now,
            Deadline.due_at < now).values(outcome="missed", ended_at=None))
    return ref


def _repair_data(core: Core, session: Session, start_form, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Validate repair data: start-form fields only, each valid for its field; no reserved names."""
    calendar = core.calendar(session)
    functions = calendar_functions(calendar, now)
    reserved = reserved_names(functions)
    errors = {k: FieldError("reserved", {"name": describe_name(k, functions)}) for k in data if k in reserved}
    fields = {f["id"]: f for f in start_form or []}
    errors.update({k: FieldError("not_a_field") for k in data if k not in fields and k not in errors})
    if errors:
        raise FormInvalid(errors)
    # Each given field is checked alone: the others keep their case values (a repair sets what it names).
    clean: dict[str, Any] = {}
    for key, value in data.items():
        field = {**fields[key], "default": None}
        field["constraints"] = {k: v for k, v in field["constraints"].items() if k != "readonly"}
        values, field_errors = validate_form([field], {key: value}, today=now.astimezone(calendar.tz).date())
        if field_errors:
            errors.update(field_errors)
        elif key in values:
            clean[key] = values[key]
    if errors:
        raise FormInvalid(errors)
    return clean
