"""Fixtures of the process walks: every walk runs straight through and again with a save/restore between steps.

After each walk, every case it left is replayed against the versions it ran on (A-2): a walk path of the
shipped processes must fit its documented process, whatever the walk asserted itself.
"""

from __future__ import annotations

import pytest

from engine.services import SYSTEM
from tests.processes.casewalk import shipped_engine


@pytest.fixture(params=["straight", "restored"])
def walk_engine(request, db, clock):
    """The shipped engine with the instance cache on (straight) or off (every command restores the case)."""
    engine = shipped_engine(db, clock, cache_instances=request.param == "straight")
    yield engine
    summary = engine.compliance.summary(SYSTEM)
    unfit = {d.case_id: d.deviations for d in summary.deviating}
    assert summary.fitting == summary.cases, f"walked cases that do not fit their process (A-2): {unfit}"
