"""One database per application: its engines, its sessions and the unit of work every service runs in."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_URL = "sqlite:///var/complaints.db"
AFTER_COMMIT = "after_commit"       # session.info key: callbacks to run once the transaction is committed


def database_url() -> str:
    """Return ``DATABASE_URL`` from the environment, or the default SQLite file."""
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def _sqlite_engine(url: str, begin: str, **kwargs) -> Engine:
    """Return a SQLite engine whose transactions start with ``begin`` (SQLAlchemy's pysqlite recipe)."""
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # The driver must not begin transactions itself: the "begin" event below does, as SQLAlchemy documents.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL", "synchronous=NORMAL"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql(begin)

    return engine


class NulInText(ValueError):
    """A text parameter holds a NUL character, which PostgreSQL refuses (and SQLite would store)."""


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value or "\\u0000" in value      # raw, or escaped inside a JSON document
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    wrapped = getattr(value, "obj", None)       # psycopg's Json/Jsonb adapters hold the document unserialized
    return wrapped is not None and _has_nul(wrapped)


def _refuse_nul(conn, cursor, statement, parameters, context, executemany):
    if parameters and _has_nul(parameters):
        raise NulInText("text with a NUL character (\\0) cannot be stored or looked up")


class Database:
    """Engines and sessions for one database URL; ``transaction()`` is the unit of work and the only commit."""

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
            self.write_engine = create_engine(self.url, echo=echo, pool_recycle=1800)
            self.read_engine = self.write_engine
        for engine in self.engines:
            # The same answer on both databases: a NUL in an id, a name or case data is a bad request.
            event.listen(engine, "before_cursor_execute", _refuse_nul)
        self._writer = sessionmaker(self.write_engine, expire_on_commit=False)
        self._reader = sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def engines(self) -> list[Engine]:
        """Return the distinct SQLAlchemy engines (one on PostgreSQL, a writer and a reader on SQLite)."""
        return [self.write_engine] if self.read_engine is self.write_engine else [self.write_engine, self.read_engine]

    @property
    def name(self) -> str:
        """Return the URL without credentials, for logs and the CLI."""
        return self.url.split("@")[-1]

    @contextlib.contextmanager
    def transaction(self, write: bool = True) -> Iterator[Session]:
        """Yield a session in one transaction: commit on success, roll back on any error.

        Nothing else commits: a service may run several commands in one
        transaction. Callbacks a command registers with ``after_commit`` run
        once the commit has succeeded (never after a rollback).
        """
        try:
            with (self._writer if write else self._reader)() as session:
                with session.begin():
                    yield session
                for callback in session.info.pop(AFTER_COMMIT, []):
                    callback()
        except NulInText as exc:
            from ..services.errors import InvalidRequest       # services import the store: imported late

            raise InvalidRequest(str(exc), code="nul_character") from exc

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in self.engines:
            engine.dispose()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's transaction has committed (``Database.transaction``)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)
