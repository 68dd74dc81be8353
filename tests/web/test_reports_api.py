"""The reports over the JSON API (SPEC §9): figures, drill-down, CSV/XLSX downloads, typical cases, who sees what."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.reportmonth import Month


@pytest.fixture
def month(web_engine, clock):
    return Month(web_engine, clock).build()


def test_api_serves_p1_with_the_transfer_rate_and_drills_down_to_the_cases(client, token, month):  # noqa: F811
    headers = token("zhao.group")
    answer = client.get("/api/reports/P-1?period=2025-W16", headers=headers)
    assert answer.status_code == 200
    summary = next(t for t in answer.get_json()["tables"] if t["key"] == "summary")
    assert summary["rows"] == [[6, 5, 4, "0.8"]] and summary["drill"] == [{"kind": "complaint", "transferred": True}]
    cases = client.get("/api/reports/P-1/cases?period=2025-W16&kind=complaint&transferred=false", headers=headers)
    assert [c["id"] for c in cases.get_json()] == [month.c8.case_id]
    bad = client.get("/api/reports/P-1?period=2025-04", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_period"
    assert client.get("/api/reports/P-9?period=2025-04", headers=headers).status_code == 404


def test_api_exports_xlsx_and_csv_with_the_same_figures(client, token, month):  # noqa: F811
    headers = token("zhao.group")
    answer = client.get("/api/reports/P-2/export/xlsx?period=2025-04", headers=headers)
    assert answer.status_code == 200 and 'filename="P-2_2025-04.xlsx"' in answer.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(answer.data))
    assert ["market", "市场部", 2, 0, 0, 1, 1] in [list(r) for r in book["by_department"].iter_rows(values_only=True)]
    csv = client.get("/api/reports/P-2/export/csv?period=2025-04", headers=headers)
    assert csv.mimetype == "text/csv" and "market,市场部,2,0,0,1,1" in csv.data.decode("utf-8-sig")
    assert client.get("/api/reports/P-2/export/pdf?period=2025-04", headers=headers).status_code == 400


def test_api_department_head_gets_his_department_and_a_handler_nothing(client, token, month):  # noqa: F811
    head = token("ma.network")
    report = client.get("/api/reports/P-2?period=2025-04", headers=head).get_json()
    assert report["department"] == "network"
    assert [r[0] for r in next(t for t in report["tables"] if t["key"] == "by_department")["rows"]] == ["network"]
    other = client.get("/api/reports/P-2?period=2025-04&department=market", headers=head)
    assert other.status_code == 403 and other.get_json()["code"] == "other_department"
    assert client.get("/api/reports/P-2?period=2025-04", headers=token("li.handler")).status_code == 403


def test_api_complaint_group_picks_a_typical_case(client, token, month):  # noqa: F811
    group = token("zhao.group")
    body = {"period": "2025-W16", "case_id": month.c3.case_id, "note": "超时升级"}
    assert client.post("/api/reports/typical", json=body, headers=group).status_code == 201
    assert client.post("/api/reports/typical", json=body, headers=group).get_json() == {"picked": False}
    assert client.post("/api/reports/typical", json=body, headers=token("ma.network")).status_code == 403
    report = client.get("/api/reports/P-1?period=2025-W16", headers=group).get_json()
    typical = next(t for t in report["tables"] if t["key"] == "typical_cases")
    assert typical["rows"] == [[month.c3.case_id, "complaint.billing.disputed_fees", "market", "超时升级", "zhao.group"]]
    gone = client.delete(f"/api/reports/typical/2025-W16/{month.c3.case_id}", headers=group)
    assert gone.get_json() == {"unpicked": True}


def test_api_mail_outbox_is_for_administrators(client, token, month):  # noqa: F811
    month.clock.set(month.clock().replace(year=2025, month=5, day=6, hour=9, minute=30))
    month.engine.reports.deliver()
    admin = token("admin", "admin")
    outbox = client.get("/api/mail?state=pending", headers=admin).get_json()
    assert {m["subject"] for m in outbox} == {"P-1 2025-W18", "P-2 2025-04"} | {
        m["subject"] for m in outbox if "(" in m["subject"]}
    assert client.get("/api/mail", headers=token("zhao.group")).status_code == 403
    answer = client.post(f"/api/mail/{outbox[0]['id']}/resend", headers=admin)
    assert answer.status_code == 409 and answer.get_json()["code"] == "mail_not_dead"
