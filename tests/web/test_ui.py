"""Staff UI over HTTP: sign-in, CSRF, intake validation, permissions (403) and conflicts (409) as pages."""

from __future__ import annotations

import pytest

from engine.services import SYSTEM
from web import create_app

INTAKE = {"complainant_name": "王先生", "contact": "13800000000", "received_at": "2025-03-03", "target": "服务",
          "facts": "客户反映的问题经过", "channel": "hotline", "category": "complaint.network.signal", "amount": "0",
          "service_quality_agent_count": "0"}


def register(client, **changes) -> int:
    answer = client.post("/intake", data={**INTAKE, **changes})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def accept_task(web_engine, case_id):
    return next(t for t in web_engine.reads.case_page(case_id, SYSTEM).tasks if t.state == "ready")


def test_wrong_password_is_refused(client, auth):
    answer = auth.login("zhang.intake", "wrong")
    assert answer.status_code == 200 and "用户名或密码错误" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_chinese_by_default_english_per_user(client, auth, web_engine):
    auth.login()
    assert "<h1>待办</h1>" in client.get("/").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/"})
    assert "<h1>Inbox</h1>" in client.get("/").get_data(as_text=True)
    assert web_engine.accounts.account("zhang.intake").locale == "en"


def test_forms_need_the_csrf_token(web_engine):
    client = create_app({"ENGINE": web_engine, "TESTING": True, "SECRET_KEY": "x"}).test_client()
    assert client.post("/login", data={"username": "admin", "password": "admin"}).status_code == 400


@pytest.mark.parametrize("field, value", [("complainant_name", ""), ("facts", "短"), ("received_at", "tomorrow"),
                                          ("amount", "-1"), ("channel", "pigeon")])
def test_intake_i6_shows_the_error_beside_the_field(client, auth, field, value):
    auth.login()
    answer = client.post("/intake", data={**INTAKE, field: value})
    assert answer.status_code == 400
    assert f'id="error-{field}"' in answer.get_data(as_text=True)


@pytest.mark.parametrize("field, value, chinese, english", [
    ("facts", "短", "至少 5 个字符", "must be at least 5 characters"),
    ("amount", "-1", "不能小于 0", "must be at least 0"),
    ("channel", "pigeon", "须为以下之一:", "must be one of "),
    ("complainant_name", "", "必填", "is required"),
])
def test_intake_field_errors_in_the_persons_language(client, auth, field, value, chinese, english):
    auth.login()
    error = f'id="error-{field}">'
    assert f"{error}{chinese}" in client.post("/intake", data={**INTAKE, field: value}).get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/"})
    assert f"{error}{english}" in client.post("/intake", data={**INTAKE, field: value}).get_data(as_text=True)


def test_an_enum_error_names_the_allowed_values_as_the_form_does(client, auth):
    """The intake form's channels by name (热线电话 / Hotline), never their ids (hotline)."""
    auth.login()
    page = client.post("/intake", data={**INTAKE, "channel": "pigeon"}).get_data(as_text=True)
    error = page.split('id="error-channel">', 1)[1].split("</p>", 1)[0]
    assert "热线电话" in error and "hotline" not in error
    client.post("/language", data={"locale": "en", "next": "/"})
    page = client.post("/intake", data={**INTAKE, "channel": "pigeon"}).get_data(as_text=True)
    error = page.split('id="error-channel">', 1)[1].split("</p>", 1)[0]
    assert error.startswith("must be one of Hotline, E-mail")


def test_api_field_errors_stay_english_with_the_field_ids(client):
    token = client.post("/api/token", json={"username": "zhang.intake", "password": "demo"}).get_json()["token"]
    data = {**INTAKE, "facts": "短", "amount": 0, "service_quality_agent_count": 0}
    answer = client.post("/api/cases", json={"process_key": "normal", "data": data},
                         headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 400 and answer.get_json()["errors"] == {
        "facts": {"code": "min_length", "params": {"n": 5}, "message": "must be at least 5 characters"}}


def test_intake_lands_in_the_routed_groups_inbox(client, auth, web_engine):
    auth.login()
    case_id = register(client)
    auth.logout()
    auth.login("he.netbasic")
    page = client.get("/").get_data(as_text=True)
    assert f'data-case="{case_id}"' in page and "网络部基础网络组: <b>1</b>" in page and "net_basic:" not in page


def test_claim_complete_with_field_errors_then_valid(client, auth, web_engine):
    auth.login()
    case_id = register(client)
    task = accept_task(web_engine, case_id)
    auth.logout()
    auth.login("he.netbasic")
    assert client.post(f"/tasks/{task.id}/claim").status_code == 302
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert task.documentation in page and "客户反映的问题经过" in page    # the rule and the case's facts
    answer = client.post(f"/tasks/{task.id}/complete", data={"responsible_person": ""})
    assert answer.status_code == 400 and "必填" in answer.get_data(as_text=True)
    answer = client.post(f"/tasks/{task.id}/complete", data={"responsible_person": "he.netbasic"})
    assert answer.status_code == 302
    assert web_engine.reads.task_page(task.id, SYSTEM).task.state == "completed"


def test_foreign_task_and_case_are_403(client, auth, web_engine):
    auth.login()
    case_id = register(client)
    task = accept_task(web_engine, case_id)
    auth.logout()
    auth.login("li.handler")            # market group: not a candidate of a network complaint
    assert client.get(f"/tasks/{task.id}").status_code == 403
    assert client.post(f"/tasks/{task.id}/claim").status_code == 403
    assert client.get(f"/cases/{case_id}").status_code == 403
    assert client.get("/tasks/no-such-task").status_code == 404


def test_an_error_page_words_the_errors_code_in_the_persons_language(client, auth):
    auth.login()
    case_id = register(client)
    auth.logout()
    auth.login("li.handler")
    assert "该工单属于其他组。" in client.get(f"/cases/{case_id}").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "next": "/"})
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "This case belongs to other groups." in page and "may not see case" not in page


def test_completing_a_completed_task_is_a_409_page(client, auth, web_engine):
    auth.login()
    task = accept_task(web_engine, register(client))
    web_engine.cases.complete(task.id, {"responsible_person": "tang.netbasic"}, web_engine.accounts.actor("tang.netbasic"))
    auth.logout()
    auth.login("he.netbasic")
    answer = client.post(f"/tasks/{task.id}/complete", data={"responsible_person": "he.netbasic"})
    assert answer.status_code == 409
    assert 'id="conflict"' in answer.get_data(as_text=True) and "tang.netbasic" in answer.get_data(as_text=True)


def test_admin_pages_are_for_admins(client, auth):
    auth.login()
    assert client.get("/admin/processes").status_code == 403
    auth.logout()
    auth.login("admin", "admin")
    for page in ("/admin/processes", "/admin/organisation", "/admin/calendar"):
        assert client.get(page).status_code == 200
    assert client.post("/admin/calendar", data={"date": "2025-10-09", "workday": "false", "note": "调休"}).status_code == 302
    assert "2025-10-09" in client.get("/admin/calendar").get_data(as_text=True)
    assert client.post("/admin/calendar/2025-10-09/delete").status_code == 302


def test_broken_upload_shows_the_error_and_keeps_the_versions(client, auth, web_engine):
    auth.login("admin", "admin")
    before = web_engine.admin.versions()
    answer = client.post("/admin/processes", data={"bpmn": (__import__("io").BytesIO(b"<definitions"), "broken.bpmn")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and 'id="deploy-error"' in answer.get_data(as_text=True)
    assert web_engine.admin.versions() == before


def test_case_page_lists_path_tasks_and_serves_its_diagram(client, auth):
    auth.login()
    case_id = register(client)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "start_received" in page and '["accept"]' in page
    xml_url = page.split('data-xml="', 1)[1].split('"', 1)[0]
    assert b"bpmndi:BPMNDiagram" in client.get(xml_url).data
    assert client.get("/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js").status_code == 200


def test_n4_calendar_page_asks_for_next_years_notice_until_one_day_of_it_is_entered(db):
    """Late in the last year the holiday package knows, the administrator is told to enter the next year's notice."""
    from datetime import datetime, timezone

    from engine.services import FixedClock
    from tests.web.conftest import AuthActions, shipped
    from web import create_app

    engine = shipped(db, FixedClock(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)))
    client = create_app({"ENGINE": engine, "TESTING": True, "WTF_CSRF_ENABLED": False,
                         "SECRET_KEY": "test"}).test_client()
    AuthActions(client).login("admin", "admin")
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert 'class="flash error" id="holiday-notice"' in page
    assert "法定节假日数据截至 2026-12-31。2027 年尚未录入任何调整" in page
    assert client.post("/admin/calendar", data={"date": "2027-01-01", "workday": "false", "note": "元旦"}).status_code == 302
    page = client.get("/admin/calendar").get_data(as_text=True)
    assert 'class="hint" id="holiday-notice"' in page and "已录入的 2027 年调整：1 天" in page


def test_the_inbox_pages_by_due_time_with_next_and_first_page_links(client, auth):
    import re

    auth.login()
    made = {register(client) for _ in range(3)}
    auth.logout()
    auth.login("he.netbasic")
    first = client.get("/?page_size=2").get_data(as_text=True)
    assert first.count('data-task="') == 2 and 'id="first-page"' not in first
    following = re.search(r'href="([^"]+)" id="next-page"', first).group(1).replace("&amp;", "&")
    second = client.get(following).get_data(as_text=True)
    assert second.count('data-task="') == 1 and 'id="next-page"' not in second and 'id="first-page"' in second
    cases = {int(c) for c in re.findall(r'data-case="(\d+)"', first + second)}
    assert cases == made
