"""Fixtures of the process walks: every walk runs straight through and again with a save/restore between steps."""

from __future__ import annotations

import pytest

from tests.processes.casewalk import shipped_engine


@pytest.fixture(params=["straight", "restored"])
def walk_engine(request, db, clock):
    """The shipped engine with the instance cache on (straight) or off (every command restores the case)."""
    return shipped_engine(db, clock, cache_instances=request.param == "straight")
