"""Timer sweep benchmark: the cost of firing 1,000 due timers with 0 and with 100,000 waiting timers.

``python -m bench.sweep [--due 1000] [--waiting 100000] [--databases sqlite,postgresql]``

Due timers belong to real cases (``bench/timer.bpmn`` waiting on a timeDate).
The waiting timers are rows of ``timer`` due in 2099, spread over 100 real
parked cases, inserted in bulk: starting 100,000 cases would take minutes and
measure ``start_case``, while what the sweep meets is those rows in the
``due_at`` index. The sweep must cost the same with or without them.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, select

from engine.services import FixedClock, ProcessEngine, TopicRegistry
from engine.store.models import Case, Timer

from .persisted import fresh_database

BPMN = Path(__file__).with_name("timer.bpmn").read_bytes()
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=timezone.utc)


def measure(kind: str, due: int, waiting: int) -> tuple[float, int]:
    """Return (seconds for one sweep over ``due`` due timers, timers fired) with ``waiting`` rows present."""
    with fresh_database(kind) as db:
        clock = FixedClock(T0)
        engine = ProcessEngine(db, clock, TopicRegistry())
        engine.admin.deploy(BPMN, "timer.bpmn")
        soon = (T0 + timedelta(hours=1)).isoformat()
        for _ in range(due):
            engine.cases.start("bench_timer", {"deadline": soon})
        if waiting:
            parked = [engine.cases.start("bench_timer", {"deadline": "2099-01-01T00:00:00+00:00"}).id
                      for _ in range(100)]
            with db.transaction() as session:
                for offset in range(0, waiting, 10_000):
                    session.execute(insert(Timer), [
                        {"id": str(uuid.uuid4()), "case_id": parked[i % len(parked)], "element_id": "t_wait",
                         "due_at": datetime(2099, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=i), "created_at": T0}
                        for i in range(offset, min(offset + 10_000, waiting))])
            if kind == "postgresql":
                # Statistics and a checkpoint now, so the bulk insert's after-effects are not timed as the sweep.
                with db.write_engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE timer")
                    conn.exec_driver_sql("ANALYZE case_instance")
                    conn.exec_driver_sql("CHECKPOINT")
                    conn.commit()
        started = time.perf_counter()
        result = engine.deadlines.fire_due_timers(T0 + timedelta(hours=2))
        seconds = time.perf_counter() - started
        with db.transaction(write=False) as session:
            done = len(session.scalars(select(Case.id).where(Case.status == "completed")).all())
        if result["fired"] != due or done != due:
            raise RuntimeError(f"{kind}: fired {result}, completed {done}, expected {due}")
        return seconds, result["fired"]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__.split("\n\n")[0])
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"sweep: {args.due} due timers, with 0 and with {args.waiting} waiting timers")
    print(f"{'database':<11} {'waiting':>8} {'sweep s':>8} {'ms/timer':>9}")
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        base = None
        for waiting in (0, args.waiting):
            seconds, fired = measure(kind, args.due, waiting)
            per = seconds / fired * 1000
            base = base or per
            print(f"{kind:<11} {waiting:>8} {seconds:>8.2f} {per:>9.3f}" + (f"  x{per / base:.2f}" if waiting else ""))


if __name__ == "__main__":
    main()
