"""Fuzz the JSON API with schemathesis (`--checks all`) against the served app; count requests and 5xx.

    python -m tools.fuzz [--database URL] [--max-time SECONDS] [--seed N]

Makes a fresh database (SQLite in a temporary folder unless ``--database`` names
one, e.g. a PostgreSQL schema), migrates it, deploys ``processes/*.bpmn`` and
loads the demo organisation, serves the real app with Werkzeug's threaded
server on a free 127.0.0.1 port, signs in as the administrator (who may do
everything the API offers), and runs the schemathesis command line on
``/api/openapi.json`` for at most ``--max-time`` seconds. The last line is
``fuzz: N requests, M server errors (5xx), K check failures``; the exit code is
1 when a 5xx was answered or a check failed, else 0.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Called processes first: a deployment refuses a call activity whose process is not deployed yet.
DEPLOY_ORDER = ("crisis", "demand", "escalation", "service_quality", "normal")
INTAKE = {"complainant_name": "王先生", "contact": "13800000000", "received_at": "2025-03-03", "target": "服务",
          "facts": "客户反映的问题经过", "channel": "hotline", "category": "complaint.network.signal", "amount": 0,
          "service_quality_agent_count": 0}


@dataclass(frozen=True)
class FuzzResult:
    requests: int
    server_errors: int
    failures: int
    statuses: dict[str, int]
    output: str

    def line(self) -> str:
        return (f"fuzz: {self.requests} requests, {self.server_errors} server errors (5xx), "
                f"{self.failures} check failures; statuses {json.dumps(self.statuses, sort_keys=True)}")


def prepared_engine(url: str):
    """Return an engine on a migrated ``url`` with the shipped processes and the demo organisation."""
    from werkzeug.security import generate_password_hash

    from engine.app import build_engine
    from engine.settings import Settings
    from engine.store.db import Database
    from engine.store.migrate import upgrade

    database = Database(url)
    upgrade(database.write_engine)
    database.dispose()
    engine = build_engine(Settings(), url)
    organisation = tomllib.loads((ROOT / "data" / "organisation.toml").read_text(encoding="utf-8"))
    engine.admin.load_organisation(organisation,
                                   hash_password=lambda p: generate_password_hash(p, "pbkdf2:sha256:1000"))
    for name in DEPLOY_ORDER:
        engine.admin.deploy((ROOT / "processes" / f"{name}.bpmn").read_bytes(), f"{name}.bpmn")
    return engine


def seed_cases(engine, count: int = 5) -> tuple[list[int], list[str]]:
    """Start ``count`` complaints as the intake clerk; return their ids and their open tasks' ids."""
    from engine.services import Actor

    clerk = Actor("zhang.intake", frozenset({"intake"}))
    cases, tasks = [], []
    for n in range(count):
        ref = engine.cases.start("normal", dict(INTAKE, facts=f"fuzz seed {n}"), clerk)
        cases.append(ref.id)
        tasks.extend(t.id for t in ref.open_tasks)
    return cases, tasks


def config(cases: list[int], tasks: list[str]) -> str:
    """The schemathesis configuration: the seeded ids as dictionaries (half of the ids it sends are real), and
    the operations whose input is decided beyond the document, where a schema-valid request may be a 400: a
    BPMN form (form_invalid) or file (deployment_refused), a report's own period form (invalid_period), the case
    search's dates and opaque cursor, an uploaded event log's content (bad_log), a compliance selection's dates
    outside the years 1900-9998 (invalid_date: near the calendar's ends a day's bounds do not exist), a repair's
    data (the start form of the case's version: form_invalid) and version (migration_refused)."""
    return "\n".join([
        "[dictionaries.cases]", f"values = {json.dumps(cases)}",
        "[dictionaries.tasks]", f"values = {json.dumps(tasks)}",
        "[dictionaries.processes]", f"values = {json.dumps(list(DEPLOY_ORDER))}",
        "[parameters]",
        '"path.case_id" = { dictionary = "cases", probability = 0.5 }',
        '"path.task_id" = { dictionary = "tasks", probability = 0.5 }',
        '"body.process_key" = { dictionary = "processes", probability = 0.5 }',
        "[[operations]]", 'include-operation-id = ["startCase", "completeTask", "deploy", "report", "reportCases", '
                          '"reportExport", "pickTypical", "unpickTypical", "searchCases", "checkLog", '
                          '"conformance", "adherence", "exportLog", "repairCase"]',
        'checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409"]', ""])


def schemathesis_command() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    if not found:
        raise SystemExit("schemathesis is a test dependency (pyproject [test]): run make install")
    return [found]


def fuzz(url: str, max_time: int = 60, seed: int | None = None, report_dir: Path | None = None) -> FuzzResult:
    """Serve the app on ``url`` and run schemathesis against it; return what it sent and what came back."""
    from werkzeug.serving import make_server

    from web import create_app

    engine = prepared_engine(url)
    cases, tasks = seed_cases(engine)
    app = create_app({"ENGINE": engine, "SECRET_KEY": "fuzz", "API_TOKEN_MAX_AGE": 24 * 3600})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    statuses: dict[str, int] = {}
    count_lock = threading.Lock()

    @app.after_request
    def count(response):
        with count_lock:
            key = str(response.status_code)
            statuses[key] = statuses.get(key, 0) + 1
        return response

    try:
        with app.test_client() as client:
            token = client.post("/api/token", json={"username": "admin", "password": "admin"}).get_json()["token"]
        statuses.clear()
        with tempfile.TemporaryDirectory() as scratch:
            reports = report_dir or Path(scratch)
            (Path(scratch) / "schemathesis.toml").write_text(config(cases, tasks), encoding="utf-8")
            command = [*schemathesis_command(), "--config-file", str(Path(scratch) / "schemathesis.toml"),
                       "run", f"{base}/api/openapi.json", "--checks", "all",
                       "--max-time", str(max_time), "-H", f"Authorization: Bearer {token}",
                       "--report", "ndjson", "--report-dir", str(reports), "--workers", "1",
                       "--suppress-health-check", "all", "--request-timeout", "30"]
            if seed is not None:
                command += ["--seed", str(seed)]
            done = subprocess.run(command, capture_output=True, text=True, cwd=scratch,
                                  timeout=max_time * 3 + 120)
        output = done.stdout + done.stderr
    finally:
        httpd.shutdown()
        engine.dispose()
    requests = sum(statuses.values())
    server_errors = sum(n for code, n in statuses.items() if code.startswith("5"))
    found = re.search(r"(\d+) unique failures", output)
    failures = int(found[1]) if found else (0 if done.returncode == 0 else 1)
    return FuzzResult(requests, server_errors, failures, dict(statuses), output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--max-time", type=int, default=60, help="seconds of fuzzing (default 60)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--report-dir", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{folder}/fuzz.db"
        started = datetime.now(timezone.utc)
        result = fuzz(url, args.max_time, args.seed, args.report_dir)
    print(result.output)
    print(f"database {url.split('@')[-1]}, {(datetime.now(timezone.utc) - started).total_seconds():.0f} s")
    print(result.line())
    return 1 if result.server_errors or result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
