"""P-1..P-4 over a constructed April 2025, walked through the real engine, figures known by hand (SPEC §9).

The month holds a ledger reversal (S-7), a paused case (N-4) and a case across the
Qingming holiday (4-6 April 2025): the paused and the holiday case are not overdue,
the case left unanswered is (N-11). The expected numbers below are counted from
the story, not read from a run.
"""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from engine.services import SYSTEM, InvalidRequest, PermissionDenied
from engine.services.serialize import plain
from tests.processes.casewalk import shipped_engine
from tests.reportmonth import AGENT, MARKET, NETWORK, Month


@pytest.fixture
def month(db, clock):
    return Month(shipped_engine(db, clock), clock).build()


def rows(report, table: str) -> list[list]:
    return [list(r) for r in plain(report.table(table).rows)]


def test_p1_week_volume_channels_and_transfer_rate_000_1_5(month):
    report = month.engine.reports.report("P-1", "2025-W16", SYSTEM)
    # c3 c4 c7 c8 c9 are complaints, c6 a demand; c8 was withdrawn at 二解 and never dispatched.
    assert rows(report, "summary") == [[6, 5, 4, "0.8"]]
    assert rows(report, "by_kind") == [["complaint", 5], ["demand", 1]]
    assert rows(report, "by_channel") == [["hotline", 3, 2, "0.6667"], ["email", 1, 1, "1"], ["web", 1, 1, "1"]]
    assert rows(report, "by_category")[0] == [NETWORK, "网络信号", 2]
    assert sorted(r[0] for r in rows(report, "by_category")) == sorted([NETWORK, MARKET, AGENT, "complaint.other"])
    week14 = month.engine.reports.report("P-1", "2025-W14", SYSTEM)
    assert rows(week14, "summary") == [[3, 2, 2, "1"]]       # c1, c2 complaints; c5 a consultation
    assert report.due == (datetime(2025, 4, 21).date(),)     # Monday after the week


def test_p1_typical_cases_are_picked_by_the_complaint_group_000_1_6(month):
    e = month.engine
    group, head = e.accounts.actor("zhao.group"), e.accounts.actor("ma.network")
    assert e.reports.pick_typical("2025-W16", month.c3.case_id, "超时未答复, 升级", group) is True
    assert e.reports.pick_typical("2025-W16", month.c3.case_id, "again", group) is False
    with pytest.raises(PermissionDenied):
        e.reports.pick_typical("2025-W16", month.c4.case_id, "", head)
    typical = rows(e.reports.report("P-1", "2025-W16", SYSTEM), "typical_cases")
    assert typical == [[month.c3.case_id, MARKET, "market", "超时未答复, 升级", "zhao.group"]]
    assert rows(e.reports.report("P-1", "2025-W16", head), "typical_cases") == []    # not his department
    assert e.reports.unpick_typical("2025-W16", month.c3.case_id, group) is True


def test_p2_month_per_department_category_grid_and_ledger_with_reversal(month):
    report = month.engine.reports.report("P-2", "2025-04", SYSTEM)
    # complaints, completed, upheld, overdue (N-11), escalated. c4 (paused) and c2 (across Qingming) are on time.
    assert rows(report, "by_department") == [
        ["call_centre", "话务中心", 1, 1, 0, 0, 0],
        ["grid_east", "东城网格", 1, 0, 0, 0, 0],
        ["market", "市场部", 2, 0, 0, 1, 1],
        ["network", "网络部", 3, 2, 2, 0, 0],
    ]
    assert rows(report, "by_grid") == [["grid_east", "东城网格", 1, 0]]
    assert [r[:5] for r in rows(report, "by_category") if r[0] == MARKET] == [[MARKET, "流量费用争议", 2, 0, 1]]
    # S-1 (000 二.1) twice on tang.netbasic: 0.05 + 0.05 booked, one reversed.
    person = {r[0]: r[2:] for r in rows(report, "deductions_person")}
    assert person["tang.netbasic"] == ["points", "0.1", "-0.05", "0.05", 3]
    assert person["he.netbasic"] == ["points", "0.06", "0", "0.06", 2]
    assert person["ma.network"] == ["points", "0.02", "0", "0.02", 2]
    department = {r[0]: r[2:] for r in rows(report, "deductions_department")}
    assert department["network"] == ["points", "0.18", "-0.05", "0.13", 7]      # 0.05 + 0.03 + 0.01 a case
    # c3's overdue order may carry S-3 (000 二.3) lines for its handler, the group and the KPI: as the ledger says.
    s3 = [x for x in month.engine.ledger.entries(case_id=month.c3.case_id) if x.rule_id == "S-3"]
    assert set(department) == {"network"} | {x.department for x in s3 if x.subject_kind != "kpi"}
    kpi = Decimal("0.1") + sum((x.amount for x in s3 if x.subject_kind == "kpi"), Decimal(0))
    assert rows(report, "deductions_kpi") == [["city", "*市分公司", "points", plain(kpi), "0", plain(kpi), 2 + len(
        [x for x in s3 if x.subject_kind == "kpi"])]]


def test_p2_drill_down_lists_the_cases_behind_a_figure(month):
    reports = month.engine.reports
    overdue = reports.cases("P-2", "2025-04", SYSTEM, {"kind": "complaint", "overdue": True})
    assert [c.id for c in overdue] == [month.c3.case_id]
    network = reports.cases("P-2", "2025-04", SYSTEM, {"kind": "complaint", "department": "network"})
    assert [c.id for c in network] == [month.c1.case_id, month.c4.case_id, month.c7.case_id]
    not_sent = reports.cases("P-1", "2025-W16", SYSTEM, {"kind": "complaint", "transferred": False})
    assert [c.id for c in not_sent] == [month.c8.case_id]
    with pytest.raises(InvalidRequest):
        reports.cases("P-2", "2025-04", SYSTEM, {"status": "x"})


def test_department_head_sees_only_his_department(month):
    reports, head = month.engine.reports, month.engine.accounts.actor("ma.network")
    report = reports.report("P-2", "2025-04", head)
    assert report.department == "network" and [r[0] for r in rows(report, "by_department")] == ["network"]
    assert [t.key for t in report.tables if t.key == "deductions_kpi"] == []
    with pytest.raises(PermissionDenied):
        reports.report("P-2", "2025-04", head, department="market")
    with pytest.raises(PermissionDenied):
        reports.report("P-2", "2025-04", month.engine.accounts.actor("li.handler"))
    market = reports.report("P-2", "2025-04", month.engine.accounts.actor("zhao.group"), department="market")
    assert rows(market, "by_department") == [["market", "市场部", 2, 0, 0, 1, 1]]


def test_p3_quarter_expectation_per_department_and_summary_per_month_004_12(month):
    report = month.engine.reports.report("P-3", "2025-Q2", SYSTEM)
    expectation = {r[0]: r[2:] for r in rows(report, "expectation")}
    # complaints, demands+suggestions, consultations, upheld, overdue, top category.
    assert expectation["market"] == [3, 0, 0, 0, 1, "流量费用争议"]
    assert expectation["network"] == [3, 0, 0, 2, 0, "网络信号"]
    summary = {(r[0], r[2]): r[3:] for r in rows(report, "summary")}
    assert summary[(MARKET, "complaint")] == [2, 1, 0, 3]
    assert summary[("demand.service", "demand")] == [1, 0, 0, 1]
    assert summary[("consultation.billing", "consultation")] == [1, 0, 0, 1]
    # 15 June 2025 is a Sunday: the analysis is due Friday 13th; the summary on Friday 20th.
    assert report.due == (datetime(2025, 6, 13).date(), datetime(2025, 6, 20).date())


def test_p4_repeated_deductions_put_a_department_into_rectification_and_a_reversal_takes_it_out(month):
    e = month.engine
    assert rows(e.reports.report("P-4", "2025-04", SYSTEM), "rectification") == [
        ["network", "网络部", 2, "0.13", None]]
    group = e.accounts.actor("zhao.group")
    for entry in e.ledger.entries(case_id=month.c7.case_id):
        if entry.kind == "booking" and entry.subject_kind != "kpi":
            e.ledger.reverse(entry.id, group, "复核")
    assert rows(e.reports.report("P-4", "2025-04", SYSTEM), "rectification") == []


def test_exports_hold_the_same_numbers_csv_and_xlsx(month):
    reports = month.engine.reports
    book = load_workbook(io.BytesIO(reports.export("P-2", "2025-04", SYSTEM, "xlsx")))
    assert book.sheetnames[0] == "report"
    sheet = [list(r) for r in book["by_department"].iter_rows(values_only=True)]
    assert sheet[0] == ["department", "name", "complaints", "completed", "upheld", "overdue", "escalated"]
    assert sheet[3] == ["market", "市场部", 2, 0, 0, 1, 1]
    ledger = {r[0]: r[3:6] for r in book["deductions_person"].iter_rows(min_row=2, values_only=True)}
    assert [Decimal(str(v)) for v in ledger["tang.netbasic"]] == [Decimal("0.1"), Decimal("-0.05"), Decimal("0.05")]
    text = reports.export("P-1", "2025-W16", SYSTEM, "csv").decode("utf-8-sig")
    assert "table,by_channel\nchannel,complaints,transferred,transfer_rate\nhotline,3,2,0.6667\n" in text
    with pytest.raises(InvalidRequest):
        reports.export("P-1", "2025-W16", SYSTEM, "pdf")


@pytest.mark.parametrize("key,period", [("P-1", "2025-04"), ("P-2", "2025-W16"), ("P-3", "2025-Q5"), ("P-2", "x")])
def test_a_period_of_the_wrong_kind_is_refused(db, clock, key, period):
    engine = shipped_engine(db, clock)
    with pytest.raises(InvalidRequest) as caught:
        engine.reports.report(key, period, SYSTEM)
    assert caught.value.code == "invalid_period"


def test_cli_report_show_cases_and_xlsx(db_url, month, tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parents[2]

    def cli(*args):
        proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=root, capture_output=True, text=True,
                              env=dict(os.environ, DATABASE_URL=db_url), timeout=120)
        return proc.returncode, (proc.stdout if proc.returncode == 0 else proc.stderr)

    code, out = cli("report", "show", "P-2", "--period", "2025-04", "--user", "zhao.group")
    assert code == 0
    by_department = next(t for t in json.loads(out)["tables"] if t["key"] == "by_department")
    assert ["market", "市场部", 2, 0, 0, 1, 1] in by_department["rows"]
    code, out = cli("report", "cases", "P-2", "--period", "2025-04", "--filter", "overdue=true")
    assert code == 0 and [c["id"] for c in json.loads(out)] == [month.c3.case_id]
    target = tmp_path / "p1.xlsx"
    assert cli("report", "show", "P-1", "--period", "2025-W16", "--format", "xlsx", "--output", str(target))[0] == 0
    assert list(load_workbook(target)["summary"].iter_rows(min_row=2, values_only=True)) == [(6, 5, 4, 0.8)]
    code, out = cli("report", "show", "P-1", "--period", "2025-04")
    assert code == 2 and json.loads(out)["code"] == "invalid_period"
    code, out = cli("report", "show", "P-2", "--period", "2025-04", "--user", "li.handler")
    assert code == 3
