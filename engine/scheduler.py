"""The scheduler process: APScheduler fires due timers through the engine's row-locked sweep.

Run it in its own process (``complaints scheduler``), never inside web workers.
Several schedulers against one PostgreSQL are safe: each timer row is claimed
with ``FOR UPDATE SKIP LOCKED`` and each case is written revision-checked.
Timers that fell due while no scheduler ran fire on the first sweep.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .services import ProcessEngine

log = logging.getLogger(__name__)


def sweep(engine: ProcessEngine) -> dict[str, int]:
    """Fire every timer due now and log the counts when something happened."""
    result = engine.fire_due_timers()
    if any(result.values()):
        log.info("timer sweep: %s", result)
    return result


def build_scheduler(engine: ProcessEngine, interval: float = 5.0) -> BlockingScheduler:
    """Return a scheduler with the timer sweep; periodic jobs of other features are added here."""
    scheduler = BlockingScheduler(timezone=timezone.utc)
    scheduler.add_job(sweep, IntervalTrigger(seconds=interval), args=[engine], id="timer_sweep",
                      coalesce=True, max_instances=1, next_run_time=datetime.now(timezone.utc))
    return scheduler


def run_scheduler(engine: ProcessEngine, interval: float = 5.0) -> None:
    """Run the scheduler in the foreground until the process is stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scheduler = build_scheduler(engine, interval)
    log.info("scheduler started: timer sweep every %ss on %s", interval, engine.db.url.split("@")[-1])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
