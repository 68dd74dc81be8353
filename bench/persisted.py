"""The persisted side: fresh migrated databases, SQL statement counters and the service-layer client."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import DBAPIError

from engine.services import ProcessEngine, TopicRegistry, system_clock
from engine.store.db import Database
from engine.store.migrate import upgrade
from engine.store.models import AuditEvent, Case, TaskCandidate, UserTask

from .workload import ACTOR, FORMS, START_DATA, USER_TASKS_PER_CASE, bench_noop, process_key

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TXN_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}
PHASES = ("start", "lookup", "complete")


def postgres_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL


@contextlib.contextmanager
def fresh_database(kind: str) -> Iterator[Database]:
    """Yield a migrated ``Database`` in a temp SQLite file or a fresh PostgreSQL schema; remove it afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="bench-")
        db = Database(f"sqlite:///{folder}/bench.db")
        try:
            upgrade(db.write_engine)
            yield db
        finally:
            db.dispose()
            shutil.rmtree(folder, ignore_errors=True)
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database {kind!r} (sqlite, postgresql)")
    base = postgres_url()
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            shared_pg_trgm(conn)
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in base else "?"
        db = Database(f"{base}{sep}options=-csearch_path%3D{schema}")
        try:
            upgrade(db.write_engine)
            yield db
        finally:
            db.dispose()
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


def shared_pg_trgm(conn) -> None:
    """Install pg_trgm in public once, before a throwaway schema (a bench's, a test's) is migrated.

    Left to migration 0012, the extension lands in the first throwaway schema that upgrades; dropping that
    schema (CASCADE) then takes pg_trgm, and the trigram indexes of every other schema, from under the runs
    beside it ("operator class was concurrently dropped", deadlocked DROP SCHEMA). Two installing at once: one
    wins.
    """
    try:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
    except DBAPIError:
        pass    # another run's CREATE won the race (or this role may not: the migration then warns and scans)


@dataclass
class Tally:
    """What one phase (start, lookup, complete) cost over the counted commands."""

    calls: int = 0
    seconds: float = 0.0
    statements: int = 0             # every statement a cursor executed, transaction control included
    txn_control: int = 0            # BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE sent as statements
    commits: int = 0                # DBAPI commits (the "commit" connection event)
    checkouts: int = 0              # pool checkouts (with pool_pre_ping each is one more round trip)
    verbs: Counter = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.calls += other.calls
        self.seconds += other.seconds
        self.statements += other.statements
        self.txn_control += other.txn_control
        self.commits += other.commits
        self.checkouts += other.checkouts
        self.verbs.update(other.verbs)


class StatementCounter:
    """Counts statements, commits and pool checkouts on every engine of a ``Database``, per phase.

    Each client thread counts into its own tallies (the connection events run in
    the thread that executes), so concurrent clients neither race on a counter
    nor count each other's statements; ``tallies`` and ``total()`` add them up.
    """

    def __init__(self, db: Database):
        self._local = threading.local()
        self._lock = threading.Lock()
        self._generation = 0
        self._threads: list[dict[str, Tally]] = []
        for engine in db.engines:
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._commit)
            event.listen(engine, "checkout", self._checkout)

    @property
    def current(self) -> Tally | None:
        return getattr(self._local, "current", None)

    def _mine(self) -> dict[str, Tally]:
        local = self._local
        if getattr(local, "generation", None) != self._generation:
            local.tallies = {p: Tally() for p in PHASES}
            local.generation = self._generation
            with self._lock:
                self._threads.append(local.tallies)
        return local.tallies

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        current = self.current
        if current is not None:
            verb = statement.lstrip().split(None, 1)[0].upper()
            current.statements += 1
            current.txn_control += verb in TXN_CONTROL
            current.verbs[verb] += 1

    def _commit(self, conn):
        current = self.current
        if current is not None:
            current.commits += 1

    def _checkout(self, dbapi_connection, record, proxy):
        current = self.current
        if current is not None:
            current.checkouts += 1

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        tally = self._mine()[name]
        self._local.current = tally
        started = time.perf_counter()
        try:
            yield
        finally:
            tally.seconds += time.perf_counter() - started
            tally.calls += 1
            self._local.current = None

    def reset(self) -> None:
        """Forget what was counted so far (after the warm-up, between the serial and the concurrent runs)."""
        with self._lock:
            self._generation += 1
            self._threads = []

    @property
    def tallies(self) -> dict[str, Tally]:
        """Return each phase's tally summed over the client threads."""
        out = {p: Tally() for p in PHASES}
        with self._lock:
            threads = list(self._threads)
        for mine in threads:
            for p, t in mine.items():
                out[p].add(t)
        return out

    def total(self) -> Tally:
        out = Tally()
        for t in self.tallies.values():
            out.add(t)
        return out


class PersistedRunner:
    """A client of ``ProcessEngine``: start a case, then complete each user task it waits on.

    By default the client takes the next task from what ``start_case``/``complete``
    return (the case's READY tasks, as an API client or a case page does). With
    ``inbox=True`` it reads the inbox before each task instead, as a clerk's
    screen does between two tasks.
    """

    def __init__(self, db: Database, bpmn: bytes, file_name: str = "perf.bpmn", inbox: bool = False):
        topics = TopicRegistry()
        topics.add("bench_noop", bench_noop)
        self.db = db
        self.engine = ProcessEngine(db, system_clock, topics)
        self.engine.admin.deploy(bpmn, file_name)
        self.key = process_key(bpmn)
        self.counter = StatementCounter(db)
        self.case_ids: list[int] = []
        self.inbox = inbox

    def run_case(self) -> None:
        phase = self.counter.phase
        with phase("start"):
            result = self.engine.cases.start(self.key, START_DATA, ACTOR)
        self.case_ids.append(result.id)
        for _ in range(USER_TASKS_PER_CASE):
            if self.inbox:
                with phase("lookup"):
                    ready = [t for t in self.engine.reads.inbox(ACTOR).tasks if t.case_id == result.id]
            else:
                ready = list(result.open_tasks)
            if len(ready) != 1:
                raise RuntimeError(f"case {result.id}: expected one READY task, found {len(ready)}")
            task = ready[0]
            with phase("complete"):
                result = self.engine.cases.complete(task.id, FORMS[task.element_id], ACTOR)

    def check_and_measure(self, case_ids: list[int]) -> int:
        """Check the cases completed with every row in place; return the mean size in bytes of their final ``state``.

        Besides the case status this checks what a race between client threads
        would break: each case has its user task rows, all completed, no
        candidate row left, and as many audit events as every other case.
        """
        with self.db.transaction(write=False) as session:
            rows = session.execute(select(Case.status, Case.state).where(Case.id.in_(case_ids))).all()
            tasks = dict(session.execute(select(UserTask.case_id, func.count()).where(
                UserTask.case_id.in_(case_ids), UserTask.state == "completed").group_by(UserTask.case_id)).all())
            events = dict(session.execute(select(AuditEvent.case_id, func.count()).where(
                AuditEvent.case_id.in_(case_ids)).group_by(AuditEvent.case_id)).all())
            candidates = session.scalar(select(func.count()).select_from(TaskCandidate).join(
                UserTask, UserTask.id == TaskCandidate.task_id).where(UserTask.case_id.in_(case_ids)))
        bad = [status for status, _ in rows if status != "completed"]
        if bad or len(rows) != len(case_ids) or len(set(case_ids)) != len(case_ids):
            raise RuntimeError(f"{len(bad)} of {len(case_ids)} persisted cases did not complete: {bad[:3]}")
        short = [cid for cid in case_ids if tasks.get(cid) != USER_TASKS_PER_CASE]
        if short or candidates or len(set(events.values())) != 1 or len(events) != len(case_ids):
            raise RuntimeError(f"persisted cases with missing rows: {len(short)} without {USER_TASKS_PER_CASE} "
                               f"completed tasks, {candidates} candidate rows left, audit events per case "
                               f"{sorted(set(events.values()))}")
        return round(sum(len(state.encode()) for _, state in rows) / len(rows))


def server_settings(db: Database) -> str:
    """Return the settings that decide what a commit waits for (SQLite pragmas, PostgreSQL's SHOW)."""
    with db.write_engine.connect() as conn:
        if db.is_sqlite:
            journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            sqlite_version = conn.exec_driver_sql("SELECT sqlite_version()").scalar()
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            return f"journal_mode={journal}, synchronous={names.get(level, level)}, SQLite {sqlite_version}"
        shown = {name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                 for name in ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay", "server_version")}
    version = shown.pop("server_version").split()[0]
    return ", ".join(f"{k}={v}" for k, v in shown.items()) + f", PostgreSQL {version}"
