"""Scale-out mode: gunicorn with 2 workers and 2 scheduler processes on one PostgreSQL walk a case to its end
through the API while its timer fires; every process reads the same moved clock (never a sleep for a deadline)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from engine.services import ProcessEngine
from engine.store.models import AuditEvent
from tests.conftest import fixture_bytes

ROOT = Path(__file__).parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


class Api:
    """A JSON client of the served API."""

    def __init__(self, base: str, token: str | None = None):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def sign_in(self, username: str) -> Api:
        status, answer = self.call("POST", "/api/token", {"username": username, "password": "pw"})
        assert status == 200, answer
        return Api(self.base, answer["token"])


def _poll(what, timeout: float = 40.0):
    """Return what ``what()`` returns once it is truthy; the processes act on their own (this waits for them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = what()
        except OSError:
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


def test_two_workers_and_two_schedulers_walk_a_case_to_its_end_while_its_timer_fires(db_url, db, clock, topics,
                                                                                        tmp_path):
    setup = ProcessEngine(db, clock, topics)
    for username, groups in (("ada", ["admin"]), ("hans", ["handler"]), ("mia", ["market"])):
        setup.accounts.add_user(username, username.title(), groups, generate_password_hash("pw", "pbkdf2:sha256:1000"))
    clock_file = tmp_path / "clock-offset"
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=db_url, COMPLAINTS_CLOCK_FILE=str(clock_file),
               COMPLAINTS_SECRET_KEY="scale-out-test", PYTHONPATH=str(ROOT))
    log = (tmp_path / "serve.log").open("wb")
    site = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port), "--workers", "2",
                             "--schedulers", "2", "--interval", "0.5"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        api = Api(f"http://127.0.0.1:{port}")
        _poll(lambda: api.call("GET", "/health")[0] == 200)
        schedulers_and_web = _children(site.pid)
        assert len(schedulers_and_web) == 3, "two schedulers and the gunicorn master"
        assert len(_children(schedulers_and_web[-1])) == 2, "gunicorn runs two workers"

        admin, hans, mia = api.sign_in("ada"), api.sign_in("hans"), api.sign_in("mia")
        boundary = "----scale-out"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"loop.bpmn\"\r\n"
                f"Content-Type: application/xml\r\n\r\n").encode() + fixture_bytes("loop.bpmn") + \
            f"\r\n--{boundary}--\r\n".encode()
        upload = urllib.request.Request(f"{api.base}/api/processes", data=body, method="POST", headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {admin.token}"})
        with urllib.request.urlopen(upload, timeout=10) as response:
            assert response.status == 201

        status, case = admin.call("POST", "/api/cases", {"process_key": "loop_demo",
                                                         "data": {"delays": 0, "responsible_group": "market"}})
        assert status == 201 and [t["element_id"] for t in case["open_tasks"]] == ["investigate"]
        status, done = hans.call("POST", f"/api/tasks/{case['open_tasks'][0]['id']}/complete",
                                 {"data": {"note": "checked", "info_sufficient": True}})
        assert status == 200 and [t["element_id"] for t in done["open_tasks"]] == ["reply"]
        status, listed = mia.call("GET", "/api/tasks")
        [reply] = [t for t in listed["tasks"] if t["case_id"] == case["id"]]
        status, done = mia.call("POST", f"/api/tasks/{reply['id']}/complete", {"data": {"accepted": True}})
        assert status == 200 and done["status"] == "running" and done["open_tasks"] == []

        clock_file.write_text(str(3 * 3600))       # three hours on: the 2 h cooldown timer is due everywhere
        finished = _poll(lambda: (lambda page: page if page["case"]["status"] == "completed" else None)(
            admin.call("GET", f"/api/cases/{case['id']}")[1]))
        assert finished["path"][-1] == {"kind": "element", "id": "end_ok"}
        assert [e["actor"] for e in finished["events"] if e["lifecycle"] == "timer_fired"] == ["scheduler"]
    finally:
        site.send_signal(signal.SIGTERM)
        site.wait(timeout=60)
        log.close()
    with db.transaction(write=False) as session:
        fired = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.lifecycle == "timer_fired"))
    assert fired == 1, "two schedulers fired the timer once"
