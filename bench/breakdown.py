"""``python -m bench.breakdown``: where the time of one ``complete`` goes, part by part, per database.

It runs cases of ``bench/perf.bpmn`` like ``python -m bench`` does, but completes
each task through the same calls ``CaseService.complete`` makes
(``engine.services.cases.complete`` inside ``Database.transaction()``), one after
the other on a core of its own, timing each: the session and its connection (on
SQLite that sends ``BEGIN IMMEDIATE``), the task read, the checks, the runtime
step, the ``dump()``, the writes, the commit. The parts add up to the command;
compare them with the floor of ``python -m bench``. If ``cases.complete``
changes, this sequence must follow it (a test runs both).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from engine.bpmn import validate_form
from engine.services import cases, system_clock
from engine.services.core import Core

from .persisted import PersistedRunner, fresh_database
from .workload import ACTOR, DEFAULT_BPMN, FORMS, START_DATA, USER_TASKS_PER_CASE

PARTS = ("session and connection", "task read", "checks and form", "instance and host", "runtime step", "dump",
         "writes", "commit and close")


def complete_in_parts(core: Core, task_id: str, data: dict, times: Counter):
    """Complete one task as ``cases.complete`` does, adding each part's seconds to ``times``; return the CaseRef."""
    clock = time.perf_counter
    stamps = [clock()]
    with core.db.transaction() as session:
        session.connection()
        stamps.append(clock())
        task, case = cases.task_and_case(session, task_id)
        stamps.append(clock())
        cases._open_task_for(ACTOR, task, case)
        clean, errors = validate_form(task.form, data)
        if errors:
            raise RuntimeError(f"form refused: {errors}")
        stamps.append(clock())
        now = core.clock()
        instance = core.instance(session, case)
        host = core.host(session, case.id, ACTOR, now)
        stamps.append(clock())
        step = instance.complete(host, now, task_id, clean)
        stamps.append(clock())
        state = instance.dump()
        stamps.append(clock())
        instance.dump = lambda: state          # persist writes the state dumped above
        try:
            result = core.persist(session, case, instance, step, ACTOR, now)
        finally:
            del instance.dump
        stamps.append(clock())
    stamps.append(clock())
    for part, before, after in zip(PARTS, stamps, stamps[1:]):
        times[part] += after - before
    return result


def bench_core(runner: PersistedRunner) -> Core:
    """Return a core on the runner's database with its topics (its own caches)."""
    return Core(runner.db, system_clock, runner.engine.topics)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    bpmn = DEFAULT_BPMN.read_bytes()
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        with fresh_database(kind) as db:
            runner = PersistedRunner(db, bpmn)
            for _ in range(20):
                runner.run_case()
            core = bench_core(runner)
            times: Counter = Counter()
            commands = 0
            for _ in range(args.cases):
                result = runner.engine.cases.start(runner.key, START_DATA, ACTOR)
                for _ in range(USER_TASKS_PER_CASE):
                    task = result.open_tasks[0]
                    result = complete_in_parts(core, task.id, FORMS[task.element_id], times)
                    commands += 1
                if result.status != "completed":
                    raise RuntimeError(f"case {result.id} ended {result.status}")
            total = sum(times.values())
            print(f"{kind}: one complete, {commands} timed, {1e6 * total / commands:.0f} us in all")
            for part in PARTS:
                print(f"  {part:<24}{1e6 * times[part] / commands:>8.1f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
