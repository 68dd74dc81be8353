"""``python -m bench.server``: what the PostgreSQL server itself spends on one persisted case, statement by statement.

It runs cases of ``bench/perf.bpmn`` through the engine (as ``python -m bench``
does) with ``log_min_duration_statement = 0`` set on the engine's own
connections (a superuser setting; the bench connects as ``postgres``), then
reads the durations the server logged for exactly those backends (by process
id) from its log file and sums them per case, by statement and by protocol
phase (parse, bind, execute; a simple-protocol ``statement`` such as COMMIT).

These are the server's own timings: no network, no client, no Python. Their
sum bounds a persisted case on this server from below, whatever any client
does, and is printed beside the persisted case and bare SpiffWorkflow measured
in the same run. Logging each statement costs the server a little itself, so
the sum leans high by a few percent.

The log file: Debian's ``/var/log/postgresql/postgresql-<major>-main.log``
unless ``--log`` names another; its line prefix must contain ``[%p]`` (the
Debian default ``%m [%p] %q%u@%d``).
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from .persisted import PersistedRunner, fresh_database
from .workload import DEFAULT_BPMN, BareRunner

_LINE = re.compile(r"\[(\d+)\].*?duration: ([\d.]+) ms {2}(parse|bind|execute|statement)[^:]*: (.*)")


def statement_kind(sql: str) -> str:
    """Name a statement by its verb and table: 'UPDATE case_instance', 'INSERT audit_event', 'COMMIT'."""
    words = sql.replace("(", " ").split()
    if not words:
        return "?"
    verb = words[0].upper()
    table = {"INSERT": 2, "UPDATE": 1, "DELETE": 2}.get(verb)
    if table is not None and len(words) > table:
        return f"{verb} {words[table]}"
    upper = [w.upper() for w in words]
    if verb == "SELECT" and "FROM" in upper[:-1]:
        return f"SELECT {words[upper.index('FROM') + 1]}"
    if verb == "SELECT" and len(words) > 1 and "." in words[1]:
        return f"SELECT {words[1].split('.')[0]}"        # the log shows a statement's first line only
    return verb


def parse_log(lines, pids: set[int]) -> tuple[Counter, Counter]:
    """Sum the logged durations (ms) of the given backends by (statement kind, phase); count the statements."""
    ms, count = Counter(), Counter()
    for line in lines:
        match = _LINE.search(line)
        if match is None or int(match.group(1)) not in pids:
            continue
        kind = statement_kind(match.group(4))
        ms[kind, match.group(3)] += float(match.group(2))
        if match.group(3) in ("execute", "statement"):
            count[kind] += 1
    return ms, count


def default_log(db) -> Path:
    with db.write_engine.connect() as conn:
        major = conn.exec_driver_sql("SHOW server_version").scalar().split(".")[0]
    return Path(f"/var/log/postgresql/postgresql-{major}-main.log")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--log", type=Path, help="the server's log file (default: Debian's for its version)")
    args = parser.parse_args(argv)
    bpmn = DEFAULT_BPMN.read_bytes()
    bare = BareRunner(bpmn)
    try:
        with fresh_database("postgresql") as db:
            return measure(db, bpmn, bare, args)
    except (SQLAlchemyError, OSError) as exc:
        # make bench goes on to its other parts: say why this one measured nothing.
        print(f"bench.server: measured nothing: {str(exc).splitlines()[0]}")
        return 0


def measure(db, bpmn: bytes, bare: BareRunner, args: argparse.Namespace) -> int:
    """Run the cases on ``db`` with statement logging; print the server's own time per case."""
    runner = PersistedRunner(db, bpmn)
    for _ in range(20):
        runner.run_case()
        bare.run_case()
    log = args.log or default_log(db)
    with log.open("rb"):
        pass                        # readable? (before the cases, not after them)
    db.dispose()                    # fresh connections, each announcing its backend and logging its statements
    pids: set[int] = set()

    @event.listens_for(db.write_engine, "connect")
    def _log_statements(dbapi_connection, _record):
        pids.add(dbapi_connection.info.backend_pid)
        dbapi_connection.execute("SET log_min_duration_statement = 0")

    for _ in range(5):
        runner.run_case()           # the new connections warm up (psycopg prepares after 5 runs)
    with log.open("rb") as f:
        f.seek(0, 2)
        start = f.tell()
    started = time.perf_counter()
    for _ in range(args.cases):
        runner.run_case()
    persisted_ms = 1000 * (time.perf_counter() - started) / args.cases
    started = time.perf_counter()
    for _ in range(args.cases):
        bare.run_case()
    bare_ms = 1000 * (time.perf_counter() - started) / args.cases
    time.sleep(0.2)                 # the server's stderr reaches the file a moment after the statement
    with log.open("rb") as f:
        f.seek(start)
        lines = f.read().decode("utf-8", "replace").splitlines()
    ms, count = parse_log(lines, pids)
    if not ms:
        print(f"no durations of backends {sorted(pids)} in {log}: is log_line_prefix without [%p]?")
        return 2
    n = args.cases
    kinds = sorted({k for k, _ in ms}, key=lambda k: -sum(v for (kk, _), v in ms.items() if kk == k))
    print(f"bench.server: {n} cases of {DEFAULT_BPMN.name}, server-side durations from {log} (backends {sorted(pids)})")
    head = f"{'statement':<28}{'per case':>9}{'parse us':>10}{'bind us':>9}{'execute us':>11}{'total us':>10}"
    print(head)
    print("-" * len(head))
    for kind in kinds:
        phases = {p: 1000 * ms[kind, p] / n for p in ("parse", "bind", "execute", "statement")}
        total = sum(phases.values())
        print(f"{kind:<28}{count[kind] / n:>9.1f}{phases['parse']:>10.0f}{phases['bind']:>9.0f}"
              f"{phases['execute'] + phases['statement']:>11.0f}{total:>10.0f}")
    server_ms = sum(ms.values()) / n
    print(f"server ms per case {server_ms:.2f}; persisted ms per case {persisted_ms:.2f} (with the logging); "
          f"bare ms per case {bare_ms:.2f}")
    print(f"server share of a persisted case {server_ms / persisted_ms:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
