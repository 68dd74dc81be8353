"""``python -m bench``: cases/s through the service layer with persistence beside bare SpiffWorkflow.

For each database (a fresh migrated SQLite temp file, a fresh PostgreSQL schema)
it deploys the BPMN once, warms up, then for each repeat runs a batch of bare
SpiffWorkflow cases, a batch of in-memory engine-runtime cases and a batch of
persisted cases, interleaved, and reports medians. SQL statements are counted
with SQLAlchemy's ``before_cursor_execute`` on each engine of the database.
The last line is ``ratio X.XX``: the lowest persisted/bare ratio over the
databases that ran.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from .persisted import PHASES, PersistedRunner, fresh_database
from .workload import DEFAULT_BPMN, USER_TASKS_PER_CASE, BareRunner, RuntimeRunner

COMMANDS_PER_CASE = 1 + USER_TASKS_PER_CASE      # start_case + one complete per user task


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--cases", type=int, default=300, metavar="N", help="cases per batch (default 300)")
    parser.add_argument("--repeat", type=int, default=3, metavar="R", help="batches per side; the median is reported (default 3)")
    parser.add_argument("--bpmn", type=Path, default=DEFAULT_BPMN, help="BPMN file (default bench/perf.bpmn)")
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (PostgreSQL from BENCH_DATABASE_URL, "
                             "TEST_DATABASE_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    parser.add_argument("--warmup", type=int, default=20, metavar="W", help="uncounted cases per side first (default 20)")
    parser.add_argument("--inbox", action="store_true",
                        help="read the inbox before each task (a clerk's screen) instead of using the READY tasks "
                             "start_case/complete return")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, profile one persisted batch per database with cProfile (to stderr)")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = sorted(set(args.databases) - {"sqlite", "postgresql"})
    if unknown or not args.databases:
        parser.error(f"--databases takes sqlite and/or postgresql, not {','.join(unknown) or 'nothing'}")
    if args.cases < 1 or args.repeat < 1 or args.warmup < 0:
        parser.error("--cases and --repeat must be >= 1, --warmup >= 0")
    return args


def batch(runner, cases: int) -> float:
    """Run ``cases`` cases; return the wall-clock seconds."""
    started = time.perf_counter()
    for _ in range(cases):
        runner.run_case()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bpmn = args.bpmn.read_bytes()
    n, reps = args.cases, args.repeat
    print(f"bench: {args.bpmn.name}, {n} cases x {reps} repeats (median), warm-up {args.warmup}, "
          f"{'inbox read before each task' if args.inbox else 'next tasks from the command results'}; "
          f"Python {platform.python_version()}, SpiffWorkflow {version('SpiffWorkflow')}, "
          f"SQLAlchemy {version('SQLAlchemy')}")
    bare, runtime = BareRunner(bpmn), RuntimeRunner(bpmn)
    batch(bare, args.warmup)
    batch(runtime, args.warmup)
    rows, skipped = [], {}
    with contextlib.ExitStack() as stack:
        runners: dict[str, PersistedRunner] = {}
        for kind in args.databases:
            try:
                db = stack.enter_context(fresh_database(kind))
                runners[kind] = PersistedRunner(db, bpmn, args.bpmn.name, inbox=args.inbox)
            except (SQLAlchemyError, OSError) as exc:
                skipped[kind] = str(exc).splitlines()[0]
        for runner in runners.values():
            batch(runner, args.warmup)
            runner.counter.reset()
            runner.case_ids.clear()
        times = {kind: {"bare": [], "runtime": [], "persisted": []} for kind in runners}
        for _ in range(reps):
            for kind, runner in runners.items():          # interleaved: bare, runtime, persisted
                times[kind]["bare"].append(batch(bare, n))
                times[kind]["runtime"].append(batch(runtime, n))
                times[kind]["persisted"].append(batch(runner, n))
        for kind, runner in runners.items():
            blob = runner.check_and_measure(runner.case_ids)
            rows.append(summarize(kind, runner, times[kind], n, reps, blob))
        if args.profile:
            from .profile import profile_batches

            profile_batches(runners, n, batch)
    report(rows, skipped, runtime.state_bytes, args.inbox)
    if not rows:
        print("no database ran", file=sys.stderr)
        return 2
    if skipped:
        print(f"WARNING: the ratio below covers only {', '.join(r['db'] for r in rows)}; "
              f"skipped: {', '.join(skipped)}")
    print(f"ratio {min(r['ratio'] for r in rows):.2f}")
    return 1 if skipped else 0


def summarize(kind: str, runner: PersistedRunner, times: dict[str, list[float]], n: int, reps: int,
              blob: int) -> dict:
    cases = n * reps
    rate = {side: n / statistics.median(values) for side, values in times.items()}
    total = runner.counter.total()
    tallies = runner.counter.tallies
    return {
        "db": kind, "persisted": rate["persisted"], "bare": rate["bare"], "runtime": rate["runtime"],
        "ratio": rate["persisted"] / rate["bare"],
        "stmts": (total.statements - total.txn_control) / cases, "stmts_all": total.statements / cases,
        "commits": total.commits / cases, "checkouts": total.checkouts / cases, "blob": blob,
        "ms": {p: 1000 * tallies[p].seconds / max(tallies[p].calls, 1) for p in PHASES},
        "ms_command": 1000 * (tallies["start"].seconds + tallies["complete"].seconds)
                      / max(tallies["start"].calls + tallies["complete"].calls, 1),
        "phases": {p: ((tallies[p].statements - tallies[p].txn_control) / cases,
                       tallies[p].statements / cases) for p in PHASES},
        "verbs": {v: c / cases for v, c in sorted(total.verbs.items())},
        "spread": {side: (n / max(v), n / min(v)) for side, v in times.items()},
    }


def report(rows: list[dict], skipped: dict[str, str], runtime_blob: int, inbox: bool = False) -> None:
    head = (f"{'database':<11}{'persisted c/s':>14}{'bare c/s':>10}{'ratio':>7}{'stmts/case':>12}"
            f"{'incl txn':>9}{'commits/case':>13}{'state B':>9}{'ms/command':>11}{'runtime c/s':>12}")
    print()
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['db']:<11}{r['persisted']:>14.1f}{r['bare']:>10.1f}{r['ratio']:>7.2f}{r['stmts']:>12.1f}"
              f"{r['stmts_all']:>9.1f}{r['commits']:>13.1f}{r['blob']:>9d}"
              f"{r['ms_command']:>11.2f}{r['runtime']:>12.1f}")
    for kind, reason in skipped.items():
        print(f"{kind:<11}SKIPPED: {reason}")
    print()
    for r in rows:
        ms = ", ".join(f"{p} {r['ms'][p]:.2f}" for p in PHASES)
        phases = ", ".join(f"{p} {a:.1f} ({b:.1f})" for p, (a, b) in r["phases"].items())
        verbs = ", ".join(f"{v} {c:.1f}" for v, c in r["verbs"].items())
        spread = ", ".join(f"{side} {lo:.1f}-{hi:.1f}" for side, (lo, hi) in r["spread"].items())
        print(f"{r['db']}: ms per call: {ms}; statements per case by phase (incl txn): {phases}")
        print(f"{r['db']}: statements by verb per case: {verbs}; pool checkouts per case {r['checkouts']:.1f}")
        print(f"{r['db']}: cases/s range over repeats: {spread}")
    print(f"notes: stmts/case excludes BEGIN/COMMIT/SAVEPOINT/RELEASE/ROLLBACK sent as statements; 'incl txn' "
          f"includes them. A case = start_case + {USER_TASKS_PER_CASE} x ({'inbox read + ' if inbox else ''}"
          f"complete); ms/command is "
          f"the mean of start_case and complete. runtime c/s = engine.bpmn.runtime in memory with one dump() per "
          f"command, no database (its final state {runtime_blob} B).")


if __name__ == "__main__":
    sys.exit(main())
