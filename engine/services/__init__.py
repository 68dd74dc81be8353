"""The engine's public API: every user interface (CLI, web, scheduler) calls these and nothing deeper.

Each method is one database transaction at the instant the injected clock gives.
"""

from __future__ import annotations

from typing import Any

from ..rules.calendar import holiday_coverage
from ..store.db import Database
from ..store.models import UserTask
from . import cases, crisis, deadlines, deploy, ledger, organisation, queries, staff
from .clocks import Clock, FixedClock, system_clock
from .core import SCHEDULER, SYSTEM, Actor, CaseRef, Core
from .deploy import DeployedVersion
from .errors import (
    Conflict, ConcurrentUpdate, DeploymentRefused, FormInvalid, InvalidRequest, NotFound, PermissionDenied,
    ServiceError, TaskAlreadyCompleted, TaskClaimedByOther,
)
from .queries import CaseDetail
from .topics import TopicContext, TopicRegistry

__all__ = [
    "Actor", "CaseDetail", "CaseRef", "Clock", "Conflict", "ConcurrentUpdate", "DeployedVersion", "DeploymentRefused",
    "FixedClock", "FormInvalid", "InvalidRequest", "NotFound", "PermissionDenied", "ProcessEngine", "SCHEDULER",
    "SYSTEM", "ServiceError", "TaskAlreadyCompleted", "TaskClaimedByOther", "TopicContext", "TopicRegistry",
    "system_clock",
]


class ProcessEngine(Core):
    """Deploy processes, run cases, work on tasks and read the audit trail."""

    def __init__(self, db: Database, clock: Clock = system_clock, topics: TopicRegistry | None = None,
                 calendar=None, cache_instances: bool = True):
        super().__init__(db, clock, topics, calendar, cache_instances)

    # --- definitions ---

    def deploy(self, content: bytes, file_name: str, actor: Actor = SYSTEM) -> list[DeployedVersion]:
        with self.db.transaction() as session:
            return deploy.deploy_file(self, session, content, file_name, actor, self.clock())

    def versions(self, key: str | None = None) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as session:
            return [{"key": v.key, "version": v.version, "id": v.id, "name": v.name, "file_name": v.file_name,
                     "sha256": v.sha256, "deployed_by": v.deployed_by, "deployed_at": v.deployed_at.isoformat()}
                    for v in deploy.list_versions(session, key)]

    # --- cases and tasks ---

    def start_case(self, key: str, data: dict[str, Any], actor: Actor = SYSTEM) -> CaseRef:
        """Start a case; return it with the user tasks it now waits on."""
        with self.db.transaction() as session:
            return cases.start_case(self, session, key, data, actor, self.clock())

    def claim(self, task_id: str, actor: Actor) -> None:
        with self.db.transaction() as session:
            cases.claim(self, session, task_id, actor, self.clock())

    def unclaim(self, task_id: str, actor: Actor) -> None:
        with self.db.transaction() as session:
            cases.unclaim(self, session, task_id, actor, self.clock())

    def complete(self, task_id: str, data: dict[str, Any], actor: Actor) -> CaseRef:
        """Complete a task; return its case with the user tasks it now waits on."""
        try:
            with self.db.transaction() as session:
                return cases.complete(self, session, task_id, data, actor, self.clock())
        except ConcurrentUpdate:
            with self.db.transaction(write=False) as session:
                task = session.get(UserTask, task_id)
                if task is not None and task.state != "ready":
                    raise TaskAlreadyCompleted(task_id, task.completed_by, task.state) from None
            raise

    def retry_incident(self, case_id: int, actor: Actor) -> str:
        with self.db.transaction() as session:
            return cases.retry_incident(self, session, case_id, actor, self.clock()).status

    def pause(self, case_id: int, reason: str, actor: Actor) -> CaseRef:
        """N-4: stop the case's deadline clock while it waits on the customer."""
        with self.db.transaction() as session:
            return deadlines.pause(self, session, case_id, reason, actor, self.clock())

    def resume(self, case_id: int, actor: Actor) -> CaseRef:
        """N-4: restart the deadline clock with the time each deadline had left."""
        with self.db.transaction() as session:
            return deadlines.resume(self, session, case_id, actor, self.clock())

    def extend(self, case_id: int, working_days: int, reason: str, actor: Actor,
               element_id: str | None = None) -> CaseRef:
        """N-4: move the case's deadlines by working days for a reason told to the customer."""
        with self.db.transaction() as session:
            return deadlines.extend(self, session, case_id, working_days, reason, actor, self.clock(), element_id)

    def calendar_overrides(self) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as session:
            return [{"date": o.day.isoformat(), "workday": o.workday, "note": o.note, "changed_by": o.changed_by,
                     "changed_at": o.changed_at.isoformat()} for o in deadlines.list_overrides(session)]

    def set_calendar_override(self, day, workday: bool, note: str, actor: Actor) -> None:
        with self.db.transaction() as session:
            deadlines.set_override(self, session, day, workday, note, actor, self.clock())

    def remove_calendar_override(self, day, actor: Actor) -> None:
        with self.db.transaction() as session:
            deadlines.remove_override(self, session, day, actor)

    def business_calendar(self):
        """Return the business calendar in force (the rules plus the administrators' overrides)."""
        with self.db.transaction(write=False) as session:
            return self.calendar(session)

    def holiday_coverage(self):
        """Tell how far statutory holidays are known and whether next year's notice is due (at the clock's today)."""
        calendar = self.business_calendar()
        return holiday_coverage(calendar, self.clock().astimezone(calendar.tz).date())

    def detect_crises(self, rules_path=None) -> list[int]:
        """C-2: start the crisis process for categories over the warning thresholds (once per category and day)."""
        from ..settings import Settings

        rules = crisis.load_crisis_rules(rules_path or Settings.from_env().path("crisis.toml"))
        return crisis.detect_crises(self, rules, self.clock())

    def fire_due_timers(self, now=None) -> dict[str, int]:
        return cases.fire_due_timers(self, now or self.clock())

    # --- reading ---

    def actor(self, username: str) -> Actor:
        with self.db.transaction(write=False) as session:
            return queries.actor_for(session, username)

    def inbox(self, actor: Actor, **filters: Any) -> list[UserTask]:
        with self.db.transaction(write=False) as session:
            return queries.inbox(session, actor, **filters)

    def task(self, task_id: str) -> UserTask:
        with self.db.transaction(write=False) as session:
            task = session.get(UserTask, task_id)
            if task is None:
                raise NotFound(f"task {task_id} does not exist")
            return task

    def case(self, case_id: int) -> CaseDetail:
        with self.db.transaction(write=False) as session:
            return queries.case_detail(session, case_id)

    def executed_path(self, case_id: int) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as session:
            return queries.executed_path(session, case_id)

    # --- people ---

    def add_user(self, username: str, display_name: str, groups: list[str], password_hash: str | None = None,
                 locale: str = "zh_CN") -> None:
        """Create or update a person and replace their group memberships."""
        with self.db.transaction() as session:
            organisation.save_account(session, username, display_name, groups, password_hash, locale)

    # --- the staff UI and API: reads with permission rules (web/) ---

    def account(self, username: str) -> dict[str, Any] | None:
        with self.db.transaction(write=False) as session:
            return staff.account(session, username)

    def set_locale(self, username: str, locale: str) -> None:
        with self.db.transaction() as session:
            staff.set_locale(session, username, locale)

    def task_for(self, task_id: str, actor: Actor) -> UserTask:
        """Return a task the actor may see (candidate, assignee, completer, admin); PermissionDenied otherwise."""
        with self.db.transaction(write=False) as session:
            return staff.task_for(session, task_id, actor)

    def case_for(self, case_id: int, actor: Actor) -> CaseDetail:
        """Return a case the actor started, works on or oversees; PermissionDenied otherwise."""
        with self.db.transaction(write=False) as session:
            return staff.case_for(session, case_id, actor)

    def my_cases(self, actor: Actor, limit: int = 50) -> list:
        with self.db.transaction(write=False) as session:
            return staff.my_cases(session, actor, limit)

    def start_form(self, key: str) -> list[dict[str, Any]]:
        with self.db.transaction(write=False) as session:
            return staff.start_form_of(session, key)

    def version_xml(self, version_id: int) -> bytes:
        with self.db.transaction(write=False) as session:
            return staff.version_xml(session, version_id)

    def running_counts(self) -> dict[int, int]:
        with self.db.transaction(write=False) as session:
            return staff.running_counts(session)


    # --- organisation and deductions (S-1..S-8) ---

    def load_organisation(self, changes: dict[str, Any], hash_password=None) -> dict[str, Any]:
        """Add or replace the units and people of an organisation mapping (``data/organisation.toml``)."""
        with self.db.transaction() as session:
            return organisation.load(session, changes, hash_password or organisation.hash_password)

    def organisation(self) -> dict[str, Any]:
        with self.db.transaction(write=False) as session:
            return organisation.describe(organisation.read(session))

    def known_groups(self) -> list[str]:
        with self.db.transaction(write=False) as session:
            return sorted(organisation.known_groups(session))

    def add_person(self, person: dict[str, Any], actor: Actor, hash_password=None) -> None:
        """Add a person for an administrator; FormInvalid names each bad field and nothing is stored."""
        with self.db.transaction() as session:
            organisation.add_person(session, person, actor, hash_password or organisation.hash_password)

    def set_groups(self, username: str, groups: list[str], actor: Actor) -> None:
        """Replace a person's groups for an administrator; unknown groups are refused."""
        with self.db.transaction() as session:
            organisation.set_groups(session, username, groups, actor)

    def ledger_entries(self, month: str | None = None, case_id: int | None = None) -> list:
        with self.db.transaction(write=False) as session:
            return ledger.entries(session, month, case_id)

    def ledger_totals(self, month: str, by: str = "person") -> list[dict[str, Any]]:
        """Return the month's deductions summed per person, department or KPI (exact decimals)."""
        with self.db.transaction(write=False) as session:
            return ledger.totals(session, month, by)

    def export_ledger_csv(self, month: str, by: str | None = None) -> str:
        with self.db.transaction(write=False) as session:
            return ledger.export_csv(session, month, by)

    def reverse_entry(self, entry_id: int, actor: Actor, reason: str):
        """Append a reversal of a ledger entry (a correction is never an edit, S-7)."""
        with self.db.transaction() as session:
            return ledger.reverse(session, entry_id, actor, reason, self.clock())
