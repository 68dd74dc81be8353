"""The console script: deploy, start, list, claim, complete, fire timers at --now, audit; JSON out, coded errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

ROOT = Path(__file__).parents[2]


@pytest.fixture
def cli(db_url, tmp_path):
    """Run ``complaints`` against the test database; return (exit code, parsed stdout or stderr)."""
    env = dict(os.environ, DATABASE_URL=db_url)

    def run(*args: str) -> tuple[int, object]:
        proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        text = proc.stdout if proc.returncode == 0 else proc.stderr
        return proc.returncode, json.loads(text) if text.strip() else None

    assert run("db", "upgrade")[0] == 0
    users = tmp_path / "users.json"
    users.write_text(json.dumps([
        {"username": "li", "name": "Li", "groups": ["handler"]},
        {"username": "mia", "name": "Mia", "groups": ["market"]},
        {"username": "ada", "name": "Ada", "groups": ["admin"]},
    ]))
    assert run("users", "load", str(users))[0] == 0
    return run


def test_cli_drives_a_case_from_deploy_to_audit(cli):
    code, deployed = cli("deploy", str(FIXTURES / "loop.bpmn"))
    assert code == 0 and deployed[0]["key"] == "loop_demo" and deployed[0]["created"] is True
    assert cli("deploy", str(FIXTURES / "loop.bpmn"))[1][0]["created"] is False
    now = "--now", "2025-03-03T09:00:00+08:00"
    code, case = cli(*now, "start", "loop_demo", "--data", '{"delays": 0, "responsible_group": "market"}')
    assert code == 0 and case["status"] == "running"
    code, page = cli("tasks", "--user", "li")
    assert [t["element_id"] for t in page["tasks"]] == ["investigate"] and page["next_cursor"] is None
    task = page["tasks"][0]["id"]
    assert cli(*now, "claim", task, "--user", "li")[1]["assignee"] == "li"
    code, error = cli(*now, "complete", task, "--user", "li", "--data", '{"note": "x"}')
    assert code == 2 and error["type"] == "FormInvalid" and error["errors"]["note"]["code"] == "min_length"
    code, error = cli(*now, "complete", task, "--user", "mia", "--data", '{"note": "ok"}')
    assert code == 3 and error["type"] == "PermissionDenied"
    code, case = cli(*now, "complete", task, "--user", "li", "--data", '{"note": "ok", "info_sufficient": true}')
    assert code == 0 and [t["element_id"] for t in case["open_tasks"]] == ["reply"]
    assert cli(*now, "complete", task, "--user", "li", "--data", '{"note": "ok"}')[0] == 5
    reply = cli("tasks", "--user", "mia")[1]["tasks"][0]["id"]
    assert cli("--now", "2025-03-03T10:00:00+08:00", "complete", reply, "--user", "mia",
               "--data", '{"accepted": true}')[0] == 0
    assert cli("--now", "2025-03-03T11:59:00+08:00", "fire-timers")[1]["fired"] == 0
    assert cli("--now", "2025-03-03T12:01:00+08:00", "fire-timers")[1]["fired"] == 1
    code, audit = cli("audit", str(case["id"]))
    assert code == 0 and audit["path"][-1] == {"kind": "element", "id": "end_ok"}
    assert cli("case", "999")[0] == 4


def test_cli_refuses_a_broken_file_naming_file_line_and_element(cli, tmp_path):
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes((FIXTURES / "loop.bpmn").read_bytes().replace(b'camunda:topic="notify"', b'camunda:topic="nope"'))
    code, error = cli("deploy", str(broken))
    assert code == 2 and error["type"] == "DeploymentRefused"
    params = error["params"]
    assert (error["code"], params["file_name"], params["element_id"]) == ("deployment_refused", "broken.bpmn",
                                                                           "notify_customer") and params["line"] > 1
    assert cli("versions")[1] == []


def test_cli_calendar_computes_due_times_and_edits_overrides(cli):
    due = cli("calendar", "due", "--start", "2025-09-30T10:00:00+08:00", "--days", "3")[1]
    assert due["due"] == "2025-10-11T18:00:00+08:00"             # across National Day, make-up Saturday worked
    assert cli("calendar", "add", "--date", "2025-10-11", "--day-off", "--user", "li")[0] == 3
    assert cli("calendar", "add", "--date", "2025-10-11", "--day-off", "--note", "notice", "--user", "ada")[0] == 0
    due = cli("calendar", "due", "--start", "2025-09-30T10:00:00+08:00", "--days", "3")[1]
    assert due["due"] == "2025-10-13T18:00:00+08:00"
    assert cli("calendar", "due", "--start", "2025-03-07T17:00:00+08:00", "--hours", "2")[1]["due"] \
        == "2025-03-10T10:00:00+08:00"
    assert cli("calendar", "remove", "--date", "2025-10-11", "--user", "ada")[1] == []
    assert cli("calendar", "due", "--days", "1", "--hours", "1")[0] == 2


def test_cli_pauses_and_resumes_a_case(cli):
    cli("deploy", str(FIXTURES / "deadline.bpmn"))
    case = cli("--now", "2025-03-03T09:00:00+08:00", "start", "deadline_demo")[1]
    cid = str(case["id"])
    assert cli("--now", "2025-03-03T15:00:00+08:00", "pause", cid, "--user", "li", "--reason", "unreachable")[1][
        "status"] == "paused"
    resumed = cli("--now", "2025-03-05T15:00:00+08:00", "resume", cid, "--user", "li")[1]
    assert {t["element_id"]: t["due_at"] for t in resumed["timers"]}["d_overdue"] == "2025-03-10T10:00:00+00:00"
    extended = cli("--now", "2025-03-05T15:00:00+08:00", "extend", cid, "--user", "li", "--days", "1",
                   "--reason", "agreed", "--element", "d_overdue")[1]
    assert {t["element_id"]: t["due_at"] for t in extended["timers"]}["d_overdue"] == "2025-03-11T10:00:00+00:00"


def test_a2_cli_conformance_of_a_case_and_of_a_selection(cli):
    cli("deploy", str(FIXTURES / "deadline.bpmn"))
    case = cli("--now", "2025-03-03T09:00:00+08:00", "start", "deadline_demo")[1]
    reply = cli("tasks", "--user", "li")[1]["tasks"][0]["id"]
    assert cli("--now", "2025-03-03T10:00:00+08:00", "complete", reply, "--user", "li")[0] == 0
    code, judged = cli("conformance", "--case", str(case["id"]), "--user", "ada")
    assert code == 0 and (judged["fits"], judged["status"], judged["path"]) == (
        True, "completed", ["d_start", "d_reply", "d_end"])
    code, summary = cli("conformance", "--process", "deadline_demo", "--from", "2025-03-01", "--to", "2025-03-31")
    assert code == 0 and (summary["cases"], summary["fitting"], summary["rows"][0]["month"]) == (1, 1, "2025-03")
    assert cli("conformance", "--case", str(case["id"]), "--user", "li")[0] == 3
    assert cli("conformance", "--from", "yesterday")[0] == 2


def test_a2_a3_cli_adherence_export_xes_and_import_log(cli, tmp_path):
    cli("deploy", str(FIXTURES / "deadline.bpmn"))
    cli("--now", "2025-03-03T09:00:00+08:00", "start", "deadline_demo")
    reply = cli("tasks", "--user", "li")[1]["tasks"][0]["id"]
    cli("--now", "2025-03-04T10:00:00+08:00", "fire-timers")                 # the 24 h reminder (N-2) fires
    assert cli("--now", "2025-03-04T10:30:00+08:00", "complete", reply, "--user", "li")[0] == 0
    rows = {r["rule_id"]: r for r in cli("--now", "2025-03-05T09:00:00+08:00", "adherence", "--user", "ada")[1]["rows"]}
    assert (rows["N-2"]["missed"], rows["N-2"]["late_minutes"], rows["N-11"]["met"]) == (1, 90, 1)
    out = tmp_path / "log.csv"
    code, written = cli("export-xes", "--format", "csv", "-o", str(out))
    assert code == 0 and written["bytes"] == out.stat().st_size
    code, checked = cli("import-log", str(out), "--key", "deadline_demo", "--version", "1", "--match", "id",
                        "--activity-column", "element_id", "--transition-column", "transition", "--closed")
    assert code == 0 and (checked["traces"], checked["fitting"]) == (1, 1)
    assert cli("import-log", str(out), "--key", "deadline_demo", "--version", "7")[0] == 4
