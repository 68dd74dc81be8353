"""Issue 16 item 7, the API's edge: every request is checked against the OpenAPI document, so a bad one is a 4xx
with a message on both databases (never a 500 from the database or the engine), and a valid one is taken."""

from __future__ import annotations

import pytest

from tests.web.test_api import INTAKE, start
from web.openapi import MAX_DEPTH, document


@pytest.fixture
def admin(token):
    return token("admin", "admin")


def refused(answer, status=400, code=None):
    body = answer.get_json()
    assert answer.status_code == status, body
    assert body["error"] and body["code"] and (code is None or body["code"] == code), body
    return body


@pytest.mark.parametrize("query, code", [
    ("due=x", "invalid_date"), ("due=2025-02-30", "invalid_date"), ("due=20250301", "invalid_date"),
    ("page_size=abc", "invalid_page_size"), ("page_size=0", "invalid_page_size"),
    ("page_size=99999999999999999999999999999999999", "invalid_page_size"),
    ("cursor=nonsense", "invalid_cursor"), ("process=a%00b", "invalid_parameter"),
    ("category=complaint%00", "invalid_parameter"), ("process=" + "p" * 101, "invalid_parameter"),
])
def test_a_bad_inbox_query_is_a_400_naming_the_parameter(client, admin, query, code):
    body = refused(client.get(f"/api/tasks?{query}", headers=admin), code=code)
    assert body["params"]["name"] == query.split("=")[0] and body["params"]["location"] == "query"


@pytest.mark.parametrize("query", ["due=9999-12-31", "due=0001-01-01", "page_size=500", "overdue=1",
                                   "cursor=253402214400000000.1740963600000000.ffffffff-ffff",
                                   "cursor=999999999999999999.0.a", "process=%E4%B8%AD", "category="])
def test_a_valid_inbox_query_is_taken(client, admin, query):
    answer = client.get(f"/api/tasks?{query}", headers=admin)
    assert answer.status_code == 200, answer.get_json()


def test_a_cursor_the_inbox_gave_continues_it(client, token):
    clerk, handler = token("zhang.intake"), token("he.netbasic")
    made = {start(client, clerk)["open_tasks"][0]["id"] for _ in range(3)}
    first = client.get("/api/tasks?page_size=2", headers=handler).get_json()
    second = client.get(f"/api/tasks?page_size=2&cursor={first['next_cursor']}", headers=handler).get_json()
    assert {t["id"] for t in first["tasks"] + second["tasks"]} == made


@pytest.mark.parametrize("path", ["/api/tasks/a%00b", "/api/tasks/a%00b/claim", "/api/tasks/" + "x" * 101])
def test_a_bad_task_id_is_a_400(client, admin, path):
    answer = client.post(path, headers=admin) if path.endswith("claim") else client.get(path, headers=admin)
    assert refused(answer, code="invalid_parameter")["params"] == {"location": "path", "name": "task_id"}


@pytest.mark.parametrize("case_id", ["2147483648", "99999999999999999999999", "0"])
def test_a_case_id_beyond_the_column_is_a_400(client, admin, case_id):
    refused(client.get(f"/api/cases/{case_id}", headers=admin), code="invalid_parameter")


def test_a_case_id_within_the_column_that_does_not_exist_is_a_404(client, admin):
    refused(client.get("/api/cases/2147483647", headers=admin), 404, "case_not_found")


def test_a_nul_in_the_token_username_or_password_is_a_400(client):
    refused(client.post("/api/token", json={"username": "admin\u0000", "password": "admin"}), code="invalid_body")
    refused(client.post("/api/token", json={"username": "admin", "password": "a\u0000"}), code="invalid_body")
    assert "a\u0000" not in client.post("/api/token", json={"username": "x", "password": "a\u0000"}).get_data(
        as_text=True)


def test_a_nul_in_a_page_s_form_or_query_is_a_400_and_a_lone_surrogate_signs_no_one_in(client, web_engine):
    assert client.post("/login", data={"username": "zhang.intake\u0000", "password": "demo"}).status_code == 400
    assert client.get("/login?next=/%00").status_code == 400
    assert web_engine.accounts.sign_in("zhang.intake\ud800", "demo", "10.0.0.1") is None
    assert web_engine.accounts.sign_in("zhang.intake", "demo", "10.0.0.1\x00") is not None
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("raw", [
    '{"process_key": "normal", "data": {"amount": ' + "9" * 400 + "}}",
    '{"process_key": "normal", "data": {"amount": 1e400}}',
    '{"process_key": "normal", "data": {"amount": NaN}}',
    '{"process_key": "normal", "data": {"amount": -Infinity}}',
    '{"process_key": "normal", "data": {"amount": ' + "9" * 5000 + "}}",
    '{"process_key": "normal", "data": {"facts": "a\\u0000b"}}',
    '{"process_key": "normal", "data": {"fa\\u0000cts": "x"}}',
    '{"process_key": "normal", "data": {"facts": "\\ud800"}}',
    '{"process_key": "nor\\u0000mal", "data": {}}',
    '{"process_key": "' + "n" * 101 + '", "data": {}}',
    '{"process_key": "normal", "data": []}',
    '{"process_key": 7}',
    '{"process_key": "normal", "data": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "[" * 100_000 + "]" * 100_000,
    '{"process_key": "normal", "data": {"x": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}}",
    "not json", "\xff\xfe", "",
])
def test_a_bad_body_is_a_400_and_starts_nothing(client, admin, web_engine, raw):
    from engine.services import SYSTEM
    before = len(web_engine.reads.case_list(SYSTEM))
    refused(client.post("/api/cases", data=raw.encode("utf-8", "surrogatepass"), content_type="application/json",
                        headers=admin), code="invalid_body")
    assert len(web_engine.reads.case_list(SYSTEM)) == before


def test_a_body_within_the_depth_and_the_numbers_is_taken(client, token):
    answer = client.post("/api/cases", json={"process_key": "normal", "data": dict(INTAKE, amount=2 ** 53 - 1)},
                         headers=token("zhang.intake"))
    assert answer.status_code == 201, answer.get_json()
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    raw = '{"username": "zhang.intake", "password": "demo", "client": ' + nested + "}"
    assert client.post("/api/token", data=raw, content_type="application/json").status_code == 200


def test_completing_with_a_huge_amount_is_a_400(client, token):
    task_id = start(client, token("zhang.intake"))["open_tasks"][0]["id"]
    refused(client.post(f"/api/tasks/{task_id}/complete", data='{"data": {"amount": 1' + "0" * 400 + "}}",
                        content_type="application/json", headers=token("he.netbasic")), code="invalid_body")


def test_an_undeclared_method_is_a_405_with_allow(client, admin):
    answer = client.open("/api/cases/1", method="TRACE", headers=admin)
    assert answer.status_code == 405 and set(answer.headers["Allow"].split(", ")) >= {"GET"}
    assert answer.get_json()["code"] == "method_not_allowed"


def test_every_status_the_api_answers_is_documented(client, admin, app):
    """Each operation documents 400 when it has parameters or a body, 413 when it takes a body, 429 for a token."""
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            if operation.get("parameters") or operation.get("requestBody"):
                assert "400" in codes, (method, path)
            if operation.get("requestBody"):
                assert "413" in codes, (method, path)
    assert {"413", "429"} <= set(doc["paths"]["/api/token"]["post"]["responses"])


@pytest.mark.parametrize("month_start", ["", "2025-13-01T00:00:00+08:00", "2025-04-01T00:00:00", "9999-12-01T00:00+08:00"])
def test_a_bad_drill_down_month_is_a_400(client, token, month_start):
    """Found by the fuzz test: the quarter's month of a drill-down was parsed unchecked (500)."""
    answer = client.get("/api/reports/P-3/cases", query_string={"period": "2025-Q2", "month_start": month_start},
                        headers=token("zhao.group"))
    refused(answer, code="invalid_drill")


def test_the_typical_cases_path_is_no_report(client, admin):
    """Found by the fuzz test: /api/reports/typical also matched the report route (a GET in its Allow)."""
    assert set(client.open("/api/reports/typical", method="OPTIONS", headers=admin).headers["Allow"].split(", ")) == {
        "POST", "OPTIONS"}
    refused(client.get("/api/reports/typical?period=2025-04", headers=admin), 405)


@pytest.mark.parametrize("received_at, taken", [("2025-03-04", False), ("2026-01-01", False),
                                                ("2025-03-03", True), ("2025-02-28", True)])
def test_i1_a_receipt_date_after_the_day_of_registration_is_a_400_naming_received_at(
        client, token, web_engine, received_at, taken):
    """I-1 (《医院服务投诉管理制度》第五条): the receipt is registered, so it cannot lie after registration (the
    clock: Monday 2025-03-03). A future received_at is refused at intake, naming the field, and starts nothing;
    it used to reach the register_receipt script and fail there."""
    from engine.services import SYSTEM
    before = len(web_engine.reads.case_list(SYSTEM))
    answer = client.post("/api/cases", json={"process_key": "normal", "data": dict(INTAKE, received_at=received_at)},
                         headers=token("zhang.intake"))
    if taken:
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["status"] == "running"
        return
    body = refused(answer, code="form_invalid")
    assert body["params"]["fields"] == ["received_at"], body
    assert body["errors"]["received_at"]["code"] == "date_max", body
    assert body["errors"]["received_at"]["message"] == "must be on or before 2025-03-03", body
    assert len(web_engine.reads.case_list(SYSTEM)) == before
