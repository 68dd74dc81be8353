"""JSON API: every endpoint, its permission rules and error codes; the OpenAPI document validates."""

from __future__ import annotations

import io

import pytest
from openapi_spec_validator import validate

from tests.conftest import fixture_bytes
from web.openapi import openapi_path

INTAKE = {"complainant_name": "王先生", "contact": "13800000000", "received_at": "2025-03-03", "target": "服务",
          "facts": "客户反映的问题经过", "channel": "hotline", "category": "complaint.network.signal", "amount": 0,
          "service_quality_agent_count": 0}


def start(client, headers) -> dict:
    answer = client.post("/api/cases", json={"process_key": "normal", "data": INTAKE}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_openapi_document_validates_and_names_every_route(client, app):
    doc = client.get("/api/openapi.json").get_json()
    validate(doc)
    routes = {openapi_path(r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    assert routes == set(doc["paths"])


def test_token_refuses_a_wrong_password_and_bad_tokens(client):
    assert client.post("/api/token", json={"username": "admin", "password": "nope"}).status_code == 401
    assert client.post("/api/token", data="x").status_code == 400
    assert client.get("/api/tasks").status_code == 401
    assert client.get("/api/tasks", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_start_list_claim_unclaim_complete_and_read(client, token):
    clerk, handler = token("zhang.intake"), token("he.netbasic")
    case = start(client, clerk)
    assert [t["element_id"] for t in case["open_tasks"]] == ["accept"]
    task_id = case["open_tasks"][0]["id"]
    listed = client.get("/api/tasks?process=normal&category=complaint.network", headers=handler).get_json()
    assert [t["id"] for t in listed["tasks"]] == [task_id] and listed["next_cursor"] is None
    assert client.get("/api/tasks?category=complaint.billing", headers=handler).get_json()["tasks"] == []
    assert client.get(f"/api/tasks/{task_id}", headers=handler).get_json()["form"]
    assert client.post(f"/api/tasks/{task_id}/claim", headers=handler).get_json()["assignee"] == "he.netbasic"
    assert client.post(f"/api/tasks/{task_id}/unclaim", headers=handler).get_json()["assignee"] is None
    done = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"responsible_person": "he.netbasic"}},
                       headers=handler)
    assert done.status_code == 200 and [t["element_id"] for t in done.get_json()["open_tasks"]] == ["investigate"]
    detail = client.get(f"/api/cases/{case['id']}", headers=clerk).get_json()
    assert {"kind": "element", "id": "accept"} in detail["path"] and detail["events"]


def test_task_and_case_permissions(client, token):
    case = start(client, token("zhang.intake"))
    task_id, stranger = case["open_tasks"][0]["id"], token("li.handler")
    assert client.get(f"/api/tasks/{task_id}", headers=stranger).status_code == 403
    assert client.post(f"/api/tasks/{task_id}/claim", headers=stranger).status_code == 403
    assert client.post(f"/api/tasks/{task_id}/complete", json={"data": {}}, headers=stranger).status_code == 403
    assert client.get(f"/api/cases/{case['id']}", headers=stranger).status_code == 403
    assert client.get("/api/tasks/nope", headers=stranger).status_code == 404
    assert client.get("/api/cases/99999", headers=stranger).status_code == 404


def test_complete_errors_400_and_409(client, token):
    case = start(client, token("zhang.intake"))
    task_id, he, tang = case["open_tasks"][0]["id"], token("he.netbasic"), token("tang.netbasic")
    invalid = client.post(f"/api/tasks/{task_id}/complete", json={"data": {}}, headers=he)
    assert invalid.status_code == 400 and "responsible_person" in invalid.get_json()["errors"]
    assert client.post(f"/api/tasks/{task_id}/complete", json={"data": []}, headers=he).status_code == 400
    assert client.post(f"/api/tasks/{task_id}/claim", headers=tang).status_code == 200
    assert client.post(f"/api/tasks/{task_id}/claim", headers=he).status_code == 409       # claimed by tang
    ok = {"data": {"responsible_person": "tang.netbasic"}}
    assert client.post(f"/api/tasks/{task_id}/complete", json=ok, headers=tang).status_code == 200
    again = client.post(f"/api/tasks/{task_id}/complete", json=ok, headers=he)
    assert again.status_code == 409 and again.get_json()["code"] == "task_already_completed"
    assert again.get_json()["params"]["by"] == "tang.netbasic"


def test_start_case_errors(client, token):
    clerk = token("zhang.intake")
    refused = client.post("/api/cases", json={"process_key": "normal", "data": {**INTAKE, "facts": ""}}, headers=clerk)
    assert refused.status_code == 400 and "facts" in refused.get_json()["errors"]
    assert client.post("/api/cases", json={"process_key": "nope", "data": {}}, headers=clerk).status_code == 404
    assert client.post("/api/cases", json={"data": {}}, headers=clerk).status_code == 400


def test_deploy_is_for_process_owners(client, token):
    loop = {"file": (io.BytesIO(fixture_bytes("loop.bpmn")), "loop.bpmn")}
    assert client.post("/api/processes", data=loop, headers=token("zhang.intake")).status_code == 403
    owner = token("admin", "admin")
    before = client.get("/api/processes", headers=owner).get_json()
    broken = {"file": (io.BytesIO(b"<broken"), "broken.bpmn")}
    assert client.post("/api/processes", data=broken, headers=owner).status_code == 400
    assert client.post("/api/processes", data={}, headers=owner).status_code == 400
    assert client.get("/api/processes", headers=owner).get_json() == before
    loop = {"file": (io.BytesIO(fixture_bytes("loop.bpmn")), "loop.bpmn")}
    deployed = client.post("/api/processes", data=loop, headers=owner)
    assert deployed.status_code == 201 and deployed.get_json()[0]["key"] == "loop_demo"


def test_session_auth_needs_the_csrf_header_for_writes(web_engine):
    from web import create_app

    client = create_app({"ENGINE": web_engine, "TESTING": True, "SECRET_KEY": "x"}).test_client()
    login_page = client.get("/login").get_data(as_text=True)
    csrf = login_page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "zhang.intake", "password": "demo", "csrf_token": csrf})
    assert client.get("/api/tasks").status_code == 200
    body = {"process_key": "normal", "data": INTAKE}
    assert client.post("/api/cases", json=body).status_code == 403
    assert client.post("/api/cases", json=body, headers={"X-CSRFToken": csrf}).status_code == 201


@pytest.fixture
def counted(web_engine):
    """A client of an app that tells in each response what answering it sent to the database."""
    from web import create_app

    app = create_app({"ENGINE": web_engine, "TESTING": True, "SECRET_KEY": "test", "SQL_COUNTS": True})
    return app.test_client()


def test_every_api_call_costs_at_most_two_transactions_the_token_none(counted):
    answer = counted.post("/api/token", json={"username": "zhang.intake", "password": "demo"})
    clerk = {"Authorization": f"Bearer {answer.get_json()['token']}"}
    handler = {"Authorization": "Bearer " + counted.post(
        "/api/token", json={"username": "he.netbasic", "password": "demo"}).get_json()["token"]}
    started = counted.post("/api/cases", json={"process_key": "normal", "data": INTAKE}, headers=clerk)
    task_id = started.get_json()["open_tasks"][0]["id"]
    calls = [
        started,
        counted.get("/api/tasks", headers=handler),
        counted.get(f"/api/tasks/{task_id}", headers=handler),
        counted.post(f"/api/tasks/{task_id}/claim", headers=handler),
        counted.post(f"/api/tasks/{task_id}/complete?detail=full",
                     json={"data": {"responsible_person": "he.netbasic"}}, headers=handler),
        counted.get(f"/api/cases/{started.get_json()['id']}", headers=clerk),
    ]
    assert [c.status_code for c in calls] == [201, 200, 200, 200, 200, 200]
    transactions = [int(c.headers["X-SQL-Transactions"]) for c in calls]
    assert transactions == [1, 1, 1, 1, 2, 1], "a bearer token is checked without a query"
    assert int(calls[0].headers["X-SQL-Commits"]) == 1 and int(calls[0].headers["X-SQL-Statements"]) > 3


def test_start_and_complete_answer_with_the_open_tasks_and_the_full_case_only_on_request(client, token):
    clerk, handler = token("zhang.intake"), token("he.netbasic")
    started = start(client, clerk)
    assert set(started) == {"id", "status", "open_tasks"}
    assert started["open_tasks"][0]["candidate_groups"] == ["net_basic"] and "due_at" in started["open_tasks"][0]
    task_id = started["open_tasks"][0]["id"]
    done = client.post(f"/api/tasks/{task_id}/complete?detail=full",
                       json={"data": {"responsible_person": "he.netbasic"}}, headers=handler).get_json()
    assert [t["element_id"] for t in done["open_tasks"]] == ["investigate"]
    assert done["case"]["case"]["id"] == started["id"] and {"kind": "element", "id": "accept"} in done["case"]["path"]


def test_a_token_whose_groups_were_altered_is_refused(client, token):
    import base64
    import json

    header = token("li.handler")["Authorization"]
    payload, rest = header[7:].split(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["g"].append("admin")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert client.get("/api/tasks", headers={"Authorization": f"Bearer {forged}.{rest}"}).status_code == 401


def test_the_inbox_pages_through_the_api_with_a_cursor(client, token):
    clerk, handler = token("zhang.intake"), token("he.netbasic")
    made = [start(client, clerk)["open_tasks"][0]["id"] for _ in range(3)]
    first = client.get("/api/tasks?page_size=2", headers=handler).get_json()
    second = client.get(f"/api/tasks?page_size=2&cursor={first['next_cursor']}", headers=handler).get_json()
    assert sorted(t["id"] for t in first["tasks"] + second["tasks"]) == sorted(made)
    assert second["next_cursor"] is None and first["claimable"]["net_basic"] == 3
    bad = client.get("/api/tasks?cursor=nonsense", headers=handler)
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_cursor"
    assert client.get("/api/tasks?due=x", headers=handler).get_json()["code"] == "invalid_date"


def test_only_the_groups_the_policy_names_may_start_the_crisis_process(client, token):
    refused = client.post("/api/cases", json={"process_key": "crisis", "data": {}}, headers=token("li.handler"))
    assert refused.status_code == 403 and refused.get_json()["code"] == "may_not_start"


def test_a2_conformance_api_is_for_the_compliance_group_and_administrators(client, token):
    clerk, officer = token("zhang.intake"), token("qian.audit")
    case = start(client, clerk)
    judged = client.get(f"/api/compliance/cases/{case['id']}", headers=officer)
    assert judged.status_code == 200, judged.get_json()
    body = judged.get_json()
    assert (body["fits"], body["version"], body["deviations"], body["path"][-1]) == (True, 1, [], "merge_accept")
    summary = client.get("/api/compliance/conformance?process=normal&from=2025-03-01&to=2025-03-31", headers=officer)
    assert (summary.get_json()["cases"], summary.get_json()["fitting"]) == (1, 1)
    assert client.get("/api/compliance/conformance?from=2025-04-01", headers=token("admin", "admin")).get_json()["cases"] == 0
    refused = client.get(f"/api/compliance/cases/{case['id']}", headers=clerk)
    assert refused.status_code == 403 and refused.get_json()["params"] == {"permission": "see_compliance"}
    assert client.get("/api/compliance/conformance", headers=clerk).status_code == 403
    bad = client.get("/api/compliance/conformance?from=March", headers=officer)
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_date"
    assert client.get("/api/compliance/cases/999", headers=officer).status_code == 404


def test_a2_a3_adherence_export_and_log_check_through_the_api(client, token):
    clerk, officer = token("zhang.intake"), token("qian.audit")
    start(client, clerk)
    adherence = client.get("/api/compliance/adherence?process=normal", headers=officer).get_json()
    assert adherence == {"rows": [], "missed": []}          # waiting at acceptance: no deadline runs yet
    xes = client.get("/api/compliance/export.xes?process=normal", headers=officer)
    assert xes.status_code == 200 and xes.headers["Content-Disposition"] == "attachment; filename=complaints.xes"
    assert b"<trace>" in xes.data and b'key="org:resource" value="zhang.intake"' in xes.data
    assert client.get("/api/compliance/export.pdf", headers=officer).status_code == 400
    assert client.get("/api/compliance/export.csv", headers=clerk).status_code == 403
    checked = client.post("/api/compliance/logs", headers=officer, data={
        "file": (io.BytesIO(xes.data), "cases.xes"), "process_key": "normal", "version": "1", "match": "name"})
    assert checked.status_code == 200 and (checked.get_json()["traces"], checked.get_json()["fitting"]) == (1, 1)
    bad = client.post("/api/compliance/logs", headers=officer, data={
        "file": (io.BytesIO(b"case_id,activity\n1,x\n"), "log.csv"), "process_key": "normal", "version": "1"})
    assert bad.status_code == 400 and bad.get_json()["params"]["row"] == 1
