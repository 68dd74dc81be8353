"""``python -m bench.http``: whole cases of ``bench/perf.bpmn`` through the JSON API, served by gunicorn on PostgreSQL.

It makes a fresh PostgreSQL schema, starts gunicorn (``--workers``, default 2)
on the product's app with ``COMPLAINTS_SQL_COUNTS=1`` (each response tells the
statements, transactions and commits the server sent to answer it, counted by a
SQLAlchemy event listener in the worker), and lets ``--clients`` threads (default 4)
each sign in once and run cases: ``POST /api/cases``, then ``POST
/api/tasks/<id>/complete`` for each task the previous answer names. It prints
cases/s, p50/p95 per call, SQL per case counted in the server, and
``http/service``: HTTP cases/s over the service layer's (one client of
``ProcessEngine`` on the same database, in the same run).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Iterator

from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import generate_password_hash

from .persisted import PersistedRunner, fresh_database
from .workload import DEFAULT_BPMN, FORMS, START_DATA, USER_TASKS_PER_CASE, process_key

ROOT = Path(__file__).parents[1]
COUNTS = ("X-SQL-Statements", "X-SQL-Transactions", "X-SQL-Commits")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(db_url: str, workers: int) -> Iterator[int]:
    """Run gunicorn on ``bench.httpapp`` against ``db_url``; yield its port once it answers."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=db_url, COMPLAINTS_SQL_COUNTS="1", COMPLAINTS_SECRET_KEY="bench-http")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                               f"127.0.0.1:{port}", "bench.httpapp:create()"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if Client(port).call("GET", "/health")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)     # the server is starting
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


class Client:
    """One API client: a bearer token and a connection per call (gunicorn's sync workers close each one)."""

    def __init__(self, port: int, token: str | None = None):
        self.port, self.token = port, token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict, dict[str, int]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None, headers)
            response = conn.getresponse()
            answer = json.loads(response.read() or b"null")
            return response.status, answer, {h: int(response.getheader(h, 0)) for h in COUNTS}
        finally:
            conn.close()


class Tally:
    """Latencies per kind of call and the server's SQL counts, summed over the counted cases."""

    def __init__(self):
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.sql: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def add(self, kind: str, seconds: float, counts: dict[str, int]) -> None:
        with self.lock:
            self.ms[kind].append(1000 * seconds)
            for name, n in counts.items():
                self.sql[name] += n


def run_case(client: Client, key: str, tally: Tally | None) -> None:
    """Start one case and complete each task the answers name; raise on any unexpected answer."""
    started = time.perf_counter()
    status, answer, counts = client.call("POST", "/api/cases", {"process_key": key, "data": START_DATA})
    if status != 201:
        raise RuntimeError(f"start answered {status}: {answer}")
    if tally:
        tally.add("start", time.perf_counter() - started, counts)
    for _ in range(USER_TASKS_PER_CASE):
        task = answer["open_tasks"][0]
        started = time.perf_counter()
        status, answer, counts = client.call("POST", f"/api/tasks/{task['id']}/complete",
                                             {"data": FORMS[task["element_id"]]})
        if status != 200:
            raise RuntimeError(f"complete answered {status}: {answer}")
        if tally:
            tally.add("complete", time.perf_counter() - started, counts)
    if answer["status"] != "completed":
        raise RuntimeError(f"case {answer['id']} ended {answer['status']}")


def drive(port: int, key: str, clients: int, cases: int, tally: Tally | None) -> float:
    """Run ``cases`` cases over ``clients`` threads, each signed in once; return the wall-clock seconds."""
    status, answer, _ = Client(port).call("POST", "/api/token", {"username": "bench", "password": "bench"})
    if status != 200:
        raise RuntimeError(f"sign-in answered {status}: {answer}")
    shares = [cases // clients + (i < cases % clients) for i in range(clients)]
    errors: list[BaseException] = []

    def work(share: int) -> None:
        client = Client(port, answer["token"])
        try:
            for _ in range(share):
                run_case(client, key, tally)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(share,), daemon=True) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} of {clients} clients failed: {errors[0]!r}") from errors[0]
    return time.perf_counter() - started


def service_rate(db, bpmn: bytes, cases: int) -> tuple[float, float]:
    """Return (cases/s, statements per case) of one client of the service layer on ``db``."""
    runner = PersistedRunner(db, bpmn)
    for _ in range(10):
        runner.run_case()
    runner.counter.reset()
    started = time.perf_counter()
    for _ in range(cases):
        runner.run_case()
    seconds = time.perf_counter() - started
    total = runner.counter.total()
    return cases / seconds, (total.statements - total.txn_control) / cases


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300, help="counted cases (default 300)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    bpmn = DEFAULT_BPMN.read_bytes()
    key = process_key(bpmn)
    with contextlib.ExitStack() as stack:
        try:
            db = stack.enter_context(fresh_database("postgresql"))
        except (SQLAlchemyError, OSError) as exc:
            print(f"bench.http: measured nothing: {str(exc).splitlines()[0]}")     # make bench goes on
            return 0
        setup = PersistedRunner(db, bpmn)           # deploys perf.bpmn with the bench_noop topic
        setup.engine.accounts.add_user("bench", "Bench", ["bench"],
                                       generate_password_hash("bench", "pbkdf2:sha256:1000"))
        with served(db.url, args.workers) as port:
            drive(port, key, args.clients, args.warmup, None)
            tally = Tally()
            seconds = drive(port, key, args.clients, args.cases, tally)
        service, service_statements = service_rate(db, bpmn, args.cases)
    http_rate = args.cases / seconds
    per_case = {name: n / args.cases for name, n in tally.sql.items()}
    print(f"bench.http: {args.cases} cases of {DEFAULT_BPMN.name} through the JSON API, gunicorn {args.workers} "
          f"workers on PostgreSQL, {args.clients} concurrent clients (warm-up {args.warmup})")
    head = f"{'call':<10}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}"
    print(head)
    print("-" * len(head))
    for kind in ("start", "complete"):
        values = tally.ms[kind]
        print(f"{kind:<10}{len(values):>6}{statistics.median(values):>9.2f}{percentile(values, 95):>9.2f}")
    print(f"http cases/s {http_rate:.1f}; SQL per case in the server: statements {per_case['X-SQL-Statements']:.1f}, "
          f"transactions {per_case['X-SQL-Transactions']:.1f}, commits {per_case['X-SQL-Commits']:.1f}")
    print(f"service layer (one client, same database): {service:.1f} cases/s, {service_statements:.1f} statements "
          f"per case; http statements - service statements = "
          f"{per_case['X-SQL-Statements'] - service_statements:+.1f}")
    print(f"http/service {http_rate / service:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
