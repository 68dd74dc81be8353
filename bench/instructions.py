"""``python -m bench.instructions``: CPU instructions per case of each side, counted by valgrind (callgrind).

Wall-clock figures on the 2-core virtual machines this runs on drift by a third
from one minute to the next, so a change of a few percent cannot be told from
noise there. An instruction count can: callgrind counts the instructions the
client process executes in user space, the same number run after run
(PYTHONHASHSEED fixed), whatever else the machine is doing. What it leaves out
is what the count cannot see: the kernel (system calls, page cache, fsync),
waits on the database server, and the cost of cache misses. So these ratios are
the CPU side of the wall-clock ratios of ``python -m bench``, higher than them;
a change that lowers the engine's count lowers its CPU work for certain.

Each side runs in a child process under callgrind twice, with the same set-up
and warm-up: once with no counted case and once with ``--cases``; the
difference divided by ``--cases`` is its instructions per case. The sides are
those of ``python -m bench``: bare SpiffWorkflow, the engine's runtime in
memory, the floor, the lean client and the persisted engine (the last three per
database; on PostgreSQL the server's own work is not in the count).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BPMN = Path(__file__).with_name("perf.bpmn")
WARMUP = 10
MEMORY_SIDES = ("bare", "runtime")
DATABASE_SIDES = ("floor", "lean", "persisted")
_COLLECTED = re.compile(r"Collected : (\d+)")


def child(side: str, kind: str, cases: int) -> None:
    """Set up one side as ``python -m bench`` does, warm it up, then run ``cases`` cases (under callgrind).

    Imports are made here, per side: under callgrind a process starts about 50 times slower.
    """
    bpmn = BPMN.read_bytes()
    if side in MEMORY_SIDES:
        from .workload import BareRunner, RuntimeRunner

        runner = BareRunner(bpmn) if side == "bare" else RuntimeRunner(bpmn)
        for _ in range(WARMUP + cases):
            runner.run_case()
        return
    from .floor import FloorRunner
    from .lean import LeanRunner
    from .persisted import PersistedRunner, fresh_database

    with fresh_database(kind) as db:
        runner = PersistedRunner(db, bpmn)          # deploys the BPMN for the driver-only clients too
        if side != "persisted":
            runner = FloorRunner(db, bpmn) if side == "floor" else LeanRunner(db, bpmn)
        for _ in range(WARMUP + cases):
            runner.run_case()
        if side != "persisted":
            runner.close()


def count(side: str, kind: str, cases: int) -> int:
    """Return the instructions callgrind counts for a child run of ``side`` with ``cases`` counted cases."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m",
               "bench.instructions", "--child", side, "--kind", kind, "--cases", str(cases)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind run of {side} ({kind}) failed: {done.stderr.strip()[-800:]}")
    return int(found.group(1))


def per_case(side: str, kind: str, cases: int) -> float:
    return (count(side, kind, cases) - count(side, kind, 0)) / cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=30, help="counted cases per side (default 30)")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--child", choices=MEMORY_SIDES + DATABASE_SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="sqlite", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.kind, args.cases)
        return 0
    if shutil.which("valgrind") is None:
        print("bench.instructions: valgrind is not installed; no instruction counts")
        return 0
    kinds = [d.strip() for d in args.databases.split(",") if d.strip()]
    jobs = [(side, "memory") for side in MEMORY_SIDES] + [(side, kind) for kind in kinds for side in DATABASE_SIDES]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {job: pool.submit(per_case, job[0], "sqlite" if job[1] == "memory" else job[1], args.cases)
                   for job in jobs}
        counts = {job: future.result() for job, future in futures.items()}
    bare, runtime = counts[("bare", "memory")], counts[("runtime", "memory")]
    print(f"instructions per case of {BPMN.name} (callgrind, user space of the client process, "
          f"{args.cases} cases after {WARMUP} of warm-up)")
    head = f"{'database':<11}{'bare M':>8}{'runtime M':>10}{'floor M':>9}{'lean M':>8}{'persisted M':>12}" \
           f"{'bare/lean':>10}{'bare/persisted':>15}"
    print(head)
    print("-" * len(head))
    for kind in kinds:
        floor, lean, persisted = (counts[(side, kind)] for side in DATABASE_SIDES)
        print(f"{kind:<11}{bare / 1e6:>8.2f}{runtime / 1e6:>10.2f}{floor / 1e6:>9.2f}{lean / 1e6:>8.2f}"
              f"{persisted / 1e6:>12.2f}{bare / lean:>10.2f}{bare / persisted:>15.2f}")
    print("notes: M = millions of instructions per case (a start and 3 completes); the same figures run after run. "
          "The kernel, the database server and cache misses are not counted, so these ratios sit above the "
          "wall-clock ratios of python -m bench.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
