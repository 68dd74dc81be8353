"""The driver floor: the rows a persisted case writes, through the bare DBAPI driver (no SQLAlchemy, no engine).

One case of the engine writes, in one transaction per command (start_case and
each complete): the case row (inserted at start, then updated with its
serialized state under a revision check), the user task it ends, that task's
candidate rows (deleted), the user task it opens and its candidate rows, and
the command's audit events. ``record_case`` runs one case through the engine's
runtime in memory, once, to learn those rows (states, data, tasks, events);
``FloorRunner`` then writes the same rows for every case with ``sqlite3`` or
``psycopg`` alone, on the same migrated schema, with the same connection
settings (SQLite: WAL, synchronous=NORMAL, BEGIN IMMEDIATE; PostgreSQL: BEGIN,
the statements and COMMIT of a command in one psycopg pipeline, one round trip,
the start's new case id one more: the fastest way the driver can send them; the
engine's plain SQLAlchemy store sends one statement per round trip). Where the schema
keeps ``task_candidate`` by triggers on ``user_task``, the triggers write the
candidate rows, as they do for the engine, and the floor does not. The engine's
reads (the latest versions at start, the task and its case before a complete)
are left out: this is the cost of durable writes, a bound no engine can beat
while it commits once per command.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterator

from engine.bpmn import Host, Instance, make_bundle
from engine.store.db import Database

from .workload import FORMS, START_DATA, USER_TASKS_PER_CASE, noop_result, process_key


@dataclass(frozen=True)
class CommandRows:
    """What one command writes, learned from the engine's runtime: the case's new state and the rows around it."""

    state: str
    status: str
    data: str                           # JSON of the case data
    ends_task: bool                     # ends the user task the previous command opened
    opens: dict[str, Any] | None        # the user task it opens (columns without id, case and times)
    events: tuple[tuple, ...]           # audit rows: (task_id, element_id, name, type, flow_id, lifecycle, data)


def record_case(bpmn: bytes, actor: str) -> list[CommandRows]:
    """Run one case in memory with the engine's runtime and return the rows each of its commands writes."""
    key = process_key(bpmn)
    bundle = make_bundle(key, {key: bpmn})
    host = Host({}, lambda topic, params, data, element_id: noop_result(**params))
    now = datetime.now(timezone.utc)
    instance = Instance.start(bundle, {"first_ask_owner": actor, **START_DATA})
    step = instance.advance(host, now)
    commands = [_rows(instance, step, ends_task=False)]
    while step.status == "running":
        view = step.ready[0]
        step = instance.complete(host, now, view.task_id, FORMS[view.element_id])
        commands.append(_rows(instance, step, ends_task=True))
    if step.status != "completed" or len(commands) != 1 + USER_TASKS_PER_CASE:
        raise RuntimeError(f"recorded case ended {step.status} after {len(commands)} commands: {step.error}")
    return commands


def _rows(instance: Instance, step, ends_task: bool) -> CommandRows:
    new = step.new_ready()
    if len(new) > 1 or len(step.gone_ready()) != ends_task or step.timers:
        raise RuntimeError("the floor writes one user task per command and no timers; this BPMN does more")
    opens = None
    if new:
        v = new[0]
        opens = {"element_id": v.element_id, "name": v.name, "lane": v.lane,
                 "candidate_groups": json.dumps(v.candidate_groups), "candidate_users": json.dumps(v.candidate_users),
                 "form": json.dumps(v.form), "documentation": v.documentation,
                 "candidates": [("group", g) for g in v.candidate_groups] + [("user", u) for u in v.candidate_users]}
    events = tuple((e.task_id, e.element_id, e.name, e.element_type, e.flow_id, e.lifecycle, json.dumps(e.data))
                   for e in step.events)
    return CommandRows(instance.dump(), step.status, json.dumps(step.data), ends_task, opens, events)


_INSERT_CASE = ("INSERT INTO case_instance (process_key, version_id, pinned, status, category, revision, state, data, "
                "incident, started_by, started_at, updated_at, ended_at) "
                "VALUES (?, ?, ?, 'running', NULL, 0, '', ?, NULL, ?, ?, ?, NULL) RETURNING id")
_UPDATE_CASE = ("UPDATE case_instance SET status = ?, category = NULL, revision = ?, state = ?, data = ?, "
                "incident = NULL, updated_at = ?, ended_at = ? WHERE id = ? AND revision = ?")
_END_TASK = "UPDATE user_task SET state = 'completed', ended_at = ?, completed_by = ? WHERE id = ?"
_DELETE_CANDIDATES = "DELETE FROM task_candidate WHERE task_id = ?"
_INSERT_TASK = ("INSERT INTO user_task (id, case_id, element_id, name, lane, candidate_groups, candidate_users, "
                "assignee, state, form, documentation, created_at, due_at, claimed_at, ended_at, completed_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 'ready', ?, ?, ?, NULL, NULL, NULL, NULL)")
_INSERT_CANDIDATE = "INSERT INTO task_candidate (task_id, kind, name) VALUES (?, ?, ?)"
_INSERT_EVENT = ("INSERT INTO audit_event (case_id, version_id, task_id, element_id, element_name, element_type, "
                 "flow_id, lifecycle, actor, at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def driver_connection(db: Database) -> Any:
    """A bare ``sqlite3`` or ``psycopg`` connection to ``db`` in autocommit mode, with the engine's SQLite pragmas:
    its transactions are the explicit ones of ``durable_transaction``, as the engine sends them."""
    if db.is_sqlite:
        conn = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
        for pragma in ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        return conn
    import psycopg

    return psycopg.connect(db.url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True)


@contextlib.contextmanager
def durable_transaction(conn: Any, sqlite: bool) -> Iterator[None]:
    """One command's transaction: BEGIN IMMEDIATE ... COMMIT on SQLite; on PostgreSQL BEGIN, the statements and
    COMMIT in one pipeline (one round trip: the least the driver can do)."""
    if sqlite:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("COMMIT")
        return
    with conn.pipeline():
        conn.execute("BEGIN")
        yield
        conn.execute("COMMIT")


class FloorRunner:
    """Writes a persisted case's rows with the bare driver, one transaction per command."""

    def __init__(self, db: Database, bpmn: bytes, actor: str = "bench"):
        self.commands = record_case(bpmn, actor)
        self.actor = actor
        self.sqlite = db.is_sqlite
        self.statements = self.commits = 0
        self.case_ids: list[int] = []
        self.conn = driver_connection(db)
        if self.sqlite:
            self.sql = dict(_STATEMENTS)
        else:
            self.sql = {name: sql.replace("?", "%s") for name, sql in _STATEMENTS.items()}
            self.sql["triggers"] = ("SELECT count(*) FROM information_schema.triggers "
                                    "WHERE event_object_table = 'user_task' AND trigger_schema = current_schema()")
        self.key = process_key(bpmn)
        self.version_id = self.conn.execute(self.sql["version"], (self.key,)).fetchone()[0]
        self.candidates_by_trigger = self.conn.execute(self.sql["triggers"]).fetchone()[0] > 0
        self.pinned = json.dumps({self.key: self.version_id})

    def _transaction(self):
        return durable_transaction(self.conn, self.sqlite)

    def _now(self) -> Any:
        now = datetime.now(timezone.utc)
        # As the engine's UTCDateTime stores it: naive UTC text on SQLite, timestamptz on PostgreSQL.
        return str(now.replace(tzinfo=None)) if self.sqlite else now

    def run_case(self) -> None:
        conn, sql, actor = self.conn, self.sql, self.actor
        case_id = open_task = None
        task_ids: dict[str, str] = {}        # element id -> this case's user task id, for the audit rows
        for revision, cmd in enumerate(self.commands):
            now = self._now()
            with self._transaction():
                if case_id is None:
                    # Pipelined, fetching the new id waits for it: the one extra round trip of a start.
                    case_id = conn.execute(sql["insert_case"], (self.key, self.version_id, self.pinned, cmd.data,
                                                                actor, now, now)).fetchone()[0]
                    self.statements += 1
                    self.case_ids.append(case_id)
                ended = now if cmd.status == "completed" else None
                update = conn.execute(sql["update_case"], (cmd.status, revision + 1, cmd.state, cmd.data, now, ended,
                                                           case_id, revision))
                self.statements += 1
                if cmd.ends_task:
                    conn.execute(sql["end_task"], (now, actor, open_task))
                    self.statements += 1
                    if not self.candidates_by_trigger:
                        conn.execute(sql["delete_candidates"], (open_task,))
                        self.statements += 1
                if cmd.opens is not None:
                    t = cmd.opens
                    open_task = task_ids[t["element_id"]] = str(uuid.uuid4())
                    conn.execute(sql["insert_task"], (open_task, case_id, t["element_id"], t["name"], t["lane"],
                                                      t["candidate_groups"], t["candidate_users"], t["form"],
                                                      t["documentation"], now))
                    self.statements += 1
                    if not self.candidates_by_trigger:
                        conn.cursor().executemany(sql["insert_candidate"],
                                                  [(open_task, k, n) for k, n in t["candidates"]])
                        self.statements += 1
                conn.cursor().executemany(sql["insert_event"], [
                    (case_id, self.version_id, task_ids.get(e[1], e[0]), *e[1:6], actor, now, e[6])
                    for e in cmd.events])
                self.statements += 1
            self.commits += 1
            if update.rowcount != 1:
                raise RuntimeError(f"floor case {case_id}: the revision check failed")

    def reset(self) -> None:
        self.statements = self.commits = 0
        self.case_ids.clear()

    def close(self) -> None:
        self.conn.close()


class CommitProbe:
    """A "case" that writes nothing but its commits: four durable transactions of one small row each.

    Each transaction is what the cheapest possible command would send: BEGIN,
    an update of one 16-byte row and COMMIT (SQLite: BEGIN IMMEDIATE under the
    engine's pragmas; PostgreSQL: one pipeline, one round trip and a WAL flush).
    bare / (bare + this) bounds the ratio of any client that commits once per
    command, whatever it writes; it lives in its own table, dropped by ``close``.
    """

    TABLE = "bench_commit_probe"

    def __init__(self, db: Database, commits_per_case: int = 1 + USER_TASKS_PER_CASE):
        self.sqlite = db.is_sqlite
        self.commits_per_case = commits_per_case
        self.commits = 0
        self.conn = driver_connection(db)
        self.conn.execute(f"CREATE TABLE {self.TABLE} (id integer PRIMARY KEY, n integer NOT NULL)")
        self.conn.execute(f"INSERT INTO {self.TABLE} (id, n) VALUES (1, 0)")
        self.update = f"UPDATE {self.TABLE} SET n = n + 1 WHERE id = 1"

    def run_case(self) -> None:
        for _ in range(self.commits_per_case):
            with durable_transaction(self.conn, self.sqlite):
                self.conn.execute(self.update)
        self.commits += self.commits_per_case

    def close(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.TABLE}")
        self.conn.close()


_STATEMENTS = {
    "version": "SELECT max(id) FROM process_version WHERE key = ?", "insert_case": _INSERT_CASE,
    "triggers": "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'user_task'",
    "update_case": _UPDATE_CASE, "end_task": _END_TASK, "delete_candidates": _DELETE_CANDIDATES,
    "insert_task": _INSERT_TASK, "insert_candidate": _INSERT_CANDIDATE, "insert_event": _INSERT_EVENT,
}
