"""One database per application: engines, sessions and the transaction every command runs in."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///var/complaints.db"


def database_url() -> str:
    """Return ``DATABASE_URL`` from the environment, or the default SQLite file."""
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def _sqlite_engine(url: str, begin: str, **kwargs) -> Engine:
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event decide how a transaction starts (pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # On the driver cursor: exec_driver_sql would build an execution context for it, a sixth of the
        # instructions of an empty transaction (callgrind: 468k -> 395k).
        driver_execute(conn, begin)

    return engine


def driver_error(conn: Connection, error: Exception, statement: str) -> exc.DBAPIError:
    """Return the SQLAlchemy exception ``exec_driver_sql`` would raise for a driver error; a lost connection is
    invalidated first, so that the pool never hands it out again."""
    lost = conn.dialect.is_disconnect(error, conn.connection.driver_connection, None)
    if lost:
        conn.invalidate(error)
    return exc.DBAPIError.instance(statement, None, error, conn.dialect.loaded_dbapi.Error,
                                   connection_invalidated=lost, dialect=conn.dialect)


def driver_execute(conn: Connection, statement: str) -> None:
    """Run a parameterless statement on the driver cursor of ``conn``, telling ``before_cursor_execute``
    listeners (counters, logs) as ``exec_driver_sql`` would, and raising its exceptions."""
    cursor = conn.connection.driver_connection.cursor()
    try:
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, cursor, statement, (), None, False)
        cursor.execute(statement)
    except conn.dialect.loaded_dbapi.Error as error:
        raise driver_error(conn, error, statement) from error
    finally:
        cursor.close()


# Connection-info keys of the PostgreSQL transaction handling below.
BEGIN_PENDING = "complaints.begin_pending"
COMMITTED = "complaints.committed"


class StatementAfterCommit(RuntimeError):
    """A statement was sent after the COMMIT its transaction already carried (``Batch.run(commit=True)``)."""


def _postgresql_engine(url: str, **kwargs) -> Engine:
    """An engine whose transactions begin with the first statement's round trip, not one of their own.

    psycopg begins a transaction itself before the first statement and, even in
    pipeline mode, waits for that BEGIN's own round trip (it syncs after it).
    Here the driver runs in autocommit mode and the transaction is ours, as
    SQLAlchemy's recipe for pysqlite does it: the "begin" event marks it pending
    and the first statement sends BEGIN ahead of itself, in the same pipeline
    when ``Batch`` runs it (one round trip for both). COMMIT and ROLLBACK stay
    SQLAlchemy's: psycopg sends them when the server says a transaction is open
    and does nothing when none is, so a transaction that ran no statement costs
    no round trip, and one whose last ``Batch`` carried its COMMIT
    (``Batch.run(commit=True)``) costs none more.
    """
    engine = create_engine(url, **kwargs)
    if engine.dialect.driver != "psycopg":
        return engine           # another driver begins its transactions its own way

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.autocommit = True

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.info[BEGIN_PENDING] = True
        conn.info.pop(COMMITTED, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _first_statement(conn, cursor, statement, parameters, context, executemany):
        info = conn.info
        if info.get(COMMITTED):
            raise StatementAfterCommit(
                f"the transaction was committed with its last batch; not sent: {statement[:120]!r}")
        if info.pop(BEGIN_PENDING, False):
            cursor.connection.execute(b"BEGIN")      # queued ahead of the statement when in a pipeline

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _end(conn):
        if conn.invalidated:
            return              # a lost connection: its record starts afresh when the pool reconnects
        conn.info.pop(BEGIN_PENDING, None)
        conn.info.pop(COMMITTED, None)

    return engine


class Database:
    """Engines and sessions for one database URL; ``transaction()`` is the unit of work."""

    def __init__(self, url: str | None = None, echo: bool = False):
        self.url = url or database_url()
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = self.url.split("///", 1)[1] if "///" in self.url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Writers take the lock up front (BEGIN IMMEDIATE) so that two writers queue
            # instead of one failing on upgrade; readers stay deferred and never block.
            self.write_engine = _sqlite_engine(self.url, "BEGIN IMMEDIATE", echo=echo)
            self.read_engine = _sqlite_engine(self.url, "BEGIN", echo=echo)
        else:
            self.write_engine = _postgresql_engine(self.url, echo=echo, pool_recycle=1800)
            self.read_engine = self.write_engine
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)
        self._idle = threading.local()

    @property
    def engines(self) -> list[Engine]:
        return [self.write_engine] if self.read_engine is self.write_engine else [self.write_engine, self.read_engine]

    def _idle_sessions(self, write: bool) -> list[Session]:
        """Closed sessions of this thread, ready for the next transaction (one list per engine)."""
        local = self._idle
        if not hasattr(local, "sessions"):
            local.sessions = {True: [], False: []}
        return local.sessions[write]

    def take_session(self, write: bool = True) -> Session:
        """Return an idle session of this thread, or a new one; give it back with ``give_back``."""
        idle = self._idle_sessions(write)
        return idle.pop() if idle else (self._writer if write else self._reader)()

    def give_back(self, session: Session, write: bool = True) -> None:
        """Close ``session`` (objects detached, connection returned), clear its ``info`` and keep it for reuse."""
        session.close()
        session.info.clear()
        self._idle_sessions(write).append(session)

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """Open a session in one transaction: commit on success, roll back on any error.

        A closed session is empty (no objects, no connection) and SQLAlchemy lets
        it begin again; making a new one costs about as much as SQLite spends on
        a command's writes. So each thread keeps the sessions it closed and
        reuses them, their ``info`` cleared; a transaction opened inside another
        on the same thread finds none idle and gets a new one.
        """
        session = self.take_session(write)
        try:
            with session.begin():
                yield session
            for callback in session.info.pop("after_commit", []):
                callback()
        finally:
            self.give_back(session, write)

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()
