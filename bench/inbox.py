"""``python -m bench.inbox``: the inbox's first page with 100,000 and 1,000,000 open tasks, for a person who sees
10 tasks and one who sees 10,000.

The open tasks are rows of the real tables, written in batches of plain
``insert(user_task)`` so that the schema's triggers index each one as a command's
insert would (``task_candidate``); they belong to 1,000 real case rows. Most go to
200 other groups; ``small`` holds 10 of them and ``big`` 10,000. After each size
the tables are vacuumed and analysed, as autovacuum would do on a live site. Then
each person's first page (50 tasks by due time, with the counts per group) is read
``--reads`` times through the service layer (``ProcessEngine.reads.inbox``) and
through the API in process (``GET /api/tasks`` with a bearer token, Flask's test
client: no network), and a second page with its cursor; the table gives p50 and p95.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import generate_password_hash

from engine.services import Actor, ProcessEngine, TopicRegistry, system_clock
from engine.store.models import Case, UserTask

from .persisted import fresh_database

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc)
PEOPLE = {"small.user": ("small", 10), "big.user": ("big", 10_000)}
OTHER_GROUPS = 200
BATCH = 20_000


def _task(case_id: int, group: str, n: int, rng: random.Random) -> dict:
    due = None if n % 10 == 0 else T0 + timedelta(minutes=rng.randrange(60 * 24 * 30))
    return {"id": str(uuid.UUID(int=rng.getrandbits(128))), "case_id": case_id, "element_id": "handle",
            "name": "Handle complaint", "lane": None, "candidate_groups": [group], "candidate_users": [],
            "assignee": None, "state": "ready", "form": [], "documentation": "", "created_at": T0 + timedelta(
                seconds=n), "due_at": due, "claimed_at": None, "ended_at": None, "completed_by": None}


class Generator:
    """Writes open tasks into a database, in batches, through the real tables (the triggers index them)."""

    def __init__(self, db, version_id: int):
        self.db, self.rng, self.written = db, random.Random(14), 0
        with db.transaction() as session:
            self.case_ids = list(session.execute(insert(Case).returning(Case.id), [{
                "process_key": "bench_inbox", "version_id": version_id, "pinned": {"bench_inbox": version_id},
                "status": "running", "category": None, "revision": 1, "state": "", "data": {}, "incident": None,
                "started_by": "bench", "started_at": T0, "updated_at": T0, "ended_at": None}
                for _ in range(1000)]).scalars())

    def add(self, groups: list[str]) -> None:
        """Add one open task per entry of ``groups`` (its candidate group)."""
        for start in range(0, len(groups), BATCH):
            rows = [_task(self.case_ids[(self.written + i) % len(self.case_ids)], group, self.written + i, self.rng)
                    for i, group in enumerate(groups[start:start + BATCH])]
            with self.db.transaction() as session:
                session.execute(insert(UserTask.__table__), rows)
            self.written += len(rows)

    def grow_to(self, total: int) -> None:
        """Add tasks of the other groups until ``total`` are open."""
        self.add([f"g{(self.written + i) % OTHER_GROUPS:03d}" for i in range(total - self.written)])

    def tidy(self) -> None:
        """Vacuum and analyse the task tables, as autovacuum would after such a load."""
        if self.db.is_sqlite:
            return
        with self.db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE user_task")
            conn.exec_driver_sql("VACUUM ANALYZE task_candidate")


def timed(call, reads: int) -> tuple[float, float]:
    """Return p50 and p95 in ms of ``reads`` calls (after three untimed ones)."""
    for _ in range(3):
        call()
    ms = []
    for _ in range(reads):
        started = time.perf_counter()
        call()
        ms.append(1000 * (time.perf_counter() - started))
    return statistics.median(ms), statistics.quantiles(ms, n=20, method="inclusive")[18]


def measure(engine: ProcessEngine, client, tokens: dict[str, str], reads: int) -> list[tuple]:
    """Return (person, way, tasks seen, p50, p95) for each person's first page, second page and API page."""
    rows = []
    for username, (group, count) in PEOPLE.items():
        actor = Actor(username, frozenset({group}))
        first = engine.reads.inbox(actor)
        if first.claimable[group] != count:
            raise RuntimeError(f"{username} sees {first.claimable[group]} tasks, not {count}")
        header = {"Authorization": f"Bearer {tokens[username]}"}

        def api():
            answer = client.get("/api/tasks", headers=header)
            if answer.status_code != 200:
                raise RuntimeError(f"GET /api/tasks answered {answer.status_code}")

        ways = [("service", lambda: engine.reads.inbox(actor)), ("api", api)]
        if first.next_cursor:
            ways.append(("page 2", lambda: engine.reads.inbox(actor, cursor=first.next_cursor)))
        rows += [(username, way, count, *timed(call, reads)) for way, call in ways]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="open tasks, comma-separated (default 100k, 1M)")
    parser.add_argument("--reads", type=int, default=200, help="timed reads per person and way (default 200)")
    parser.add_argument("--databases", default="postgresql")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"bench.inbox: first page (50 by due time, counts per group) with {', '.join(f'{s:,}' for s in sizes)} "
          f"open tasks; {args.reads} timed reads each")
    head = f"{'database':<11}{'open tasks':>11} {'person':<10}{'sees':>7} {'way':<8}{'p50 ms':>8}{'p95 ms':>8}"
    print(head)
    print("-" * len(head))
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        try:
            with fresh_database(kind) as db:
                run(kind, db, sizes, args.reads)
        except (SQLAlchemyError, OSError) as exc:
            print(f"{kind:<11}SKIPPED: {str(exc).splitlines()[0]}")
    return 0


def run(kind: str, db, sizes: list[int], reads: int) -> None:
    from web import create_app

    engine = ProcessEngine(db, system_clock, TopicRegistry())
    [version] = engine.admin.deploy(_BPMN, "bench_inbox.bpmn")
    for username, (group, _count) in PEOPLE.items():
        engine.accounts.add_user(username, username, [group], generate_password_hash("pw", "pbkdf2:sha256:1000"))
    client = create_app({"ENGINE": engine, "TESTING": True, "SECRET_KEY": "bench"}).test_client()
    tokens = {u: client.post("/api/token", json={"username": u, "password": "pw"}).get_json()["token"]
              for u in PEOPLE}
    generator = Generator(db, version.version_id)
    generator.add([group for group, count in PEOPLE.values() for _ in range(count)])
    for size in sizes:
        started = time.perf_counter()
        generator.grow_to(size)
        generator.tidy()
        print(f"{kind:<11}{size:>11,} (generated and analysed in {time.perf_counter() - started:.0f} s)")
        for username, way, count, p50, p95 in measure(engine, client, tokens, reads):
            print(f"{kind:<11}{size:>11,} {username:<10}{count:>7,} {way:<8}{p50:>8.2f}{p95:>8.2f}")


_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="bench">
  <bpmn:process id="bench_inbox" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="handle"/>
    <bpmn:userTask id="handle" name="Handle complaint"/>
    <bpmn:sequenceFlow id="f2" sourceRef="handle" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

if __name__ == "__main__":
    sys.exit(main())
