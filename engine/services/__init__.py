"""The engine's public API: every user interface (web, CLI, scheduler) calls ``ProcessEngine`` and nothing deeper.

``ProcessEngine`` holds the core (database, clock, topics, calendar, settings,
policy and caches) and hands out one service per audience:

- ``engine.cases``      staff at work: start a case, claim, unclaim, complete; administrators: retry, repair, cancel
- ``engine.deadlines``  time: pause, resume, extend (N-4), the timer sweep, the crisis watch, the calendar
- ``engine.admin``      process owners and administrators: deploy, versions, organisation, schema
- ``engine.ledger``     the deduction ledger: entries, totals, CSV, reversals
- ``engine.reports``    periodic reports (P-1..P-4): figures, drill-down to cases, CSV/XLSX, typical cases
- ``engine.reads``      one read per screen: inbox, task page, case page, case list, intake form, health
- ``engine.accounts``   sign-in: password check, account and groups, language, saved filters
- ``engine.oversight``  the overseeing roles' start pages: overview, department, operations (issue 18)
- ``engine.compliance`` compliance officers: conformance by replay, deadline adherence, exports (SPEC §10)

Each call is one transaction at the clock's instant and returns frozen views
(``views``), never ORM rows; ``serialize.plain`` makes JSON of them. Errors are
``ServiceError`` subclasses with a ``code`` and ``params`` (``errors``).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from sqlalchemy.orm import Session

from ..rules import calendar as cal
from ..settings import Settings
from ..store.counter import SqlCounter
from ..store.db import Database
from .accounts import AccountService
from .admin import AdminService, DeployedVersion
from .cases import CaseService
from .compliance import ComplianceService, Selection
from .clocks import Clock, FixedClock, OffsetClock, system_clock
from .core import SCHEDULER, SYSTEM, Actor, Core
from .deadlines import DeadlineService
from .errors import (
    CaseCancelled, Conflict, ConcurrentUpdate, DeploymentRefused, FieldError, FormInvalid, InvalidRequest,
    NotFound, PermissionDenied, ServiceError, TaskAlreadyCompleted, TaskClaimedByOther,
)
from .ledger import LedgerService
from .oversight import OversightService
from .policy import Policy
from .reads import ReadService
from .reports import ReportService
from .topics import TopicContext, TopicRegistry
from .views import CasePage, CaseRef, InboxPage, TaskPage, TaskRef, TaskView

__all__ = [
    "Actor", "CaseCancelled", "CasePage", "CaseRef", "Clock", "Conflict", "ConcurrentUpdate", "DeployedVersion",
    "DeploymentRefused", "FieldError", "FixedClock", "FormInvalid", "InboxPage", "InvalidRequest", "NotFound", "OffsetClock",
    "PermissionDenied", "Policy", "ProcessEngine", "SCHEDULER", "SYSTEM", "Selection", "ServiceError", "TaskAlreadyCompleted",
    "TaskClaimedByOther", "TaskPage", "TaskRef", "TaskView", "TopicContext", "TopicRegistry", "system_clock",
]


class ProcessEngine:
    """The facade: one service per audience on one core; nothing outside ``engine.services`` sees the database."""

    def __init__(self, db: Database, clock: Clock = system_clock, topics: TopicRegistry | None = None,
                 calendar: cal.BusinessCalendar | None = None, cache_instances: bool = True,
                 settings: Settings | None = None):
        self._attach(Core(db, clock, topics, calendar, cache_instances, settings))

    def _attach(self, core: Core) -> None:
        self._core = core
        self.cases = CaseService(core)
        self.deadlines = DeadlineService(core)
        self.admin = AdminService(core)
        self.ledger = LedgerService(core)
        self.reads = ReadService(core)
        self.reports = ReportService(core)
        self.accounts = AccountService(core)
        self.oversight = OversightService(core)
        self.compliance = ComplianceService(core)

    def with_clock(self, clock: Clock) -> ProcessEngine:
        """Return an engine on the same database, topics and caches whose clock is ``clock``."""
        other = object.__new__(ProcessEngine)
        other._attach(self._core.with_clock(clock))
        return other

    @property
    def clock(self) -> Clock:
        return self._core.clock

    @property
    def topics(self) -> TopicRegistry:
        return self._core.topics

    @property
    def settings(self) -> Settings:
        return self._core.settings

    @property
    def database(self) -> str:
        """Return the database URL without credentials (for logs)."""
        return self._core.db.name

    def allows(self, actor: Actor, permission: str) -> bool:
        """Tell whether the policy gives ``actor`` a permission (e.g. to show an administration link)."""
        return self._core.policy.allows(actor.groups, permission)

    def sql_counter(self) -> SqlCounter:
        """Return a counter of the statements, transactions and commits each thread sends (the HTTP bench)."""
        return SqlCounter(self._core.db.engines)

    @contextlib.contextmanager
    def store_session(self) -> Iterator[Session]:
        """Yield a read-only session on the store, for tests and diagnostics that check raw rows.

        Product code (web, CLI, scheduler) never uses it: it calls the services.
        """
        with self._core.db.transaction(write=False) as session:
            yield session

    def dispose(self) -> None:
        """Close the database connections."""
        self._core.db.dispose()
