"""The repair, retry and cancel of a case through the JSON API (issue 18; SPEC A-2: administrators' audited
overrides): a real incident of the shipped processes (tests/web/incidents.py), 400 naming the field for bad
repair data, 403 outside the administrators, 409 on a cancelled case."""

from __future__ import annotations

import pytest

from engine.services import SYSTEM
from tests.web.incidents import ERROR, RIGHT_AGENT, wrong_agent_intake


@pytest.fixture
def incident(client, token):
    answer = client.post("/api/cases", json={"process_key": "normal", "data": wrong_agent_intake("2025-03-03")},
                         headers=token("zhang.intake"))
    assert answer.status_code == 201 and answer.get_json()["status"] == "incident", answer.get_json()
    return answer.get_json()["id"]


def _status(web_engine, case_id):
    return web_engine.reads.case_page(case_id, SYSTEM).case.status


@pytest.mark.parametrize("data, field", [({"complained_agent": "ghost.agent"}, "complained_agent"),
                                         ({"service_quality_agent_count": "many"}, "service_quality_agent_count"),
                                         ({"priority": "high"}, "priority")])
def test_a2_bad_repair_data_is_a_400_naming_the_field_and_changes_nothing(client, token, web_engine, incident,
                                                                          data, field):
    answer = client.post(f"/api/cases/{incident}/repair", json={"reason": "wrong account", "data": data},
                         headers=token("admin", "admin"))
    body = answer.get_json()
    assert answer.status_code == 400 and body["code"] == "form_invalid" and set(body["errors"]) == {field}
    page = web_engine.reads.case_page(incident, SYSTEM)
    assert page.case.status == "incident" and ERROR in page.case.incident
    assert [e for e in page.events if e.lifecycle == "admin_action"] == []


def test_a2_a_repair_needs_a_reason(client, token, incident):
    answer = client.post(f"/api/cases/{incident}/repair", json={"data": {"complained_agent": RIGHT_AGENT}},
                         headers=token("admin", "admin"))
    assert answer.status_code == 400 and "reason" in answer.get_json()["error"]


@pytest.mark.parametrize("action, body", [("retry", None), ("repair", {"reason": "x", "data": {}}),
                                          ("cancel", {"reason": "x"})])
def test_a2_only_administrators_retry_repair_or_cancel(client, token, web_engine, incident, action, body):
    answer = client.post(f"/api/cases/{incident}/{action}", json=body, headers=token("zhao.group"))
    assert answer.status_code == 403 and answer.get_json()["code"] == "forbidden"
    assert _status(web_engine, incident) == "incident"


def test_a2_the_repair_page_and_its_actions_are_the_administrators(client, auth, web_engine, incident):
    auth.login("zhao.group")
    assert client.get(f"/operations/cases/{incident}/repair").status_code == 403
    assert client.post(f"/operations/cases/{incident}/repair", data={"reason": "x"}).status_code == 403
    assert client.post(f"/operations/cases/{incident}/cancel", data={"cancel_reason": "x"}).status_code == 403
    assert _status(web_engine, incident) == "incident"
    auth.logout()
    auth.login("admin", "admin")
    assert client.get(f"/operations/cases/{incident}/repair").status_code == 200


def test_a2_a_failed_retry_says_incident_and_a_repair_with_the_right_agent_runs_on(client, token, web_engine,
                                                                                   incident):
    admin = token("admin", "admin")
    again = client.post(f"/api/cases/{incident}/retry", headers=admin)
    assert again.status_code == 200 and again.get_json()["status"] == "incident"
    assert ERROR in again.get_json()["incident"]
    in_vain = client.post(f"/api/cases/{incident}/repair", headers=admin, json={
        "reason": "王主任?", "data": {"complained_agent": "wang.head"}})
    assert in_vain.status_code == 200 and in_vain.get_json()["status"] == "incident"
    assert "wang.head belongs to no call-centre team" in in_vain.get_json()["incident"]
    repaired = client.post(f"/api/cases/{incident}/repair?detail=full", headers=admin, json={
        "reason": "客户所投诉的是谢话务员,登记时填错账号", "data": {"complained_agent": RIGHT_AGENT}})
    body = repaired.get_json()
    assert repaired.status_code == 200 and body["status"] == "running"
    assert [t["element_id"] for t in body["open_tasks"]] == ["call_back"]
    [retry, _, repair] = [e for e in body["case"]["events"] if e["lifecycle"] == "admin_action"]
    assert "incident" not in body
    assert (retry["data"]["action"], repair["data"]["action"], repair["actor"], repair["data"]["data"]) == (
        "retry", "repair", "admin", {"complained_agent": RIGHT_AGENT})


def test_a2_a_cancelled_case_is_a_409_for_its_tasks_and_a_second_cancel(client, token, web_engine):
    clerk, admin = token("zhang.intake"), token("admin", "admin")
    started = client.post("/api/cases", headers=clerk, json={"process_key": "normal", "data": {
        **wrong_agent_intake("2025-03-03"), "category": "complaint.network.signal", "complained_agent": None,
        "service_quality_agent_count": 0}}).get_json()
    task_id = started["open_tasks"][0]["id"]
    assert client.post(f"/api/cases/{started['id']}/cancel", json={}, headers=admin).status_code == 400
    cancelled = client.post(f"/api/cases/{started['id']}/cancel", json={"reason": "客户撤诉"}, headers=admin)
    assert cancelled.status_code == 200 and cancelled.get_json() == {"id": started["id"], "status": "cancelled",
                                                                      "open_tasks": []}
    handler = token("he.netbasic")
    done = client.post(f"/api/tasks/{task_id}/complete", json={"data": {"responsible_person": "he.netbasic"}},
                       headers=handler)
    assert done.status_code == 409 and done.get_json()["code"] == "case_cancelled"
    assert client.post(f"/api/tasks/{task_id}/claim", headers=handler).status_code == 409
    again = client.post(f"/api/cases/{started['id']}/cancel", json={"reason": "again"}, headers=admin)
    assert again.status_code == 409
