"""The reports page and the crisis monitor in a real browser (Playwright on Debian's chromium): the chart shows,
a figure opens the cases behind it, the XLSX downloads with the same numbers; the crisis monitor shows the
hourly series with its change ratios (SPEC §9 P-2, §6 C-6)."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from openpyxl import load_workbook
from werkzeug.serving import make_server

from engine.services import SYSTEM, FixedClock
from engine.store.db import Database
from engine.store.migrate import upgrade
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk
from tests.reportmonth import Month
from tests.web.conftest import shipped
from tests.web.test_browser import browser, login, page, shot  # noqa: F401 - fixtures and helpers
from web import create_app

BROADBAND = "complaint.broadband.fault"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory):
    """Yield (base URL, the April month, the crisis case id, the outage's cases) of the app served on a free port."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('reports') / 'ui.db'}")
    upgrade(db.write_engine)
    clock = FixedClock(at("2025-04-01T09:00"))
    engine = shipped(db, clock)
    month = Month(engine, clock).build()
    # A broadband outage on 16 April: 2 complaints at 09:xx, 3 at 10:xx, 1 at 11:xx; the crisis starts 10:30.
    outage = []
    for when in ("09:10", "09:40", "10:05", "10:20", "10:50", "11:15"):
        clock.set(at(f"2025-04-16T{when}"))
        outage.append(Walk.start(engine, "zhang.intake", BROADBAND, received_at="2025-04-16").case_id)
        if when == "10:20":
            clock.set(at("2025-04-16T10:30"))
            crisis = engine.cases.start("crisis", {"category": BROADBAND, "crisis_category": BROADBAND,
                                                   "issue_description": "宽带大面积故障", "warning_level": 0},
                                           SYSTEM).id
    clock.set(at("2025-04-16T11:40"))
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-tests"})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", month, crisis, outage
    httpd.shutdown()
    db.dispose()


def test_p2_page_shows_the_chart_drills_down_and_downloads_the_xlsx(page, reports_server, tmp_path):  # noqa: F811
    base, month, _, outage = reports_server
    login(page, base, "zhao.group")
    page.click("nav a[href='/reports']")
    # P-1 opens on a week typed as 2025-W24, not chromium's week picker (its format follows the browser's locale)
    assert page.get_attribute("#report-period", "data-period") == "week"
    page.select_option("#report-key", "P-2")
    page.click("#report-show")
    assert page.get_attribute("#report-period", "data-period") == "month"
    page.fill("#report-period", "2025-04")
    page.click("#report-show")
    page.wait_for_selector("#report-chart svg.bar-chart")
    assert page.locator("#report-chart svg rect.bar").count() == 4          # four departments
    assert page.locator("#report-chart svg text").all_text_contents().count("网络部") == 1
    shot(page, "report-p2")
    page.click("#table-by_department tr:has-text('市场部') a.drill[data-column='overdue']")
    page.wait_for_selector("#drill-cases")
    ids = [int(t.strip("#")) for t in page.locator("#drill-cases tbody td:first-child a").all_inner_texts()]
    assert ids == [month.c3.case_id]                                       # the one unanswered (N-11)
    page.go_back()
    page.click("#report-chart svg a:has-text('网络部')")                    # a bar is a link too
    page.wait_for_selector("#drill-cases")
    ids = [int(t.strip("#")) for t in page.locator("#drill-cases tbody td:first-child a").all_inner_texts()]
    assert ids == sorted([month.c1.case_id, month.c4.case_id, month.c7.case_id, *outage])   # net_all is network
    page.go_back()
    with page.expect_download() as download:
        page.click("#export-xlsx")
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.name == "P-2_2025-04.xlsx"
    rows = [list(r) for r in load_workbook(target)["by_department"].iter_rows(values_only=True)]
    assert ["market", "市场部", 2, 0, 0, 1, 1] in rows


def test_complaint_group_picks_a_typical_case_on_the_p1_page_000_1_6(page, reports_server):  # noqa: F811
    base, month, _, _ = reports_server
    login(page, base, "zhao.group")
    page.goto(f"{base}/reports?key=P-1&period=2025-W16")
    page.fill("#typical-case", str(month.c3.case_id))
    page.fill("#typical-note", "超时未答复, 升级处理")
    page.click("#typical-pick")
    page.wait_for_selector(".flash.ok")
    cells = page.locator("#table-typical_cases tbody td").all_inner_texts()
    assert cells[0] == f"#{month.c3.case_id}" and "超时未答复, 升级处理" in cells


def test_department_head_sees_his_department_on_the_reports_page(page, reports_server):  # noqa: F811
    base, *_ = reports_server
    login(page, base, "ma.network")
    page.goto(f"{base}/reports?key=P-2&period=2025-04")
    cells = page.locator("#table-by_department tbody td:first-child").all_inner_texts()
    assert cells == ["网络部"] and page.locator("#report-department").count() == 0


def test_crisis_monitor_shows_the_hourly_series_with_change_ratios_c6(page, reports_server):  # noqa: F811
    base, _, crisis, _ = reports_server
    login(page, base, "zhao.group")
    page.click("nav a[href='/crisis']")
    section = f"#crisis-{crisis}"
    page.wait_for_selector(f"{section} svg.line-chart")
    rows = page.locator(f"#hourly-{crisis} tbody tr")
    series = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    # Three hours before the start (07:00, 08:00, 09:00) to the current hour (11:00).
    assert series == [["04-16 07:00", "0", "—"], ["04-16 08:00", "0", "—"], ["04-16 09:00", "2", "—"],
                      ["04-16 10:00", "3", "+50.0%"], ["04-16 11:00", "1", "-66.7%"]]
    assert page.locator(f"{section} svg circle.point").count() == 5
    c3 = page.locator(f"#deadlines-{crisis} tr:has-text('C-3') td").all_inner_texts()
    assert c3[2] == "2025年4月16日 11:30" and c3[4] == "已超时"           # 1 h from 10:30, not reported at 11:40
    assert "北京时间(UTC+8)" in page.inner_text(f"#deadlines-{crisis} thead")   # the times say their zone
    shot(page, "crisis-monitor")
