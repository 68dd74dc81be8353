"""What the staff UI and the JSON API read with permission rules: accounts, tasks and cases a person may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..bpmn import start_form
from ..store.models import Account, Case, Membership, ProcessVersion, UserTask
from .core import Actor
from .errors import InvalidRequest, NotFound, PermissionDenied
from .queries import CaseDetail, case_detail

# Groups that oversee every case (000 一.1: the complaint group assesses, leadership and owners review).
OVERSEERS = frozenset({"admin", "process_owner", "complaint_group", "leadership", "quality_centre", "compliance"})
DEPLOYERS = frozenset({"admin", "process_owner"})
LOCALES = ("zh_CN", "en")


def account(session: Session, username: str) -> dict[str, Any] | None:
    """Return an active account as plain data (with its password hash and groups), or None."""
    row = session.get(Account, username)
    if row is None or not row.active:
        return None
    groups = sorted(session.scalars(select(Membership.group_key).where(Membership.username == username)))
    return {"username": row.username, "display_name": row.display_name, "password_hash": row.password_hash,
            "locale": row.locale or "zh_CN", "groups": groups}


def set_locale(session: Session, username: str, locale: str) -> None:
    """Remember the language a person works in."""
    if locale not in LOCALES:
        raise InvalidRequest(f"unknown locale {locale!r}; one of {', '.join(LOCALES)}")
    row = session.get(Account, username)
    if row is None:
        raise NotFound(f"user {username!r} does not exist")
    row.locale = locale


def task_for(session: Session, task_id: str, actor: Actor) -> UserTask:
    """Return a task its candidates, assignee, completer or an administrator may see; 403 for anyone else."""
    task = session.get(UserTask, task_id)
    if task is None:
        raise NotFound(f"task {task_id} does not exist")
    if not (actor.may_work_on(task) or task.completed_by == actor.username or "admin" in actor.groups):
        raise PermissionDenied(f"{actor.username} may not see task {task_id}")
    return task


def case_for(session: Session, case_id: int, actor: Actor) -> CaseDetail:
    """Return a case to someone who started it, works or worked on one of its tasks, or oversees cases."""
    detail = case_detail(session, case_id)
    involved = (detail.case.started_by == actor.username or bool(actor.groups & OVERSEERS)
                or any(actor.may_work_on(t) or t.completed_by == actor.username for t in detail.tasks))
    if not involved:
        raise PermissionDenied(f"{actor.username} may not see case {case_id}")
    return detail


def my_cases(session: Session, actor: Actor, limit: int = 50) -> list[Case]:
    """Return the newest cases the actor started or, for overseers, every newest case."""
    query = select(Case).order_by(Case.id.desc()).limit(limit)
    if not actor.groups & OVERSEERS:
        query = query.where(or_(Case.started_by == actor.username,
                                Case.id.in_(select(UserTask.case_id).where(or_(
                                    UserTask.assignee == actor.username, UserTask.completed_by == actor.username)))))
    return list(session.scalars(query))


def start_form_of(session: Session, key: str) -> list[dict[str, Any]]:
    """Return the intake form drawn on the start event of the newest version of ``key`` (empty if none)."""
    row = session.scalars(select(ProcessVersion).where(ProcessVersion.key == key)
                          .order_by(ProcessVersion.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"process {key!r} is not deployed")
    return start_form(key, row.xml) or []


def version_xml(session: Session, version_id: int) -> bytes:
    """Return the BPMN file of one deployed version."""
    row = session.get(ProcessVersion, version_id)
    if row is None:
        raise NotFound(f"process version {version_id} does not exist")
    return row.xml


def running_counts(session: Session) -> dict[int, int]:
    """Return how many cases run (or wait in incident) per process version id."""
    rows = session.execute(select(Case.version_id, func.count()).where(Case.status != "completed")
                           .group_by(Case.version_id))
    return {version_id: count for version_id, count in rows}

