"""`complaints serve` (what `make run` starts) answers on 127.0.0.1 with the deployed processes."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_with_deployed_processes(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'run.db'}")
    cli = [sys.executable, "-m", "engine.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*cli, "deploy", "tests/fixtures/loop.bpmn"], env=env, cwd=ROOT, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and answer is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    answer = json.load(response)
            except OSError:
                time.sleep(0.2)     # the server is starting; this polls a port, it times no engine timer
        assert {k: answer[k] for k in ("status", "processes", "versions")} == {
            "status": "ok", "processes": ["loop_demo"], "versions": 1}
        # The served app runs on the real clock: whether next year's holidays are due depends on today.
        assert answer["holidays_known_until"] == "2026-12-31" and isinstance(answer["warnings"], list)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert server.returncode is not None
    leftovers = subprocess.run(["pgrep", "-f", f"--port {port}"], capture_output=True, text=True).stdout.split()
    assert leftovers == [], "serve left its web process running"
