"""The lean client: the engine's runtime writing its own rows through the bare driver, in one loop.

``best possible = bare / (runtime + floor)`` adds two figures measured apart,
each in a tight loop with warm CPU caches. A command does both in turn, and the
runtime step runs measurably slower right after a commit than in a loop of its
own. ``LeanRunner`` measures the two together: each command reads its task and
case, runs ``engine.bpmn.runtime.Instance`` (sandboxed expressions, step views,
audit events, one ``dump()``) and writes the rows the step produced (the case
under its revision check, the ended and the new user task, the audit events)
with ``sqlite3`` or ``psycopg`` alone, one transaction per command, as the
engine sends them (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN with the read in
one pipeline, the writes with COMMIT in another). No SQLAlchemy, no services:
no permission check, no form validation, no topic savepoint, no calendar.
What it reaches is the most any client of this runtime could reach on this
machine with one durable transaction per command.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from engine.bpmn import Host, Instance, make_bundle

from .floor import FloorRunner
from .workload import FORMS, START_DATA, noop_result, process_key

_READ = ("SELECT t.element_id, t.state, t.assignee, t.candidate_groups, t.candidate_users, t.form, "
         "c.id, c.revision, c.status FROM user_task t JOIN case_instance c ON c.id = t.case_id WHERE t.id = ?")


class LeanRunner(FloorRunner):
    """Runs cases on the engine's runtime and writes each command's rows with the bare driver."""

    def __init__(self, db, bpmn: bytes, actor: str = "bench"):
        super().__init__(db, bpmn, actor)
        key = process_key(bpmn)
        self.bundle = make_bundle(key, {key: bpmn})
        self.host = Host({}, lambda topic, params, data, element_id: noop_result(**params))
        self.read_sql = _READ if self.sqlite else _READ.replace("?", "%s")

    def _json(self, value: Any) -> Any:
        return json.loads(value) if self.sqlite else value      # psycopg hands JSON columns back decoded

    def _write(self, case_id: int, revision: int, instance: Instance, step, now: datetime) -> Any:
        conn, sql, stamp = self.conn, self.sql, self._now()
        if step.timers or step.error:
            raise RuntimeError("the lean client writes user tasks and audit events only; this BPMN does more")
        update = conn.execute(sql["update_case"], (
            step.status, revision + 1, instance.dump(), json.dumps(step.data), stamp,
            stamp if step.status == "completed" else None, case_id, revision))
        for task_id, state in step.gone_ready().items():
            conn.execute(sql["end_task"], (stamp, self.actor, task_id))
        for v in step.new_ready():
            conn.execute(sql["insert_task"], (v.task_id, case_id, v.element_id, v.name, v.lane,
                                              json.dumps(v.candidate_groups), json.dumps(v.candidate_users),
                                              json.dumps(v.form), v.documentation, stamp))
        conn.cursor().executemany(sql["insert_event"], [
            (case_id, self.version_id, e.task_id, e.element_id, e.name, e.element_type, e.flow_id, e.lifecycle,
             self.actor, stamp, json.dumps(e.data)) for e in step.events])
        self.statements += 2 + len(step.gone_ready()) + len(step.new_ready())
        self.commits += 1
        return update

    def _read(self, task_id: str) -> tuple:
        if self.sqlite:
            self.conn.execute("BEGIN IMMEDIATE")
            row = self.conn.execute(self.read_sql, (task_id,)).fetchone()
        else:
            with self.conn.pipeline():
                self.conn.execute("BEGIN")
                cursor = self.conn.execute(self.read_sql, (task_id,))
            row = cursor.fetchone()
        self.statements += 1
        if row is None or row[1] != "ready":
            raise RuntimeError(f"task {task_id} is not ready")
        return row

    def run_case(self) -> None:
        now = datetime.now(timezone.utc)
        stamp = self._now()
        with self._transaction():
            case_id = self.conn.execute(self.sql["insert_case"], (self.key, self.version_id, self.pinned,
                                                                  json.dumps(START_DATA), self.actor, stamp,
                                                                  stamp)).fetchone()[0]
            instance = Instance.start(self.bundle, dict(START_DATA))
            step = instance.advance(self.host, now)
            self._write(case_id, 0, instance, step, now)
        self.statements += 1
        self.case_ids.append(case_id)
        while step.status == "running":
            task_id = step.ready[0].task_id
            element_id, _state, _assignee, groups, users, form, _cid, revision, _status = self._read(task_id)
            self._json(groups), self._json(users), self._json(form)
            step = instance.complete(self.host, now, task_id, FORMS[element_id])
            if self.sqlite:
                update = self._write(case_id, revision, instance, step, now)
                if update.rowcount != 1:
                    raise RuntimeError("the revision check failed")
                self.conn.execute("COMMIT")
            else:
                with self.conn.pipeline():      # the writes and their COMMIT: one round trip
                    update = self._write(case_id, revision, instance, step, now)
                    self.conn.execute("COMMIT")
                if update.rowcount != 1:        # one client: a failure here is a bug of this runner
                    raise RuntimeError("the revision check failed")
        if step.status != "completed":
            raise RuntimeError(f"lean case {case_id} ended {step.status}")
