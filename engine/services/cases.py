"""Case commands: start a case, claim, unclaim and complete tasks, retry an incident, fire due timers."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from ..bpmn import EngineError, Instance, json_safe, validate_form
from ..store.models import AuditEvent, Case, Timer, UserTask
from .core import SCHEDULER, Actor, CaseRef, Core
from .errors import (
    ConcurrentUpdate, FormInvalid, InvalidRequest, NotFound, PermissionDenied, TaskAlreadyCompleted,
    TaskClaimedByOther,
)

log = logging.getLogger(__name__)


def start_case(core: Core, session: Session, key: str, data: dict[str, Any], actor: Actor, now: datetime) -> CaseRef:
    """Start a case on the latest version of ``key`` and run it until it waits."""
    pinned = core.pin(session, key)
    bundle = core.bundle(session, key, pinned)
    # I-5: whoever registers the case is its first-ask owner (首问责任人) unless the intake names one.
    data = {"first_ask_owner": actor.username, **data}
    if bundle.start_form is not None:
        # I-6: the intake form drawn on the start event decides what a case needs; nothing is stored otherwise.
        clean, errors = validate_form(bundle.start_form, data, allow_unknown=True)
        if errors:
            raise FormInvalid(errors)
        data = {**data, **clean}
    row = {"process_key": key, "version_id": pinned[key], "pinned": pinned, "status": "running", "revision": 0,
           "state": "", "data": json_safe(data), "category": data.get("category"), "incident": None,
           "started_by": actor.username, "started_at": now, "updated_at": now, "ended_at": None}
    case = Case(**row)
    case.id = session.connection().execute(insert(Case.__table__).returning(Case.__table__.c.id), row).scalar_one()
    instance = Instance.start(bundle, data)
    step = instance.advance(core.host(session, case.id, actor, now), now)
    return core.persist(session, case, instance, step, actor, now)


_TASK_AND_CASE = select(UserTask, Case).join(Case, Case.id == UserTask.case_id).where(UserTask.id == bindparam("tid"))


def _task_and_case(session: Session, task_id: str) -> tuple[UserTask, Case]:
    row = session.execute(_TASK_AND_CASE, {"tid": task_id}).first()
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row[0], row[1]


def _open_task_for(actor: Actor, task: UserTask) -> None:
    if task.state != "ready":
        raise TaskAlreadyCompleted(task.id, task.completed_by, task.state)
    if not actor.may_work_on(task):
        raise PermissionDenied(f"{actor.username} is not a candidate for task {task.id}")


def _task_event(task: UserTask, case: Case, lifecycle: str, actor: Actor, now: datetime) -> dict[str, Any]:
    return {"case_id": case.id, "version_id": case.version_id, "task_id": task.id, "element_id": task.element_id,
            "element_name": task.name, "element_type": "userTask", "flow_id": None, "lifecycle": lifecycle,
            "actor": actor.username, "at": now, "data": None}


def claim(core: Core, session: Session, task_id: str, actor: Actor, now: datetime) -> UserTask:
    """Assign a READY task to ``actor``, who must be a candidate."""
    task, case = _task_and_case(session, task_id)
    _open_task_for(actor, task)
    if task.assignee == actor.username:
        return task
    if task.assignee is not None:
        raise TaskClaimedByOther(f"task {task_id} is claimed by {task.assignee}")
    result = session.execute(update(UserTask).where(
        UserTask.id == task_id, UserTask.state == "ready", UserTask.assignee.is_(None)
    ).values(assignee=actor.username, claimed_at=now))
    if result.rowcount != 1:
        raise TaskClaimedByOther(f"task {task_id} was claimed by someone else just now")
    session.execute(insert(AuditEvent), [_task_event(task, case, "claimed", actor, now)])
    task.assignee, task.claimed_at = actor.username, now
    return task


def unclaim(core: Core, session: Session, task_id: str, actor: Actor, now: datetime) -> UserTask:
    """Give a claimed task back to its candidate groups (the assignee or an administrator)."""
    task, case = _task_and_case(session, task_id)
    if task.state != "ready":
        raise TaskAlreadyCompleted(task.id, task.completed_by, task.state)
    if task.assignee is None:
        return task
    if task.assignee != actor.username and "admin" not in actor.groups:
        raise PermissionDenied(f"task {task_id} is claimed by {task.assignee}, not {actor.username}")
    session.execute(update(UserTask).where(UserTask.id == task_id).values(assignee=None, claimed_at=None))
    session.execute(insert(AuditEvent), [_task_event(task, case, "unclaimed", actor, now)])
    task.assignee, task.claimed_at = None, None
    return task


def complete(core: Core, session: Session, task_id: str, submitted: dict[str, Any], actor: Actor,
             now: datetime) -> CaseRef:
    """Validate form data against the task's form, complete the task and run the case until it waits."""
    task, case = _task_and_case(session, task_id)
    _open_task_for(actor, task)
    if task.assignee is not None and task.assignee != actor.username:
        raise TaskClaimedByOther(f"task {task_id} is claimed by {task.assignee}")
    clean, errors = validate_form(task.form, submitted)
    if errors:
        raise FormInvalid(errors)
    instance = core.instance(session, case)
    try:
        step = instance.complete(core.host(session, case.id, actor, now), now, task_id, clean)
    except EngineError as exc:
        raise ConcurrentUpdate(f"task {task_id} is not ready in case {case.id}: {exc}") from exc
    return core.persist(session, case, instance, step, actor, now)


def retry_incident(core: Core, session: Session, case_id: int, actor: Actor, now: datetime) -> Case:
    """Run the failed steps of a case in incident again (an administrator's action, audited)."""
    if "admin" not in actor.groups:
        raise PermissionDenied(f"{actor.username} may not retry incidents")
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    if case.status != "incident":
        raise InvalidRequest(f"case {case_id} is not in incident (status {case.status})")
    instance = core.instance(session, case)
    step = instance.retry(core.host(session, case.id, actor, now), now)
    admin = {"case_id": case.id, "version_id": case.version_id, "task_id": None, "element_id": None,
             "element_name": None, "element_type": None, "flow_id": None, "lifecycle": "admin_action",
             "actor": actor.username, "at": now, "data": {"action": "retry", "incident": case.incident}}
    core.persist(session, case, instance, step, actor, now, extra_events=[admin])
    return case


def next_due_timer(session: Session, now: datetime, skip: set[str]) -> Timer | None:
    """Return one timer due before ``now`` whose case no other sweeper or command holds, locking that case.

    The lock is on the case row, not the timer row: two timers of one case are
    fired by one sweeper, so two sweepers never wait on each other's rows.
    """
    query = (select(Timer).join(Case, Case.id == Timer.case_id).where(Timer.due_at < now)
             .order_by(Timer.due_at).limit(1).with_for_update(of=Case, skip_locked=True))
    if skip:
        query = query.where(Timer.id.not_in(skip))
    return session.scalars(query).first()


def fire_case_timers(core: Core, session: Session, timer: Timer, now: datetime) -> int:
    """Advance the timer's case to ``now``; return how many timers fired."""
    case = session.get(Case, timer.case_id)
    instance = core.instance(session, case)
    step = instance.advance(core.host(session, case.id, SCHEDULER, now), now)
    core.persist(session, case, instance, step, SCHEDULER, now)
    return sum(1 for e in step.events if e.lifecycle == "timer_fired")


def fire_due_timers(core: Core, now: datetime, limit: int = 10_000) -> dict[str, int]:
    """Fire every timer due before ``now``, one case per transaction; a broken case is logged and skipped."""
    fired = failed = conflicts = 0
    skip: set[str] = set()
    for _ in range(limit):
        timer = None
        try:
            with core.db.transaction() as session:
                timer = next_due_timer(session, now, skip)
                if timer is None:
                    break
                count = fire_case_timers(core, session, timer, now)
                if count == 0:
                    skip.add(timer.id)      # not firable now; do not pick it again in this sweep
                fired += count
        except ConcurrentUpdate:
            conflicts += 1
            skip.add(timer.id)
        except Exception:  # noqa: BLE001 - one broken case must not block the sweep
            if timer is None:
                raise           # the sweep itself cannot read timers: nothing to skip
            failed += 1
            skip.add(timer.id)
            log.exception("timer sweep: case of timer %s failed", timer.id if timer else "?")
    return {"fired": fired, "failed": failed, "conflicts": conflicts}
