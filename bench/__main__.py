"""``python -m bench``: cases/s through the service layer with persistence beside bare SpiffWorkflow.

For each database (a fresh migrated SQLite temp file, a fresh PostgreSQL schema)
it deploys the BPMN once and warms up. Then the sides take turns in rounds of
``--round`` cases (bare SpiffWorkflow, the engine's runtime in memory, the
persisted engine, the driver floor) until each side has run ``--cases`` x
``--repeat`` cases. A side's cases/s is the median over its rounds, and the
ratio is the median over rounds of persisted/bare measured in the same round:
the machine's drift (on the 2-core class bare alone moves by a third from one
minute to the next) then weighs on both sides of each ratio alike. SQL
statements are counted with SQLAlchemy's ``before_cursor_execute`` on each
engine of the database. The last line is ``ratio X.XX``: how close the engine
comes to the fastest possible client of the same durable writes, the lowest over
the databases of persisted/bare divided by the floor's ceiling (bare/(bare +
floor)), round by round: (bare ms + floor ms) / persisted ms, one client at a time.

Two more measurements follow the serial table. With ``--clients K`` (K > 1),
K client threads share the same ``ProcessEngine`` and run their own cases at
once (``bench.concurrent``); the table "concurrent clients" reports their
aggregate cases/s beside the serial bare figure, and the line
``concurrent ratio (K clients) X.XX`` comes before the final ``ratio``. The
"floor" table takes its two sides from the same rounds: the floor
(``bench.floor``) writes the rows a persisted case writes with the bare driver
alone, four transactions per case; the lean client (``bench.lean``) runs the
engine's runtime and writes its rows with the bare driver, no SQLAlchemy and
no services: its ratio is the most any client of this runtime reaches on this
machine while it commits once per command.
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

from psycopg import Error as DriverError
from sqlalchemy.exc import SQLAlchemyError

from .concurrent import concurrent_batch
from .floor import CommitProbe, FloorRunner
from .lean import LeanRunner
from .persisted import PHASES, PersistedRunner, fresh_database, server_settings
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
    parser.add_argument("--round", type=int, default=25, metavar="C",
                        help="cases per side before the next side takes its turn (default 25)")
    parser.add_argument("--inbox", action="store_true",
                        help="read the inbox before each task (a clerk's screen) instead of using the READY tasks "
                             "start_case/complete return")
    parser.add_argument("--clients", type=int, default=1, metavar="K",
                        help="also run K client threads at once on the same ProcessEngine and report their aggregate "
                             "cases/s (default 1: serial only; the final ratio stays the serial one)")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, profile one persisted batch per database with cProfile (to stderr)")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    unknown = sorted(set(args.databases) - {"sqlite", "postgresql"})
    if unknown or not args.databases:
        parser.error(f"--databases takes sqlite and/or postgresql, not {','.join(unknown) or 'nothing'}")
    if args.cases < 1 or args.repeat < 1 or args.warmup < 0 or args.clients < 1 or args.round < 1:
        parser.error("--cases, --repeat, --round and --clients must be >= 1, --warmup >= 0")
    return args


def batch(runner, cases: int) -> float:
    """Run ``cases`` cases; return the wall-clock seconds."""
    started = time.perf_counter()
    for _ in range(cases):
        runner.run_case()
    return time.perf_counter() - started


def rounds(total: int, size: int) -> list[int]:
    """Split ``total`` cases into rounds of ``size`` (the last one shorter)."""
    return [min(size, total - done) for done in range(0, total, size)]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bpmn = args.bpmn.read_bytes()
    n, reps = args.cases, args.repeat
    print(f"bench: {args.bpmn.name}, {n} cases x {reps} repeats per side, taking turns every {args.round} cases "
          f"(medians over rounds), warm-up {args.warmup}, "
          f"{'inbox read before each task' if args.inbox else 'next tasks from the command results'}; "
          f"Python {platform.python_version()}, SpiffWorkflow {version('SpiffWorkflow')}, "
          f"SQLAlchemy {version('SQLAlchemy')}")
    bare, runtime = BareRunner(bpmn), RuntimeRunner(bpmn)
    batch(bare, args.warmup)
    batch(runtime, args.warmup)
    rows, skipped = [], {}
    with contextlib.ExitStack() as stack:
        runners: dict[str, PersistedRunner] = {}
        floors: dict[str, FloorRunner] = {}
        leans: dict[str, LeanRunner] = {}
        probes: dict[str, CommitProbe] = {}
        for kind in args.databases:
            try:
                db = stack.enter_context(fresh_database(kind))
                runners[kind] = PersistedRunner(db, bpmn, args.bpmn.name, inbox=args.inbox)
                floors[kind] = FloorRunner(db, bpmn)
                stack.callback(floors[kind].close)
                leans[kind] = LeanRunner(db, bpmn)
                stack.callback(leans[kind].close)
                probes[kind] = CommitProbe(db)
                stack.callback(probes[kind].close)
                print(f"{kind}: {server_settings(db)}")
            except (SQLAlchemyError, OSError, DriverError) as exc:
                runners.pop(kind, None)
                skipped[kind] = str(exc).splitlines()[0]
        for kind, runner in runners.items():
            batch(runner, args.warmup)
            batch(floors[kind], args.warmup)
            batch(leans[kind], args.warmup)
            batch(probes[kind], args.warmup)
            runner.counter.reset()
            runner.case_ids.clear()
            floors[kind].reset()
            leans[kind].reset()
        # Cases/s of each side in each round, per database: the sides take turns every --round cases.
        rates = {kind: {"bare": [], "runtime": [], "persisted": [], "floor": [], "lean": [], "commits": []}
                 for kind in runners}
        for size in rounds(n * reps, args.round):
            for kind, runner in runners.items():
                for side, run in (("bare", bare), ("runtime", runtime), ("persisted", runner),
                                  ("floor", floors[kind]), ("lean", leans[kind]), ("commits", probes[kind])):
                    rates[kind][side].append(size / batch(run, size))
        for kind, runner in runners.items():
            blob = runner.check_and_measure(runner.case_ids)
            runner.check_and_measure(floors[kind].case_ids)         # the floor wrote whole cases too
            runner.check_and_measure(leans[kind].case_ids)          # and so did the lean client
            floor, lean, commits = rates[kind].pop("floor"), rates[kind].pop("lean"), rates[kind].pop("commits")
            rows.append(summarize(kind, runner, rates[kind], n * reps, blob))
            bare_rates = rates[kind]["bare"]
            rows[-1]["floor"] = summarize_floor(floors[kind], floor, n * reps)
            rows[-1]["floor"]["ceiling"] = ceiling(floor, bare_rates)
            rows[-1]["of_ceiling"] = of_ceiling(rates[kind]["persisted"], bare_rates, floor)
            rows[-1]["probe"] = {"ms": 1000 / statistics.median(commits), "ceiling": ceiling(commits, bare_rates)}
            rows[-1]["lean"] = {"ms": 1000 / statistics.median(lean),
                                "ratio": statistics.median(x / b for x, b in zip(lean, rates[kind]["bare"]))}
        crowd = concurrent_rows(args, runners, bare, {r["db"]: r for r in rows}) if args.clients > 1 else []
        if args.profile:
            from .profile import profile_batches

            profile_batches(runners, n, batch)
    report(rows, skipped, runtime.state_bytes, args.inbox)
    if crowd:
        report_concurrent(crowd, args.clients)
    report_floor(rows)
    if not rows:
        print("no database ran", file=sys.stderr)
        return 2
    print(f"bare ratio {min(r['ratio'] for r in rows):.2f} (persisted/bare, serial)")
    if crowd:
        print(f"concurrent ratio ({args.clients} clients) {min(c['ratio'] for c in crowd):.2f}")
    if skipped:
        print(f"WARNING: the ratio below covers only {', '.join(r['db'] for r in rows)}; "
              f"skipped: {', '.join(skipped)}")
    print(f"ratio {min(r['of_ceiling'] for r in rows):.2f}")
    return 1 if skipped else 0


def concurrent_rows(args: argparse.Namespace, runners: dict[str, PersistedRunner], bare: BareRunner,
                    serial: dict[str, dict]) -> list[dict]:
    """Run the persisted cases (and bare, to show the GIL) with ``args.clients`` threads; summarize per database."""
    n, reps, k = args.cases, args.repeat, args.clients
    for runner in runners.values():
        concurrent_batch(runner, max(args.warmup, k), k)       # opens the pool's extra connections untimed
        runner.counter.reset()
        runner.case_ids.clear()
    rates = {kind: {"bare": [], "persisted": []} for kind in runners}
    for _ in range(reps):
        for kind, runner in runners.items():
            rates[kind]["bare"].append(n / concurrent_batch(bare, n, k))
            rates[kind]["persisted"].append(n / concurrent_batch(runner, n, k))
    out = []
    for kind, runner in runners.items():
        runner.check_and_measure(runner.case_ids)
        row = summarize(kind, runner, rates[kind], n * reps, 0)
        out.append({**row, "bare_threads": row["bare"], "bare": serial[kind]["bare"],
                    "ratio": row["persisted"] / serial[kind]["bare"],
                    "speedup": row["persisted"] / serial[kind]["persisted"]})
    return out


def ceiling(writes: list[float], bare: list[float]) -> float:
    """The ratio of a client that costs bare SpiffWorkflow plus these writes, nothing more: the median over rounds
    of bare ms / (bare ms + writes ms), both measured in the same round (cases/s in, so w / (w + b))."""
    return statistics.median(w / (w + b) for w, b in zip(writes, bare))


def of_ceiling(persisted: list[float], bare: list[float], floor: list[float]) -> float:
    """The ratio over its floor ceiling: the median over rounds of (bare ms + floor ms) / persisted ms (cases/s in,
    so p/b + p/f): 1.0 would be a client that costs bare SpiffWorkflow and the floor's writes, nothing more."""
    return statistics.median(p / b + p / f for p, b, f in zip(persisted, bare, floor))


def summarize_floor(floor: FloorRunner, rates: list[float], cases: int) -> dict:
    return {"ms": 1000 / statistics.median(rates), "stmts": floor.statements / cases,
            "commits": floor.commits / cases, "by_trigger": floor.candidates_by_trigger,
            "events": sum(len(c.events) for c in floor.commands)}


def summarize(kind: str, runner: PersistedRunner, rates: dict[str, list[float]], cases: int, blob: int) -> dict:
    """Summarize one database: each side's median cases/s over its rounds (or batches), the median ratio of
    persisted to bare measured in the same round, the statement counts of the ``cases`` persisted cases."""
    rate = {side: statistics.median(values) for side, values in rates.items()}
    total = runner.counter.total()
    tallies = runner.counter.tallies
    return {
        "db": kind, "persisted": rate["persisted"], "bare": rate["bare"], "runtime": rate.get("runtime", 0.0),
        "ratio": statistics.median(p / b for p, b in zip(rates["persisted"], rates["bare"])),
        "stmts": (total.statements - total.txn_control) / cases, "stmts_all": total.statements / cases,
        "commits": total.commits / cases, "checkouts": total.checkouts / cases, "blob": blob,
        "ms": {p: 1000 * tallies[p].seconds / max(tallies[p].calls, 1) for p in PHASES},
        "ms_command": 1000 * (tallies["start"].seconds + tallies["complete"].seconds)
                      / max(tallies["start"].calls + tallies["complete"].calls, 1),
        "phases": {p: ((tallies[p].statements - tallies[p].txn_control) / cases,
                       tallies[p].statements / cases) for p in PHASES},
        "verbs": {v: c / cases for v, c in sorted(total.verbs.items())},
        "spread": {side: (min(v), max(v)) for side, v in rates.items()},
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
        print(f"{r['db']}: cases/s range over rounds: {spread}")
    print(f"notes: stmts/case excludes BEGIN/COMMIT/SAVEPOINT/RELEASE/ROLLBACK sent as statements; 'incl txn' "
          f"includes them. A case = start_case + {USER_TASKS_PER_CASE} x ({'inbox read + ' if inbox else ''}"
          f"complete); ms/command is "
          f"the mean of start_case and complete. runtime c/s = engine.bpmn.runtime in memory with one dump() per "
          f"command, no database (its final state {runtime_blob} B). Each c/s is the median over rounds; ratio is "
          f"the median over rounds of persisted/bare in the same round, so it may differ a little from the quotient "
          f"of the two medians.")


def report_concurrent(crowd: list[dict], clients: int) -> None:
    head = (f"{'database':<11}{'clients':>8}{'persisted c/s':>14}{'x serial':>9}{'bare c/s':>10}{'ratio':>7}"
            f"{'bare threads c/s':>17}{'stmts/case':>12}{'incl txn':>9}{'commits/case':>13}{'ms/command':>11}")
    print()
    print(f"concurrent clients: {clients} threads, one ProcessEngine")
    print(head)
    print("-" * len(head))
    for c in crowd:
        print(f"{c['db']:<11}{clients:>8}{c['persisted']:>14.1f}{c['speedup']:>9.2f}{c['bare']:>10.1f}"
              f"{c['ratio']:>7.2f}{c['bare_threads']:>17.1f}{c['stmts']:>12.1f}{c['stmts_all']:>9.1f}"
              f"{c['commits']:>13.1f}{c['ms_command']:>11.2f}")
    for c in crowd:
        spread = ", ".join(f"{side} {lo:.1f}-{hi:.1f}" for side, (lo, hi) in c["spread"].items())
        print(f"{c['db']}: {clients} clients, cases/s range over batches: {spread}; every case completed with its "
              f"task and audit rows")
    print(f"notes: persisted c/s = cases of all {clients} clients / wall time; x serial = against the serial "
          f"persisted c/s above; ratio = persisted c/s / the serial bare c/s. Bare SpiffWorkflow does not gain from "
          f"threads under the GIL (bare threads c/s = the same bare cases on {clients} threads), so the serial "
          f"figure stays the denominator. ms/command is each command's latency, waits included: SQLite writers "
          f"queue on BEGIN IMMEDIATE (busy_timeout), PostgreSQL writers overlap and their commits may share a "
          f"WAL flush.")


def report_floor(rows: list[dict]) -> None:
    head = (f"{'database':<11}{'floor ms/case':>14}{'stmts/case':>11}{'commits/case':>13}{'bare ms':>8}"
            f"{'runtime ms':>11}{'lean ms':>8}{'persisted ms':>13}{'runtime+floor':>14}{'lean ratio':>11}{'ratio':>7}")
    print()
    print("floor and lean client: the rows a persisted case writes through the bare driver (sqlite3 / psycopg), one "
          "transaction per command; the lean client also reads and runs the engine's runtime")
    print(head)
    print("-" * len(head))
    for r in rows:
        f, lean = r["floor"], r["lean"]
        bare_ms, runtime_ms, persisted_ms = 1000 / r["bare"], 1000 / r["runtime"], 1000 / r["persisted"]
        print(f"{r['db']:<11}{f['ms']:>14.2f}{f['stmts']:>11.1f}{f['commits']:>13.1f}{bare_ms:>8.2f}"
              f"{runtime_ms:>11.2f}{lean['ms']:>8.2f}{persisted_ms:>13.2f}{bare_ms / (runtime_ms + f['ms']):>14.2f}"
              f"{lean['ratio']:>11.2f}{r['ratio']:>7.2f}")
    for r in rows:
        by = "the schema's triggers on user_task" if r["floor"]["by_trigger"] else "the floor's own statements"
        print(f"{r['db']}: {r['floor']['events']} audit events per case; task_candidate rows written by {by}")
    print("notes: floor = the writes alone, with rows recorded once (no engine); runtime+floor = bare ms / (runtime "
          "ms + floor ms), the two measured apart in loops of their own; lean = each command reads its task, runs "
          "the engine's runtime (sandbox, views, audit events, dump) and writes its rows with the bare driver, "
          "no SQLAlchemy and no services (bench/lean.py); lean ratio = the median over rounds of lean/bare: the "
          "most a client of this runtime reaches on this machine. persisted ms - lean ms is what SQLAlchemy and "
          "the services cost.")

    head = (f"{'database':<11}{'bare ms':>8}{'commits ms':>11}{'ceiling':>8}{'floor ms':>9}{'ceiling':>8}"
            f"{'lean ratio':>11}{'ratio':>7}{'of ceiling':>11}")
    print()
    print("ceilings: the ratio of a client that cost nothing beyond bare SpiffWorkflow and its writes")
    print(head)
    print("-" * len(head))
    for r in rows:
        c, f = r["probe"], r["floor"]
        print(f"{r['db']:<11}{1000 / r['bare']:>8.2f}{c['ms']:>11.2f}{c['ceiling']:>8.2f}{f['ms']:>9.2f}"
              f"{f['ceiling']:>8.2f}{r['lean']['ratio']:>11.2f}{r['ratio']:>7.2f}{r['of_ceiling']:>11.2f}")
    print(f"notes: commits = {COMMANDS_PER_CASE} transactions per case that each update one 16-byte row "
          "(bench.floor.CommitProbe): the least a client pays that commits once per command, whatever else it "
          "writes; floor = the rows a persisted case writes (table above); each ceiling = bare ms / (bare ms + "
          "those ms), the median over rounds of the two measured in the same round; of ceiling = ratio / the floor's "
          "ceiling, round by round: the final line's figure.")


if __name__ == "__main__":
    sys.exit(main())
