"""Person fields name someone of the organisation (issue 18; S-6 looks them up for deductions): refused
otherwise with a 400 naming the field, changing nothing; the forms offer a picker over the people."""

from __future__ import annotations

from engine.services import SYSTEM
from tests.web.test_api import INTAKE, start


def test_an_unknown_person_at_intake_is_a_400_naming_the_field(client, token, web_engine):
    clerk = token("zhang.intake")
    before = len(web_engine.reads.case_list(SYSTEM))
    answer = client.post("/api/cases", json={"process_key": "normal", "data": {
        **INTAKE, "category": "complaint.service.call_centre_agent", "complained_agent": "ghost.agent"}},
        headers=clerk)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["code"] == "form_invalid" and set(body["errors"]) == {"complained_agent"}
    assert body["errors"]["complained_agent"]["code"] == "unknown_person"
    assert "ghost.agent" in body["errors"]["complained_agent"]["message"]
    assert len(web_engine.reads.case_list(SYSTEM)) == before          # nothing started


def test_an_unknown_responsible_person_on_n1_is_a_400_and_the_task_stays_open(client, token, web_engine):
    case = start(client, token("zhang.intake"))
    task = case["open_tasks"][0]
    handler = token("he.netbasic")
    assert client.post(f"/api/tasks/{task['id']}/claim", headers=handler).status_code == 200
    answer = client.post(f"/api/tasks/{task['id']}/complete", json={"data": {
        "responsible_person": "nobody.xyz", "complex_case": False}}, headers=handler)
    assert answer.status_code == 400
    assert answer.get_json()["errors"]["responsible_person"]["code"] == "unknown_person"
    assert web_engine.reads.task_page(task["id"], SYSTEM).task.state == "ready"
    done = client.post(f"/api/tasks/{task['id']}/complete", json={"data": {
        "responsible_person": "tang.netbasic", "complex_case": False}}, headers=handler)
    assert done.status_code == 200, done.get_json()


def test_the_task_form_offers_the_people_and_words_the_refusal(client, auth, web_engine):
    ref = web_engine.cases.start("normal", INTAKE, web_engine.accounts.actor("zhang.intake"))
    task = ref.open_tasks[0]
    auth.login("he.netbasic")
    client.post(f"/tasks/{task.id}/claim")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'list="people"' in page and '<option value="tang.netbasic">唐工 Tang (basic-network engineer)</option>' in page
    refused = client.post(f"/tasks/{task.id}/complete", data={"responsible_person": "nobody.xyz"})
    assert refused.status_code == 400
    assert "不是本单位的人员:nobody.xyz" in refused.get_data(as_text=True)


def test_the_api_start_with_the_same_token_answers_the_first_case(client, token, web_engine):
    clerk = token("zhang.intake")
    body = {"process_key": "normal", "data": INTAKE, "token": "retry-after-timeout-0001"}
    first = client.post("/api/cases", json=body, headers=clerk)
    again = client.post("/api/cases", json=body, headers=clerk)
    header = client.post("/api/cases", json={"process_key": "normal", "data": INTAKE},
                         headers={**clerk, "Idempotency-Key": "retry-after-timeout-0001"})
    assert (first.status_code, again.status_code, header.status_code) == (201, 200, 200)
    assert first.get_json()["id"] == again.get_json()["id"] == header.get_json()["id"]
    assert again.get_json()["replayed"] is True and again.get_json()["open_tasks"] == first.get_json()["open_tasks"]
    assert client.post("/api/cases", json={**body, "token": "short"}, headers=clerk).status_code == 400


def test_only_the_assignee_or_an_administrator_hands_a_task_over(web_engine):
    import pytest

    from engine.services import InvalidRequest, PermissionDenied

    ref = web_engine.cases.start("normal", INTAKE, web_engine.accounts.actor("zhang.intake"))
    task = ref.open_tasks[0]
    he, tang = web_engine.accounts.actor("he.netbasic"), web_engine.accounts.actor("tang.netbasic")
    with pytest.raises(InvalidRequest):                         # nobody claimed it yet
        web_engine.cases.reassign(task.id, "tang.netbasic", he)
    web_engine.cases.claim(task.id, he)
    with pytest.raises(PermissionDenied):                       # a fellow candidate may not take it away
        web_engine.cases.reassign(task.id, "tang.netbasic", tang)
    moved = web_engine.cases.reassign(task.id, "tang.netbasic", web_engine.accounts.actor("admin"), "休假")
    assert moved.assignee == "tang.netbasic"


def test_the_api_searches_cases_by_contact_and_pages_by_keyset(client, token, web_engine):
    clerk = token("zhang.intake")
    ids = [start(client, clerk)["id"] for _ in range(3)]
    group = token("zhao.group")
    first = client.get("/api/cases?contact=13800000000&sort=oldest&page_size=2", headers=group).get_json()
    assert [c["id"] for c in first["cases"]] == ids[:2] and first["next_cursor"]
    rest = client.get(f"/api/cases?contact=13800000000&sort=oldest&page_size=2&cursor={first['next_cursor']}",
                      headers=group).get_json()
    assert [c["id"] for c in rest["cases"]] == ids[2:] and rest["next_cursor"] is None
    assert client.get("/api/cases?since=yesterday", headers=group).status_code == 400
    assert client.get(f"/api/cases?sort=newest&cursor={first['next_cursor']}", headers=group).status_code == 400
