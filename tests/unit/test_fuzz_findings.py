"""Issue 16 item 7: 500s a 240 s schemathesis run (make fuzz) found in the reports (P-1..P-4) and compliance
(A-2, A-3) edges, each pinned here where it happened: the calendar's last year, a control character bound for
a sheet, an unreadable CSV log, the last day there is as the end of a selection."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from engine.conformance.eventlog import LogError, read_csv
from engine.rules.periods import parse_period
from engine.services.compliance import Selection
from engine.services.errors import InvalidRequest
from engine.services.report_export import render
from engine.services.views import Report, ReportTable

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("text", ["9999-W52", "9999-12", "9999-Q4", "0001-W01", "0001-01"])
def test_p1_p2_p3_a_period_in_the_calendars_last_year_is_no_period(text):
    with pytest.raises(ValueError, match="is not a period"):
        parse_period(text)


def test_p1_p3_a_period_before_the_last_year_still_is_one():
    assert parse_period("9998-W52").last == date(9998, 12, 27)
    assert parse_period("9998-Q4").last == date(9998, 12, 31)


def test_p2_a_control_character_in_case_data_is_dropped_from_the_xlsx_and_kept_in_the_csv():
    moment = datetime(2025, 4, 1, tzinfo=timezone.utc)
    table = ReportTable("typical", ("case", "facts"), ((7, "宽带\x07资费\x1b不一致"),), (None,))
    report = Report("P-1", "2025-W14", moment, moment, None, moment, (table,))
    sheet = load_workbook(io.BytesIO(render(report, "xlsx")))["typical"]
    assert [c.value for c in sheet[2]] == [7, "宽带资费不一致"]
    assert "宽带\x07资费\x1b不一致" in render(report, "csv").decode("utf-8")


@pytest.mark.parametrize("text, row", [("case,activity,time\n1,accept,2025-04-01T09:00\n2," + "a" * 200_000 + ",x\n", 3)])
def test_a3_a_csv_log_the_csv_module_cannot_read_is_refused_naming_the_line(text, row):
    with pytest.raises(LogError) as refused:
        read_csv(text, {"case": "case", "activity": "activity", "timestamp": "time"}, SHANGHAI)
    assert "not a readable CSV" in refused.value.message and refused.value.row == row


@pytest.mark.parametrize("bounds", [{"to": "9999-12-31"}, {"from": "0001-01-01"}])
def test_a2_a_selection_beyond_the_calendars_ends_is_refused_naming_the_field(bounds):
    with pytest.raises(InvalidRequest) as refused:
        Selection.parse(bounds)
    assert refused.value.code == "invalid_date" and refused.value.params["field"] == next(iter(bounds))


def test_a2_a_selection_to_the_last_allowed_day_selects():
    selection = Selection.parse({"from": "1900-01-01", "to": "9998-12-31"})
    assert len(selection.where(SHANGHAI)) == 2
