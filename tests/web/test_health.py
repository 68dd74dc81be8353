"""The health page answers without signing in; every other page asks for it."""

from tests.conftest import fixture_bytes
from web import create_app


def test_health_reports_database_and_deployed_processes(engine):
    engine.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    client = create_app({"ENGINE": engine, "TESTING": True}).test_client()
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.get_json() == {"status": "ok", "processes": ["loop_demo"], "versions": 1}
    assert client.get("/").headers["Location"].startswith("/login")
