"""Two scheduler processes sweeping the same database fire each of 1,000 due timers exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from engine.store.models import AuditEvent, Case, Timer
from tests.conftest import SHANGHAI, fixture_bytes

ROOT = Path(__file__).parents[2]
CASES = 500          # two timers each: 1,000 timers


def test_two_scheduler_processes_fire_each_of_1000_timers_exactly_once(db_url, engine, clock):
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI))
    engine.admin.deploy(fixture_bytes("deadline.bpmn"), "deadline.bpmn")
    for _ in range(CASES):
        engine.cases.start("deadline_demo", {})
    with engine.store_session() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == 2 * CASES
    later = "2025-03-10T09:00:00+08:00"     # both the 24 h reminder and the 3-working-day deadline are due
    command = [sys.executable, "-m", "engine.cli", "--database", db_url, "--now", later, "fire-timers"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sweepers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for _ in range(2)]
    results = []
    for sweeper in sweepers:
        out, err = sweeper.communicate(timeout=600)
        assert sweeper.returncode == 0, err
        results.append(json.loads(out))
    assert sum(r["fired"] for r in results) == 2 * CASES
    assert sum(r["failed"] for r in results) == 0
    with engine.store_session() as s:
        fired = s.execute(select(AuditEvent.task_id, func.count()).where(AuditEvent.lifecycle == "timer_fired")
                          .group_by(AuditEvent.task_id)).all()
        assert len(fired) == 2 * CASES and {count for _, count in fired} == {1}
        assert s.scalar(select(func.count()).select_from(Timer)) == 0
        assert s.scalar(select(func.count()).select_from(Case).where(Case.status == "completed")) == CASES
