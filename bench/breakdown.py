"""``python -m bench.breakdown``: where the time of one ``complete`` goes, part by part, per database.

It runs cases of ``bench/perf.bpmn`` like ``python -m bench`` does, but completes
each task through the same calls ``ProcessEngine.complete`` makes
(``engine.services.cases.complete``), one after the other, timing each: the
session and its connection (on SQLite that sends ``BEGIN IMMEDIATE``), the task
read, the checks, the runtime step, the ``dump()``, the writes, the commit.
The parts add up to the command; compare them with the floor of ``python -m bench``.
On PostgreSQL the COMMIT travels in the pipeline of the writes (``Batch.run(commit=True)``):
there "writes" includes the commit's WAL flush and "commit" is what is left of SQLAlchemy's.
If ``cases.complete`` changes, this sequence must follow it (a test runs both).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from engine.bpmn import validate_form
from engine.services import cases

from .persisted import PersistedRunner, fresh_database
from .workload import ACTOR, DEFAULT_BPMN, FORMS, START_DATA, USER_TASKS_PER_CASE

PARTS = ("session and connection", "task read", "checks and form", "instance and host", "runtime step", "dump",
         "writes", "commit", "close")


def complete_in_parts(engine, task_id: str, data: dict, times: Counter):
    """Complete one task as ``cases.complete`` does, adding each part's seconds to ``times``; return the CaseRef."""
    clock = time.perf_counter
    t0 = clock()
    session = engine.db.take_session()
    transaction = session.begin()
    session.connection()
    t1 = clock()
    task, case = cases._task_and_case(session, task_id)
    t2 = clock()
    cases._open_task_for(ACTOR, task)
    clean, errors = validate_form(task.form, data)
    if errors:
        raise RuntimeError(f"form refused: {errors}")
    t3 = clock()
    now = engine.clock()
    instance = engine.instance(session, case)
    host = engine.host(session, case.id, ACTOR, now)
    t4 = clock()
    step = instance.complete(host, now, task_id, clean)
    t5 = clock()
    state = instance.dump()
    t6 = clock()
    instance.dump = lambda: state          # persist writes the state dumped above
    try:
        result = engine.persist(session, case, instance, step, ACTOR, now)
    finally:
        del instance.dump
    t7 = clock()
    transaction.commit()
    t8 = clock()
    for callback in session.info.pop("after_commit", []):
        callback()
    engine.db.give_back(session)
    t9 = clock()
    for part, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6, t8 - t7,
                                     t9 - t8)):
        times[part] += seconds
    return result


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
            times: Counter = Counter()
            commands = 0
            for _ in range(args.cases):
                result = runner.engine.start_case(runner.key, START_DATA, ACTOR)
                for _ in range(USER_TASKS_PER_CASE):
                    task = result.ready[0]
                    result = complete_in_parts(runner.engine, task.id, FORMS[task.element_id], times)
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
