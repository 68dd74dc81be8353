"""Time is injected: SpiffWorkflow's timers read the engine clock, and stored instants are aware UTC."""

from datetime import datetime, timedelta, timezone

import pytest

from engine.bpmn import clock
from engine.services import FixedClock


def test_engine_time_is_what_spiffworkflow_timers_read():
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    moment = datetime(2025, 10, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    with clock.engine_time(moment):
        assert timer.datetime.now(timezone.utc) == datetime(2025, 10, 1, 0, 0, tzinfo=timezone.utc)
        assert clock.current() == moment
    assert abs(timer.datetime.now(timezone.utc) - datetime.now(timezone.utc)) < timedelta(seconds=5)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        FixedClock(datetime(2025, 1, 1))
    with pytest.raises(ValueError):
        clock.utc(datetime(2025, 1, 1))


def test_fixed_clock_moves_only_when_told():
    fixed = FixedClock(datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert fixed() == fixed()
    assert fixed.advance(hours=2) == datetime(2025, 1, 1, 2, tzinfo=timezone.utc)
