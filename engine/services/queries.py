"""Read-side queries: inbox, case detail, audit trail and executed path; they read rows, never workflows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from ..store.models import Account, AuditEvent, Case, Membership, TaskCandidate, Timer, UserTask
from .core import Actor
from .errors import NotFound


def actor_for(session: Session, username: str) -> Actor:
    """Return the actor for a username with the groups of their memberships."""
    account = session.get(Account, username)
    if account is None or not account.active:
        raise NotFound(f"user {username!r} does not exist or is inactive")
    groups = session.scalars(select(Membership.group_key).where(Membership.username == username))
    return Actor(username, frozenset(groups))


def _inbox_statement(include_claimable: bool):
    """The inbox query, built once: who may see a task is bound per call (``me``, ``groups``)."""
    candidate = select(TaskCandidate.task_id).where(TaskCandidate.task_id == UserTask.id, or_(
        (TaskCandidate.kind == "group") & TaskCandidate.name.in_(bindparam("groups", expanding=True)),
        (TaskCandidate.kind == "user") & (TaskCandidate.name == bindparam("me")),
    )).exists()
    who = UserTask.assignee == bindparam("me")
    if include_claimable:
        who = or_(who, UserTask.assignee.is_(None) & candidate)
    return (select(UserTask).where(UserTask.state == "ready", who)
            .order_by(UserTask.due_at.is_(None), UserTask.due_at, UserTask.created_at))


# Clerks' screens read the inbox all day: building the statement cost more than running it.
_INBOX = {claimable: _inbox_statement(claimable) for claimable in (True, False)}


def inbox(session: Session, actor: Actor, process_key: str | None = None, overdue_at: datetime | None = None,
          include_claimable: bool = True, category: str | None = None,
          due_before: datetime | None = None) -> list[UserTask]:
    """Return the READY tasks assigned to ``actor`` and, optionally, those their groups may claim."""
    query = _INBOX[include_claimable]
    if process_key or category:
        query = query.join(Case, Case.id == UserTask.case_id)
    if process_key:
        query = query.where(Case.process_key == process_key)
    if category:
        # A category filter takes the code and everything under it in the tree.
        query = query.where(or_(Case.category == category, Case.category.startswith(category + ".")))
    if due_before is not None:
        query = query.where(UserTask.due_at < due_before)
    if overdue_at is not None:
        query = query.where(UserTask.due_at < overdue_at)
    params = {"me": actor.username, "groups": sorted(actor.groups) or [""]}
    return list(session.scalars(query, params))


@dataclass
class CaseDetail:
    case: Case
    tasks: list[UserTask]
    timers: list[Timer]
    events: list[AuditEvent]


def case_detail(session: Session, case_id: int) -> CaseDetail:
    """Return a case with its tasks (all states), waiting timers and audit trail."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    tasks = list(session.scalars(select(UserTask).where(UserTask.case_id == case_id).order_by(UserTask.created_at)))
    timers = list(session.scalars(select(Timer).where(Timer.case_id == case_id).order_by(Timer.due_at)))
    return CaseDetail(case, tasks, timers, audit_trail(session, case_id))


def audit_trail(session: Session, case_id: int) -> list[AuditEvent]:
    """Return the case's audit events in the order they happened."""
    return list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id)))


def executed_path(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Return the executed path: every flow taken and element completed, in order, loops repeated."""
    path: list[dict[str, Any]] = []
    for event in audit_trail(session, case_id):
        if event.lifecycle == "joined" and event.flow_id:
            path.append({"kind": "flow", "id": event.flow_id})
        if event.lifecycle not in ("completed", "timer_fired"):
            continue
        if event.flow_id:
            path.append({"kind": "flow", "id": event.flow_id})
        path.append({"kind": "element", "id": event.element_id})
    return path
