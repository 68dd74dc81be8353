"""The persisted side: fresh migrated databases, SQL statement counters and the service-layer client."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import create_engine, event, select, text

from engine.services import ProcessEngine, TopicRegistry, system_clock
from engine.store.db import Database
from engine.store.migrate import upgrade
from engine.store.models import Case

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


class StatementCounter:
    """Counts statements, commits and pool checkouts on every engine of a ``Database``, per phase."""

    def __init__(self, db: Database):
        self.tallies = {p: Tally() for p in PHASES}
        self.current: Tally | None = None
        for engine in db.engines:
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "commit", self._commit)
            event.listen(engine, "checkout", self._checkout)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if self.current is not None:
            verb = statement.lstrip().split(None, 1)[0].upper()
            self.current.statements += 1
            self.current.txn_control += verb in TXN_CONTROL
            self.current.verbs[verb] += 1

    def _commit(self, conn):
        if self.current is not None:
            self.current.commits += 1

    def _checkout(self, dbapi_connection, record, proxy):
        if self.current is not None:
            self.current.checkouts += 1

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        tally = self.tallies[name]
        self.current = tally
        started = time.perf_counter()
        try:
            yield
        finally:
            tally.seconds += time.perf_counter() - started
            tally.calls += 1
            self.current = None

    def reset(self) -> None:
        """Forget what was counted so far (after the warm-up)."""
        self.tallies = {p: Tally() for p in PHASES}

    def total(self) -> Tally:
        out = Tally()
        for t in self.tallies.values():
            out.calls += t.calls
            out.seconds += t.seconds
            out.statements += t.statements
            out.txn_control += t.txn_control
            out.commits += t.commits
            out.checkouts += t.checkouts
            out.verbs.update(t.verbs)
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
        self.engine.deploy(bpmn, file_name)
        self.key = process_key(bpmn)
        self.counter = StatementCounter(db)
        self.case_ids: list[int] = []
        self.inbox = inbox

    def run_case(self) -> None:
        phase = self.counter.phase
        with phase("start"):
            result = self.engine.start_case(self.key, START_DATA, ACTOR)
        self.case_ids.append(result.id)
        for _ in range(USER_TASKS_PER_CASE):
            if self.inbox:
                with phase("lookup"):
                    ready = [t for t in self.engine.inbox(ACTOR) if t.case_id == result.id]
            else:
                ready = list(result.ready)
            if len(ready) != 1:
                raise RuntimeError(f"case {result.id}: expected one READY task, found {len(ready)}")
            task = ready[0]
            with phase("complete"):
                result = self.engine.complete(task.id, FORMS[task.element_id], ACTOR)

    def check_and_measure(self, case_ids: list[int]) -> int:
        """Check the cases completed; return the mean size in bytes of their final ``state`` blob."""
        with self.db.transaction(write=False) as session:
            rows = session.execute(select(Case.status, Case.state).where(Case.id.in_(case_ids))).all()
        bad = [status for status, _ in rows if status != "completed"]
        if bad or len(rows) != len(case_ids):
            raise RuntimeError(f"{len(bad)} of {len(case_ids)} persisted cases did not complete: {bad[:3]}")
        return round(sum(len(state.encode()) for _, state in rows) / len(rows))
