"""Case commands: start a case, claim, unclaim and complete tasks, retry an incident, fire due timers."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from ..bpmn import EngineError, Instance, json_safe, validate_form
from ..store.models import Case, Timer, UserTask
from ..store.prepared import Prepared
from .core import INSERT_EVENT, SCHEDULER, audit_row, Actor, CaseHead, CaseRef, Core, TaskHead
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
    case_id = _INSERT_CASE.run(session.connection(), row)[0][0]
    case = CaseHead(case_id, key, pinned[key], pinned, "running", 0)
    instance = Instance.start(bundle, data)
    step = instance.advance(core.host(session, case.id, actor, now), now)
    return core.persist(session, case, instance, step, actor, now)


_t, _c = UserTask.__table__.c, Case.__table__.c
_INSERT_CASE = Prepared(insert(Case.__table__).returning(_c.id), keys=[
    "process_key", "version_id", "pinned", "status", "revision", "state", "data", "category", "incident",
    "started_by", "started_at", "updated_at", "ended_at"])
_TASK_AND_CASE = Prepared(
    select(_t.id, _t.case_id, _t.element_id, _t.name, _t.state, _t.assignee, _t.candidate_groups, _t.candidate_users,
           _t.form, _t.completed_by, _t.claimed_at,
           _c.id, _c.process_key, _c.version_id, _c.pinned, _c.status, _c.revision, _c.incident)
    .join(Case.__table__, _c.id == _t.case_id).where(_t.id == bindparam("tid")))
_CLAIM = Prepared(UserTask.__table__.update().where(
    _t.id == bindparam("task_id"), _t.state == "ready", _t.assignee.is_(None)
).values(assignee=bindparam("assignee"), claimed_at=bindparam("claimed_at")))
_UNCLAIM = Prepared(UserTask.__table__.update().where(_t.id == bindparam("task_id")).values(
    assignee=None, claimed_at=None))


def _task_and_case(session: Session, task_id: str) -> tuple[TaskHead, CaseHead]:
    """Read the task and the head of its case (not its state: the cached workflow usually has it)."""
    rows = _TASK_AND_CASE.run(session.connection(), {"tid": task_id})
    if not rows:
        raise NotFound(f"task {task_id} does not exist")
    row = rows[0]
    return TaskHead(*row[:11]), CaseHead(*row[11:])


def _open_task_for(actor: Actor, task: TaskHead) -> None:
    if task.state != "ready":
        raise TaskAlreadyCompleted(task.id, task.completed_by, task.state)
    if not actor.may_work_on(task):
        raise PermissionDenied(f"{actor.username} is not a candidate for task {task.id}")


def _task_event(task: TaskHead, case: CaseHead, lifecycle: str, actor: Actor, now: datetime) -> dict[str, Any]:
    return audit_row(case, lifecycle, actor, now, task_id=task.id, element_id=task.element_id, element_name=task.name,
                     element_type="userTask")


def claim(core: Core, session: Session, task_id: str, actor: Actor, now: datetime) -> TaskHead:
    """Assign a READY task to ``actor``, who must be a candidate."""
    task, case = _task_and_case(session, task_id)
    _open_task_for(actor, task)
    if task.assignee == actor.username:
        return task
    if task.assignee is not None:
        raise TaskClaimedByOther(f"task {task_id} is claimed by {task.assignee}")
    conn = session.connection()
    if _CLAIM.run(conn, {"task_id": task_id, "assignee": actor.username, "claimed_at": now}) != 1:
        raise TaskClaimedByOther(f"task {task_id} was claimed by someone else just now")
    INSERT_EVENT.run(conn, [_task_event(task, case, "claimed", actor, now)])
    task.assignee, task.claimed_at = actor.username, now
    return task


def unclaim(core: Core, session: Session, task_id: str, actor: Actor, now: datetime) -> TaskHead:
    """Give a claimed task back to its candidate groups (the assignee or an administrator)."""
    task, case = _task_and_case(session, task_id)
    if task.state != "ready":
        raise TaskAlreadyCompleted(task.id, task.completed_by, task.state)
    if task.assignee is None:
        return task
    if task.assignee != actor.username and "admin" not in actor.groups:
        raise PermissionDenied(f"task {task_id} is claimed by {task.assignee}, not {actor.username}")
    conn = session.connection()
    _UNCLAIM.run(conn, {"task_id": task_id})
    INSERT_EVENT.run(conn, [_task_event(task, case, "unclaimed", actor, now)])
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
    admin = audit_row(case, "admin_action", actor, now, data={"action": "retry", "incident": case.incident})
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
