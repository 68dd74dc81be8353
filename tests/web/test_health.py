"""The health page answers without signing in; every other page asks for it."""

from datetime import date, datetime, timezone

from engine.services import FixedClock, ProcessEngine
from tests.conftest import fixture_bytes
from web import create_app


def test_health_reports_database_and_deployed_processes(engine):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    client = create_app({"ENGINE": engine, "TESTING": True}).test_client()
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "processes": ["loop_demo"], "versions": 1,
                                 "holidays_known_until": "2026-12-31", "overrides_next_year": 0, "warnings": []}
    assert client.get("/").headers["Location"].startswith("/login")


def test_n4_health_warns_when_next_years_holidays_are_due_and_not_entered(db, topics, admin):
    """The calendar package knows holidays until 2026-12-31; from 2026-11-01 on, 2027 needs its notice entered."""
    late = FixedClock(datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc))
    engine = ProcessEngine(db, late, topics)
    client = create_app({"ENGINE": engine, "TESTING": True}).test_client()
    [warning] = client.get("/health").get_json()["warnings"]
    assert "2026-12-31" in warning and "2027" in warning and "/admin/calendar" in warning

    engine.deadlines.set_override(date(2027, 1, 1), False, "元旦", admin)
    answer = client.get("/health").get_json()
    assert (answer["warnings"], answer["overrides_next_year"]) == ([], 1)
