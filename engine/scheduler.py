"""The scheduler process: APScheduler fires due timers through the engine's row-locked sweep and runs periodic jobs.

Run it in its own process (``complaints scheduler``), never inside web workers.
Several schedulers against one PostgreSQL are safe: the sweep claims each due
timer's case with ``FOR UPDATE SKIP LOCKED`` and writes it revision-checked;
periodic jobs serialise themselves in the database. Timers that fell due while
no scheduler ran fire on the first sweep, which runs at start.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .services import ProcessEngine
from .services.crisis import load_crisis_rules
from .services.mail import SmtpSettings
from .services.oversight import beat_name
from .settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """A periodic job: an id, when it runs, and what it calls with the engine."""

    id: str
    trigger: BaseTrigger
    run: Callable[[ProcessEngine], Any]


def sweep(engine: ProcessEngine) -> dict[str, int]:
    """Fire every timer due now and log the counts when something happened."""
    result = engine.deadlines.fire_due_timers()
    if any(result.values()):
        log.info("timer sweep: %s", result)
    try:
        engine.oversight.beat(beat_name(), result)       # the operations page shows each scheduler's last sweep
    except Exception:  # noqa: BLE001 - a heartbeat that cannot be written must not stop the sweep
        log.exception("scheduler heartbeat not written")
    return result


def deliver_reports(engine: ProcessEngine, smtp: SmtpSettings | None = None) -> dict[str, Any]:
    """Start the P-4 cycles and queue the reports due now, then send the mail outbox (when SMTP is configured)."""
    smtp = smtp or SmtpSettings.from_env()
    result: dict[str, Any] = {"rectifications": engine.reports.start_rectifications(),
                              "reports": engine.reports.deliver()}
    if smtp is not None:
        result["mail"] = {"queued": engine.reports.queue_notifications(), **engine.reports.send_mail(smtp)}
    return result


def send_mail(engine: ProcessEngine, smtp: SmtpSettings | None = None) -> dict[str, int] | None:
    """Queue the new notifications and send the outbox's messages due now (nothing without SMTP settings)."""
    smtp = smtp or SmtpSettings.from_env()
    if smtp is None:
        return None
    result = {"queued": engine.reports.queue_notifications(), **engine.reports.send_mail(smtp)}
    return result if any(result.values()) else None


def default_jobs(settings: Settings) -> list[Job]:
    """Return the periodic jobs of the shipped features: crisis watch (C-2), reports (P-1..P-4), the mail outbox."""
    rules_path = settings.path("crisis.toml")
    every = load_crisis_rules(rules_path).every_minutes
    return [Job("crisis_watch", CronTrigger(minute=f"*/{every}", timezone=timezone.utc),
                lambda engine: engine.deadlines.detect_crises(rules_path)),
            Job("reports", CronTrigger(minute="*/5", timezone=timezone.utc),
                lambda engine: {k: v for k, v in deliver_reports(engine).items() if v}),
            Job("mail", IntervalTrigger(minutes=1), send_mail)]


def _guarded(job: Job, engine: ProcessEngine) -> Callable[[], None]:
    def run() -> None:
        try:
            result = job.run(engine)
            if result:
                log.info("%s: %s", job.id, result)
        except Exception:  # noqa: BLE001 - a failing job is logged; the scheduler goes on
            log.exception("periodic job %s failed", job.id)

    return run


def build_scheduler(engine: ProcessEngine, interval: float = 5.0, jobs: list[Job] | None = None) -> BlockingScheduler:
    """Return a scheduler with the timer sweep every ``interval`` seconds and the periodic jobs."""
    scheduler = BlockingScheduler(timezone=timezone.utc)
    scheduler.add_job(sweep, IntervalTrigger(seconds=interval), args=[engine], id="timer_sweep",
                      coalesce=True, max_instances=1, next_run_time=datetime.now(timezone.utc))
    for job in default_jobs(engine.settings) if jobs is None else jobs:
        scheduler.add_job(_guarded(job, engine), job.trigger, id=job.id, coalesce=True, max_instances=1)
    return scheduler


def run_scheduler(engine: ProcessEngine, interval: float = 5.0) -> None:
    """Run the scheduler in the foreground until the process is stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scheduler = build_scheduler(engine, interval)
    log.info("scheduler started: timer sweep every %ss, jobs %s on %s", interval,
             [j.id for j in scheduler.get_jobs()], engine.database)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
