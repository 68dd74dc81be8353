"""The scheduler process sweeps due timers; timers that fell due while it was down fire on its first sweep."""

from datetime import timedelta

from engine.scheduler import build_scheduler, sweep
from engine.services import SYSTEM
from tests.conftest import fixture_bytes


def test_scheduler_runs_the_sweep_at_once_and_then_every_interval(engine):
    scheduler = build_scheduler(engine, interval=7)
    job = scheduler.get_job("timer_sweep")
    assert job.trigger.interval == timedelta(seconds=7)
    assert job.max_instances == 1 and job.coalesce is True
    assert job.next_run_time is not None


def test_timers_due_while_the_scheduler_was_down_fire_on_its_first_sweep(engine, handler, market, clock):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    case_id = engine.cases.start("loop_demo", {"delays": 0, "responsible_group": "market"}).id
    engine.cases.complete(engine.reads.inbox(handler).tasks[0].id, {"note": "ok", "info_sufficient": True}, handler)
    clock.advance(days=10)          # nobody swept: the 72 h reply deadline passed long ago
    assert sweep(engine) == {"fired": 1, "failed": 0, "conflicts": 0}
    detail = engine.reads.case_page(case_id, SYSTEM)
    assert detail.case.status == "completed"
    assert [e.element_id for e in detail.events if e.lifecycle == "timer_fired"] == ["reply_overdue"]
    assert [(t.name, t.state) for t in detail.tasks if t.element_id == "reply"] == [("Reply to customer", "cancelled")]


def test_the_scheduler_runs_the_crisis_watch_as_a_periodic_job(engine):
    scheduler = build_scheduler(engine)
    assert {job.id for job in scheduler.get_jobs()} == {"timer_sweep", "crisis_watch", "reports", "mail"}
    watch = scheduler.get_job("crisis_watch")
    assert str(watch.trigger.fields[6]) == "*/10"        # minute field of the cron trigger, from data/crisis.toml
