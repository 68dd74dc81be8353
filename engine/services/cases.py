"""Cases and tasks, for the staff who work them: start a case, claim, give back and complete tasks; the facade also
hands administrators the retry, repair and cancel of ``repairs``.

The functions are the commands: each takes the core and an open session and
never commits, so a service may run several in one transaction (the crisis
watch starts one case per category). ``CaseService`` is the audience's facade:
one transaction per call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..bpmn import EngineError, Instance, describe_name, json_safe, reserved_names, validate_form
from ..bpmn import validate
from ..bpmn.forms import FieldError
from ..store import rows
from ..store.models import Account, IntakeToken, Membership, UserTask
from .convert import task_view
from .core import SYSTEM, Actor, CaseHead, Core, TaskHead, audit_row, calendar_functions
from .errors import (
    CaseCancelled, ConcurrentUpdate, FormInvalid, InvalidRequest, NotFound, PermissionDenied, StepOverBudget,
    TaskAlreadyCompleted, TaskClaimedByOther,
)
from .people import named_people, people_errors
from .repairs import cancel_case, repair, retry_incident
from .views import CaseRef, ReplayedCaseRef, TaskRef, TaskView

__all__ = ["CaseService", "cancel_case", "claim", "complete", "hand_over", "named_people", "people_errors", "repair",
           "retry_incident", "start_case", "task_and_case", "unclaim"]


# Start data the engine itself keeps besides the start form's fields: I-5's registering clerk, the demo mark.
ENGINE_KEYS = validate.ENGINE_KEYS


def start_case(core: Core, session: Session, key: str, data: dict[str, Any], actor: Actor, now: datetime,
               over_budget: StepOverBudget | None = None) -> CaseRef:
    """Start a case on the latest version of ``key`` and run it until it waits.

    ``over_budget``: a first start went over its budget and was rolled back; the
    case is stored again, unstarted and in incident with that reason, so that the
    complaint is kept and an administrator can retry it once the process is fixed.
    """
    core.policy.require_start(actor, key)
    pinned = core.pin(session, key)
    bundle = core.bundle(session, key, pinned)
    # I-5: intake records the registering clerk; the first-ask owner (首问责任人) is whom the customer first
    # approached, a field of the intake form when known, never the clerk by default (S-6).
    data = {**data, "registered_by": actor.username}
    # Case data may not shadow what expressions call (``due_in_working_days``, ``len``...): issue 16 item 3.
    calendar = core.calendar(session)
    functions = calendar_functions(calendar, now)
    reserved = reserved_names(functions)
    errors = {k: FieldError("reserved", {"name": describe_name(k, functions)}) for k in data if k in reserved}
    if bundle.start_form is not None:
        # I-6: the intake form drawn on the start event decides what a case needs; nothing is stored otherwise.
        # People start with the form's fields only; the system (crisis watch) may pass more.
        known = {f["id"] for f in bundle.start_form} | ENGINE_KEYS
        if actor != SYSTEM:
            errors.update({k: FieldError("not_a_field") for k in data if k not in known and k not in errors})
        # I-1: a receipt date drawn with max "today" may not lie after the day of registration.
        clean, form_errors = validate_form(bundle.start_form, data, allow_unknown=True,
                                           today=now.astimezone(calendar.tz).date())
        errors.update(form_errors)
        if errors:
            raise FormInvalid(errors)
        data = {**data, **named_people(session, bundle.start_form, clean)}
    elif errors:
        raise FormInvalid(errors)
    if errors := people_errors(core, session, data, actor):
        raise FormInvalid(errors)
    case_id = rows.insert_case(session, {
        "process_key": key, "version_id": pinned[key], "pinned": pinned, "status": "running", "revision": 0,
        "state": "", "data": json_safe(data), "category": data.get("category"), "incident": None,
        "started_by": actor.username, "started_at": now, "updated_at": now, "ended_at": None})
    case = CaseHead(case_id, key, pinned[key], pinned, "running", 0)
    instance = Instance.start(bundle, data)
    if over_budget is not None:
        rows.update_case(session, case_id, 0, {"state": instance.dump(), "revision": 1, "status": "incident",
                                               "incident": over_budget.incident})
        rows.insert_events(session, [audit_row(case, "incident", actor, now, data={
            "error": over_budget.incident, "budget": over_budget.kind})])
        return CaseRef(case_id, "incident", ())
    step = core.step(None, lambda: instance.advance(core.host(session, case.id, actor, now), now))
    return core.persist(session, case, instance, step, actor, now)


def replayed_intake(session: Session, token: str) -> CaseRef | None:
    """Return the case an intake form token already started (with its open tasks), or None."""
    found = session.get(IntakeToken, token)
    if found is None:
        return None
    case = rows.case_head(session, found.case_id)
    ready = session.scalars(select(UserTask).where(UserTask.case_id == found.case_id, UserTask.state == "ready")
                            .order_by(UserTask.created_at))
    return ReplayedCaseRef(case.id, case.status, tuple(TaskRef(t.id, t.element_id, t.name, tuple(t.candidate_groups),
                                                               t.assignee, t.due_at) for t in ready))


def task_and_case(session: Session, task_id: str) -> tuple[TaskHead, CaseHead]:
    """Read a task and the head of its case; NotFound if there is no such task."""
    found = rows.task_and_case(session, task_id)
    if found is None:
        raise NotFound(f"task {task_id} does not exist", code="task_not_found", task_id=task_id)
    return found


def _not_candidate(actor: Actor, task: TaskHead) -> PermissionDenied:
    return PermissionDenied(f"{actor.username} is not a candidate for task {task.id}", code="not_candidate",
                            task_id=task.id)


def _open_task_for(actor: Actor, task: TaskHead, case: CaseHead) -> None:
    # Someone outside the task hears 403 whatever its state: a 409 would tell them who completed it.
    if not actor.may_work_on(task):
        raise _not_candidate(actor, task)
    if case.status == "cancelled":
        raise CaseCancelled(case.id)
    if task.state != "ready":
        raise TaskAlreadyCompleted(task.id, task.completed_by, task.state)


def _task_event(task: TaskHead, case: CaseHead, lifecycle: str, actor: Actor, now: datetime) -> dict[str, Any]:
    return audit_row(case, lifecycle, actor, now, task_id=task.id, element_id=task.element_id, element_name=task.name,
                     element_type="userTask")


def claim(core: Core, session: Session, task_id: str, actor: Actor, now: datetime) -> None:
    """Assign a READY task to ``actor``, who must be a candidate."""
    task, case = task_and_case(session, task_id)
    _open_task_for(actor, task, case)
    if task.assignee == actor.username:
        return
    if task.assignee is not None:
        raise TaskClaimedByOther(task_id, task.assignee)
    if not rows.claim_task(session, task_id, actor.username, now):
        raise TaskClaimedByOther(task_id, None)
    rows.insert_events(session, [_task_event(task, case, "claimed", actor, now)])


def unclaim(core: Core, session: Session, task_id: str, actor: Actor, now: datetime) -> None:
    """Give a claimed task back to its candidates (its assignee, or whoever may work on any task)."""
    task, case = task_and_case(session, task_id)
    if not (actor.may_work_on(task) or core.policy.allows(actor.groups, "any_task")):
        raise _not_candidate(actor, task)
    if task.state != "ready":
        raise TaskAlreadyCompleted(task.id, task.completed_by, task.state)
    if task.assignee is None:
        return
    if task.assignee != actor.username:
        core.policy.require(actor, "any_task", f"give back task {task_id}, claimed by {task.assignee}")
    rows.unclaim_task(session, task_id)
    rows.insert_events(session, [_task_event(task, case, "unclaimed", actor, now)])


def hand_over(core: Core, session: Session, task_id: str, to: str, actor: Actor, now: datetime, *,
              delegate: bool = False, reason: str = "") -> None:
    """Give a claimed task to another person (Tasklist's "set assignee"), audited: its assignee does, or whoever
    may work on any task. Reassigning gives it to another candidate of the task; delegating to anyone of the
    organisation (an expert outside its groups), with a reason."""
    task, case = task_and_case(session, task_id)
    if task.state != "ready":
        raise TaskAlreadyCompleted(task.id, task.completed_by, task.state)
    if task.assignee is None:
        raise InvalidRequest(f"task {task_id} is not claimed: claim it, or let its groups claim it",
                             code="not_claimed", task_id=task_id)
    if task.assignee != actor.username:
        core.policy.require(actor, "any_task", f"reassign task {task_id}, claimed by {task.assignee}")
    if not session.get(Account, to):
        raise FormInvalid({"assignee": FieldError("unknown_person", {"value": to})})
    if delegate and not reason.strip():
        raise InvalidRequest("a delegation needs a reason", code="reason_required")
    if not delegate:
        groups = frozenset(session.scalars(select(Membership.group_key).where(Membership.username == to)))
        if not (to in task.candidate_users or groups.intersection(task.candidate_groups)):
            raise FormInvalid({"assignee": FieldError("not_a_candidate", {"value": to})})
    if to == task.assignee:
        return
    if not rows.hand_over_task(session, task_id, task.assignee, to, now):
        raise TaskClaimedByOther(task_id, None)
    rows.insert_events(session, [audit_row(
        case, "delegated" if delegate else "reassigned", actor, now, task_id=task.id, element_id=task.element_id,
        element_name=task.name, element_type="userTask",
        data={"from": task.assignee, "to": to, "reason": reason.strip() or None})])


def complete(core: Core, session: Session, task_id: str, submitted: dict[str, Any], actor: Actor,
             now: datetime) -> CaseRef:
    """Validate form data against the task's form, complete the task and run the case until it waits."""
    task, case = task_and_case(session, task_id)
    _open_task_for(actor, task, case)
    if task.assignee is not None and task.assignee != actor.username:
        raise TaskClaimedByOther(task_id, task.assignee)
    clean, errors = validate_form(task.form, submitted, today=now.astimezone(core.calendar(session).tz).date())
    if errors:
        raise FormInvalid(errors)
    # I-5, S-6: a person field drawn in the form (kind person) may give a name; it is stored as the username.
    clean = named_people(session, task.form, clean)
    if errors := people_errors(core, session, clean, actor):
        raise FormInvalid(errors)
    instance = core.instance(session, case)
    try:
        step = core.step(case, lambda: instance.complete(core.host(session, case.id, actor, now), now, task_id, clean))
    except EngineError as exc:
        raise ConcurrentUpdate(f"task {task_id} is not ready in case {case.id}: {exc}") from exc
    return core.persist(session, case, instance, step, actor, now)


class CaseService:
    """Start cases and work on tasks; each call is one transaction at the clock's instant."""

    def __init__(self, core: Core):
        self._core = core

    def start(self, key: str, data: dict[str, Any], actor: Actor = SYSTEM, token: str | None = None) -> CaseRef:
        """Start a case of ``key`` (by default as the system); return it with the user tasks it now waits on.

        ``token`` is the intake form's token: the same form submitted again (a double click, a second tab,
        a retry after a lost answer) returns the case it started, ``replayed``, and starts nothing.
        A start over budget is rolled back and the case stored again, unstarted, in incident (``start_case``).
        """
        if token is not None and not 8 <= len(token) <= 64:
            raise InvalidRequest("the form token must be 8 to 64 characters", code="invalid_token")
        over_budget = None
        try:
            with self._core.command(actor) as session:
                if token is not None and (found := replayed_intake(session, token)) is not None:
                    return found
                return self._started(session, key, data, actor, token, None)
        except StepOverBudget as exc:
            over_budget = exc
        except IntegrityError:
            # Another worker started the case of this token first (PostgreSQL: both passed the check above).
            if token is None:
                raise
            with self._core.db.transaction(write=False) as session:
                found = replayed_intake(session, token)
            if found is None:
                raise
            return found
        with self._core.db.transaction() as session:
            return self._started(session, key, data, actor, token, over_budget)

    def _started(self, session: Session, key: str, data: dict[str, Any], actor: Actor, token: str | None,
                 over_budget: StepOverBudget | None) -> CaseRef:
        now = self._core.clock()
        ref = start_case(self._core, session, key, data, actor, now, over_budget=over_budget)
        if token is not None:
            session.execute(insert(IntakeToken), [{"token": token, "case_id": ref.id,
                                                   "username": actor.username, "created_at": now}])
        return ref

    def claim(self, task_id: str, actor: Actor) -> TaskView:
        """Claim a task; return it as it now is."""
        with self._core.db.transaction() as session:
            claim(self._core, session, task_id, actor, self._core.clock())
            return task_view(session.get(UserTask, task_id), self._core.clock())

    def unclaim(self, task_id: str, actor: Actor) -> TaskView:
        """Give a claimed task back; return it as it now is."""
        with self._core.db.transaction() as session:
            unclaim(self._core, session, task_id, actor, self._core.clock())
            return task_view(session.get(UserTask, task_id), self._core.clock())

    def reassign(self, task_id: str, to: str, actor: Actor, reason: str = "") -> TaskView:
        """Give a claimed task to another of its candidates; return it as it now is."""
        with self._core.db.transaction() as session:
            hand_over(self._core, session, task_id, to, actor, self._core.clock(), reason=reason)
            return task_view(session.get(UserTask, task_id), self._core.clock())

    def delegate(self, task_id: str, to: str, actor: Actor, reason: str) -> TaskView:
        """Give a claimed task to anyone of the organisation, with a reason; return it as it now is."""
        with self._core.db.transaction() as session:
            hand_over(self._core, session, task_id, to, actor, self._core.clock(), delegate=True, reason=reason)
            return task_view(session.get(UserTask, task_id), self._core.clock())

    def complete(self, task_id: str, data: dict[str, Any], actor: Actor) -> CaseRef:
        """Complete a task; return its case with the user tasks it now waits on."""
        try:
            with self._core.command(actor) as session:
                return complete(self._core, session, task_id, data, actor, self._core.clock())
        except ConcurrentUpdate:
            # Lost against another command: tell who completed the task if that is what happened.
            with self._core.db.transaction(write=False) as session:
                task = rows.task_and_case(session, task_id)
                if task is not None and task[1].status == "cancelled":
                    raise CaseCancelled(task[1].id) from None
                if task is not None and task[0].state != "ready":
                    raise TaskAlreadyCompleted(task_id, task[0].completed_by, task[0].state) from None
            raise

    def repair(self, case_id: int, actor: Actor, *, reason: str, data: dict[str, Any] | None = None,
               version: int | None = None, retry: bool = True) -> CaseRef:
        """Repair a case (an administrator's action, audited): set data, move it to another version, retry."""
        with self._core.command(actor) as session:
            return repair(self._core, session, case_id, actor, self._core.clock(), reason=reason, data=data,
                          version=version, retry=retry)

    def cancel(self, case_id: int, actor: Actor, *, reason: str) -> CaseRef:
        """Cancel a case with a reason (an administrator's action, audited); return it, now cancelled."""
        with self._core.command(actor) as session:
            return cancel_case(self._core, session, case_id, actor, self._core.clock(), reason=reason)

    def retry(self, case_id: int, actor: Actor) -> CaseRef:
        """Retry a case in incident (an administrator's action); return where it stands now."""
        with self._core.command(actor) as session:
            return retry_incident(self._core, session, case_id, actor, self._core.clock())
