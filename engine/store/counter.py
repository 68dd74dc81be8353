"""Count what a unit of work sends to the database: statements, transactions begun and commits, per thread."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine

TXN_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@dataclass
class Tally:
    """What the counted code sent: statements (BEGIN/COMMIT/SAVEPOINT sent as SQL excluded), transactions, commits."""

    statements: int = 0
    transactions: int = 0
    commits: int = 0


class SqlCounter:
    """Listens on engines; ``counting()`` yields the tally of what the current thread sends meanwhile."""

    def __init__(self, engines: list[Engine]):
        self._local = threading.local()
        for engine in engines:
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "begin", self._begin)
            event.listen(engine, "commit", self._commit)

    def _current(self) -> Tally | None:
        return getattr(self._local, "tally", None)

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        tally = self._current()
        if tally is not None and statement.lstrip().split(None, 1)[0].upper() not in TXN_CONTROL:
            tally.statements += 1

    def _begin(self, conn) -> None:
        tally = self._current()
        if tally is not None:
            tally.transactions += 1

    def _commit(self, conn) -> None:
        tally = self._current()
        if tally is not None:
            tally.commits += 1

    @contextlib.contextmanager
    def counting(self) -> Iterator[Tally]:
        """Count this thread's statements, transactions and commits until the block ends."""
        tally = self._local.tally = Tally()
        try:
            yield tally
        finally:
            self._local.tally = None
