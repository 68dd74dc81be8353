"""The staff pages speak the person's language (issue 18), in a real browser (Debian's chromium, Playwright).

The case page, inbox, case list and task page are scanned, in Chinese and in English, for any word that is a
BPMN id (elements, flows, lanes, form fields, enum values), a case data key, a category code, a group key or
an English status: a person reads labels, never the database's words. Pages work at 390 px (a phone) with no
horizontal scroll, every input has its label, dates are date pickers, times carry their time zone.
Screenshots of every page at 1366 and 390 px go to tests/artifacts/.
"""

from __future__ import annotations

import re
import threading
import tomllib
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from werkzeug.serving import make_server

from engine.demo import create_demo_cases
from engine.services import SYSTEM, FixedClock
from engine.store.db import Database
from engine.store.migrate import upgrade
from tests.conftest import SHANGHAI
from tests.web.conftest import shipped
from tests.web.test_browser import ARTIFACTS, browser  # noqa: F401  (the chromium fixture)
from web import create_app

ROOT = Path(__file__).parents[2]
WIDTHS = (1366, 390)
STATUSES = {"running", "completed", "incident", "cancelled", "ready"}
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*[A-Za-z0-9_]|[A-Za-z_]")


def bpmn_ids() -> set[str]:
    """Every id of the shipped processes: processes, lanes, elements, flows, form fields, enum values."""
    ids: set[str] = set()
    for path in (ROOT / "processes").glob("*.bpmn"):
        tree = etree.parse(str(path))
        ids.update(tree.xpath("//@id"))
    return ids


def data_words(engine) -> set[str]:
    words = set()
    for summary in engine.reads.case_list(SYSTEM, limit=1000):
        words.update(engine.reads.case_page(summary.id, SYSTEM).case.data)
    for profile in (ROOT / "data" / "profiles").iterdir():
        words.update(c["code"] for c in tomllib.loads((profile / "categories.toml").read_text("utf-8"))["category"]
                     if "." in c["code"])
    words.update(g["key"] for g in tomllib.loads((ROOT / "data" / "groups.toml").read_text("utf-8"))["group"])
    return words


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Yield (base URL, engine, demo case ids) of the app with the demo cases of `make run`."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('staff') / 'staff.db'}")
    upgrade(db.write_engine)
    engine = shipped(db, FixedClock(datetime(2025, 3, 10, 9, 0, tzinfo=SHANGHAI)))
    cases = create_demo_cases(engine)
    app = create_app({"ENGINE": engine, "SECRET_KEY": "staff-pages"})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", engine, cases
    httpd.shutdown()
    db.dispose()


def open_page(browser, base, user, locale, width, browser_locale=None):  # noqa: F811
    context = browser.new_context(locale=browser_locale or ("zh-CN" if locale == "zh" else "en-GB"),
                                  viewport={"width": width, "height": 900}, is_mobile=width < 500,
                                  has_touch=width < 500)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", "admin" if user == "admin" else "demo")
    page.click("#sign-in")
    page.wait_for_selector("#current-user")
    # The language is kept on the account: switch to the one asked for if another test left the other.
    toggle = "#lang-en" if locale == "en" else "#lang-zh"
    if page.locator(toggle).count():
        page.click(toggle)
        page.wait_for_selector("#current-user")
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def machine_word(word: str) -> bool:
    return "_" in word or "." in word.strip(".") or bool(re.search(r"[a-z][A-Z]", word))


def raw_words(page, forbidden: set[str], names: list[str], locale: str) -> list[str]:
    """Return the words of the page's rendered text that are ids, data keys or English statuses.

    People's names (the organisation's display names, "李处理 Li (handler)") and the rule text the BPMN
    documents (English, cited as written) are what they are and left out. In the English UI ordinary words
    ("Case facts", "contact") are English, so there only machine words (snake_case, dotted codes, camelCase)
    count; in the Chinese UI every Latin word that is an id, key or status does. The administrator's
    organisation page shows the keys an administrator types into organisation.toml (usernames, unit keys)
    as ``code.key``: identifiers on purpose, beside the names.
    """
    text = page.evaluate("""() => { const c = document.body.cloneNode(true);
        c.querySelectorAll('#task-doc, .person, code.key').forEach(e => e.remove()); return c.innerText; }""")
    for name in names:
        text = text.replace(name, " ")
    words = {w for w in WORD.findall(text) if w in forbidden}
    return sorted(w for w in words if locale == "zh" or machine_word(w))


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_no_raw_key_id_or_status_on_the_staff_pages(browser, demo, locale):  # noqa: F811
    base, engine, cases = demo
    forbidden = bpmn_ids() | data_words(engine) | STATUSES
    names = sorted((p["name"] for p in engine.admin.organisation()["people"]), key=len, reverse=True)
    assert {"merge_accept", "first_ask_owner", "complaint.billing.disputed_fees", "running"} <= forbidden
    pages = {"inbox": ("li.handler", "/"), "group-inbox": ("zhao.group", "/"), "cases": ("zhao.group", "/cases"),
             "search": ("zhao.group", "/cases?category=complaint.billing&status=running"),
             "overview": ("zhao.group", "/overview"), "department": ("wang.head", "/department"),
             "intake": ("zhang.intake", "/intake"), "operations": ("admin", "/operations"),
             "documented": ("qian.audit", "/compliance-start")}
    pages.update({f"case-{mark}": ("zhao.group", f"/cases/{cid}") for mark, cid in cases.items()})
    task = engine.reads.case_page(cases["investigating"], SYSTEM).open_tasks[0]
    pages["task"] = ("he.netbasic", f"/tasks/{task.id}")
    found = {}
    for width in WIDTHS:
        sessions = {}
        for name, (user, path) in pages.items():
            if user not in sessions:
                sessions[user] = open_page(browser, base, user, locale, width)
            page = sessions[user]
            page.goto(base + path)
            if page.locator("#diagram").count():
                page.wait_for_selector("#diagram[data-rendered]")
            if width == WIDTHS[0]:
                words = raw_words(page, forbidden, names, locale)
                if words:
                    found[name] = words
            shot(page, f"staff-{name}-{locale}-{width}")
        for page in sessions.values():
            page.context.close()
    assert found == {}, f"raw ids, keys or statuses on the {locale} pages: {found}"
    if locale == "en":
        page = open_page(browser, base, "zhao.group", "en", 1366)
        page.goto(f"{base}/cases")
        assert set(page.locator("#cases td[data-status]").all_inner_texts()) <= {"In progress", "Closed", "Incident"}
        page.context.close()


def test_the_case_page_shows_labels_and_values_by_type(browser, demo):  # noqa: F811
    base, engine, cases = demo
    page = open_page(browser, base, "zhao.group", "zh", 1366)
    page.goto(f"{base}/cases/{cases['closed']}")
    facts = page.inner_text("#case-facts")
    # Labels from the BPMN form (camunda:formField label), enum names (camunda:value name), yes/no, ¥ money,
    # a date in Chinese, category names from the category data, people and departments by name.
    # The demo cases are received the day they are registered (N-4 counts from receipt), here 10 March.
    for shown in ("投诉人", "孙女士", "受理渠道", "热线电话", "涉及金额(元)", "¥0.00", "2025年3月10日",
                  "价格收费 › 流量费用争议", "已被媒体曝光", "否", "首问责任人", "张受理 Zhang (intake clerk)",
                  "责任部门", "市场部"):
        assert shown in facts, shown
    # The start form's order: the complainant before the contact before the facts.
    assert facts.index("投诉人") < facts.index("联系方式") < facts.index("事实经过") < facts.index("受理渠道")
    assert page.inner_text("#case-status") == "已办结"
    assert "普通投诉处理流程" in page.inner_text("#case-head")
    # Gateways and automatic steps are the system's, not the intake clerk's who set the case going.
    rows = page.locator("#timeline tbody tr")
    by_step = {rows.nth(i).locator("td").nth(2).inner_text(): rows.nth(i).locator("td").nth(3).inner_text()
               for i in range(rows.count())}
    assert by_step["分类定级 (I-2, I-3)"] == "系统"
    assert by_step["收到客户意见"] == "张受理 Zhang (intake clerk)"
    assert "北京时间" in page.inner_text("#timeline")
    page.click("#lang-en")
    assert page.inner_text("#case-status") == "Closed"
    facts = page.inner_text("#case-facts")
    assert "Prices and charges › Disputed data charges" in facts and "No" in facts and "Mar 10, 2025" in facts
    assert "Beijing time" in page.inner_text("#timeline")
    page.context.close()


@pytest.mark.parametrize("path", ["/", "/cases", "/intake"])
def test_a_phone_shows_the_page_without_horizontal_scroll(browser, demo, path):  # noqa: F811
    base, _, _ = demo
    page = open_page(browser, base, "li.handler", "zh", 390)
    page.goto(base + path)
    assert page.locator("meta[name=viewport]").get_attribute("content").startswith("width=device-width")
    # A phone's browser widens its layout viewport to the content: compare with the screen's 390 px.
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways at 390 px: {width}"
    page.context.close()


def test_inputs_have_labels_dates_are_pickers_and_focus_is_visible(browser, demo):  # noqa: F811
    base, engine, cases = demo
    page = open_page(browser, base, "li.handler", "zh", 1366)
    for path in ("/", "/intake", "/cases"):
        page.goto(base + path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll('main input, main select, main textarea')]
            .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.name || e.id)""")
        assert unlabelled == [], f"inputs without a label on {path}: {unlabelled}"
    page.goto(f"{base}/")
    assert page.get_attribute("#flt-due", "data-date") is not None          # a date field with its picker
    assert "北京时间" in page.inner_text("#my-tasks thead")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline
    page.goto(f"{base}/intake")
    assert page.get_attribute("#f-received_at", "data-date") is not None
    page.context.close()


@pytest.mark.parametrize("path", ["/admin/mail", "/admin/processes", "/operations", "/crisis"])
def test_pages_that_show_times_say_their_time_zone(browser, demo, path):  # noqa: F811
    base, _, _ = demo
    page = open_page(browser, base, "admin", "zh", 1366, browser_locale="en-US")
    page.goto(base + path)
    text = page.inner_text("main")
    assert "北京时间(UTC+8)" in text or not re.search(r"\d{1,2}:\d{2}", text), path
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text), path          # no raw ISO instant
    page.context.close()


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_dates_read_and_pick_as_the_ui_language_says_under_an_en_us_browser(browser, demo, locale):  # noqa: F811
    """Chromium's own date input shows mm/dd/yyyy under an en-US browser even in the Chinese UI: ours follow the
    UI's language (yyyy-mm-dd, 年-月-日; the picker's month 2025年3月 / March 2025), times say their zone."""
    base, _, _ = demo
    page = open_page(browser, base, "zhao.group", locale, 1366, browser_locale="en-US")
    assert page.evaluate("() => navigator.language") == "en-US"
    zh = locale == "zh"
    for path in ("/", "/cases", "/intake"):
        page.goto(base + path)
        assert page.locator("input[type=date], input[type=month], input[type=week]").count() == 0, path
        placeholders = page.locator("input[data-date]").evaluate_all("es => es.map(e => e.placeholder)")
        assert placeholders and set(placeholders) == {"年-月-日" if zh else "yyyy-mm-dd"}, (path, placeholders)
    page.goto(f"{base}/")
    assert ("北京时间(UTC+8)" if zh else "Beijing time (UTC+8)") in page.inner_text("#my-tasks thead")
    due = page.locator("#flt-due")
    due.fill("2025/3/9")
    due.press("Tab")                                  # typed with slashes, read as the ISO date
    assert due.input_value() == "2025-03-09"
    page.click("#flt-due + .date-pick")
    popup = page.locator("#flt-due ~ .date-popup")
    assert popup.is_visible()
    assert popup.locator(".dp-title").inner_text() == ("2025年3月" if zh else "March 2025")
    assert popup.locator("thead th").all_inner_texts()[:2] == (["一", "二"] if zh else ["Mo", "Tu"])
    assert popup.locator(".dp-day.chosen").inner_text() == "9"
    shot(page, f"staff-date-picker-{locale}")
    popup.locator(".dp-next").click()
    assert popup.locator(".dp-title").inner_text() == ("2025年4月" if zh else "April 2025")
    popup.locator(".dp-day[data-date='2025-04-14']").click()
    assert not popup.is_visible() and due.input_value() == "2025-04-14"
    page.click("#filters > button")
    page.wait_for_url("**/?*due=2025-04-14*")
    assert page.locator("#flt-due").input_value() == "2025-04-14"
    due = page.locator("#flt-due")
    due.fill("2025年2月30日")                         # no such day: the field says so before anything is sent
    due.press("Tab")
    assert page.evaluate("() => document.getElementById('flt-due').validity.valid") is False
    page.goto(f"{base}/cases?since=2025-03-01")
    assert page.locator("#s-since").input_value() == "2025-03-01"
    page.context.close()
    phone = open_page(browser, base, "zhao.group", locale, 390, browser_locale="en-US")
    phone.goto(f"{base}/cases")
    phone.click("#s-since + .date-pick")               # the field that sits at the right of a phone's screen
    box = phone.locator("#s-since ~ .date-popup").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390                  # the picker stays on the screen
    phone.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_diagram_opens_on_the_current_task_with_zoom_controls_and_audit_on_click(browser, demo, width):  # noqa: F811
    base, engine, cases = demo
    page = open_page(browser, base, "zhao.group", "zh", width)
    page.goto(f"{base}/cases/{cases['investigating']}")
    page.wait_for_selector("#diagram[data-rendered='true']")
    current = page.locator("#diagram g.djs-element.current[data-element-id='investigate']")
    assert current.count() == 1
    frame, task = page.locator("#diagram").bounding_box(), current.bounding_box()
    assert frame["x"] <= task["x"] and task["x"] + task["width"] <= frame["x"] + frame["width"]
    assert frame["y"] <= task["y"] and task["y"] + task["height"] <= frame["y"] + frame["height"]
    # Legible: at the opening scale the task label is drawn at least at 10 px (not a strip of the whole process).
    zoom = float(page.get_attribute("#diagram", "data-zoom"))
    assert zoom * 12 >= 10 if width > 500 else zoom * 12 >= 6, zoom
    page.click("#zoom-in")
    assert float(page.get_attribute("#diagram", "data-zoom")) > zoom
    page.click("#zoom-fit")
    fitted = float(page.get_attribute("#diagram", "data-zoom"))
    assert fitted < zoom
    page.click("#zoom-current")
    assert float(page.get_attribute("#diagram", "data-zoom")) == pytest.approx(zoom)
    current.click()
    panel = page.locator("#element-events")
    assert panel.is_visible() and panel.get_attribute("data-element") == "investigate"
    assert "调查核实" in panel.locator("h2").inner_text() and "任务生成" in panel.locator("ul").inner_text()
    if width > 500:
        page.click("#zoom-fit")
        page.locator("#diagram g.djs-element[data-element-id='accept']").click()
        assert panel.get_attribute("data-element") == "accept"
        assert "何组长 He" in panel.locator("ul").inner_text()      # who completed it
    shot(page, f"staff-diagram-{width}")
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_zoomed_in_on_the_current_task_its_lane_name_stays_in_view(browser, demo, width):  # noqa: F811
    """The lane's label band is off-screen once zoomed in; a sticky header names the lane (the role) in view."""
    base, engine, cases = demo
    page = open_page(browser, base, "zhao.group", "zh", width)
    page.goto(f"{base}/cases/{cases['investigating']}")
    page.wait_for_selector("#diagram[data-rendered='true']")
    page.click("#zoom-current")
    for _ in range(3):
        page.click("#zoom-in")
    frame = page.locator("#diagram").bounding_box()
    task = page.locator("#diagram g.djs-element.current[data-element-id='investigate']").bounding_box()
    assert frame["x"] <= task["x"] and task["x"] + task["width"] <= frame["x"] + frame["width"]
    # investigate lies in the subprocess "handle" of lane Lane_normal_handler (承办部门) of processes/normal.bpmn;
    # that lane's own label, at the left edge of the whole diagram, is out of the box now.
    band = page.locator("#diagram g.djs-element[data-element-id='Lane_normal_handler'] text").bounding_box()
    assert band is None or band["x"] + band["width"] < frame["x"] or band["y"] > frame["y"] + frame["height"] \
        or band["y"] + band["height"] < frame["y"]
    header = page.locator("#diagram .lane-header[data-lane='Lane_normal_handler']")
    assert header.is_visible() and header.inner_text() == "承办部门"
    named = header.bounding_box()
    assert frame["x"] <= named["x"] and named["x"] + named["width"] <= frame["x"] + frame["width"]
    assert frame["y"] <= named["y"] and named["y"] + named["height"] <= frame["y"] + frame["height"]
    assert named["y"] <= task["y"] + task["height"]             # level with the lane part in view, not below it
    shot(page, f"staff-diagram-lanes-{width}")
    # Panned down (the wheel pans bpmn-js), the next lane's header appears when that lane comes into view.
    page.mouse.move(frame["x"] + frame["width"] / 2, frame["y"] + frame["height"] / 2)
    seen = set()
    for _ in range(40):
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(50)           # let the wheel's pan reach bpmn-js (no assert on time)
        seen |= set(page.locator("#diagram .lane-header").all_inner_texts())
        if seen - {"承办部门"}:
            break
    assert seen - {"承办部门"} and seen <= {"受理员", "投诉管理组", "承办部门", "部门负责人", "回访员"}, seen
    page.context.close()


def test_an_intake_submitted_twice_makes_one_case(browser, demo):  # noqa: F811
    """The same intake form sent twice (two concurrent posts from the page, then the button) is one case."""
    base, engine, _ = demo
    page = open_page(browser, base, "zhang.intake", "zh", 1366)
    page.goto(f"{base}/intake")
    page.select_option("#f-category", "complaint.billing.disputed_fees")
    for field, value in {"complainant_name": "双击先生", "contact": "13900000000", "received_at": "2025-03-10",
                         "target": "营业厅", "facts": "同一张登记表提交了两次"}.items():
        page.fill(f"#f-{field}", value)
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and r.url.endswith("/intake") else None)
    statuses = page.evaluate("""async () => { const form = document.getElementById('intake-form');
        const send = () => fetch(form.action || location.href, {method: 'POST', body: new FormData(form)});
        const answers = await Promise.all([send(), send()]); return answers.map(a => a.status); }""")
    assert statuses == [200, 200]                 # both followed to the case page
    page.click("#register")
    page.wait_for_selector("#case-status")
    assert len(posts) == 3
    assert "未重复建单" in page.inner_text(".flash.ok")
    made = [c for c in engine.reads.case_list(SYSTEM, limit=1000) if c.complainant == "双击先生"]
    assert len(made) == 1 and page.url.endswith(f"/cases/{made[0].id}")
    page.context.close()


def test_a_claimed_task_is_reassigned_and_delegated_audited(browser, demo):  # noqa: F811
    base, engine, cases = demo
    case_id = engine.cases.start("normal", {
        "complainant_name": "改派女士", "contact": "13700000000", "received_at": "2025-03-10", "target": "基站",
        "facts": "信号差需要改派处理", "channel": "hotline", "category": "complaint.network.signal", "amount": 0,
        "service_quality_agent_count": 0},
        engine.accounts.actor("zhang.intake")).id
    task = engine.reads.case_page(case_id, SYSTEM).open_tasks[0]
    page = open_page(browser, base, "he.netbasic", "zh", 1366)
    page.goto(f"{base}/tasks/{task.id}")
    page.click("#claim")
    page.click("#hand-over summary")
    page.fill("#reassign-to", "xu.netall")            # all-business group: no candidate of this task
    page.click("#reassign")
    assert "不能处理此任务" in page.inner_text(".flash.error")
    assert engine.reads.task_page(task.id, SYSTEM).task.assignee == "he.netbasic"
    page.click("#hand-over summary")
    page.fill("#reassign-to", "tang.netbasic")
    page.click("#reassign")
    assert "唐工 Tang" in page.inner_text(".flash.ok")
    assert engine.reads.task_page(task.id, SYSTEM).task.assignee == "tang.netbasic"
    page.context.close()

    page = open_page(browser, base, "tang.netbasic", "zh", 390)
    assert page.locator(f"#my-tasks tr[data-task='{task.id}']").count() == 1
    page.goto(f"{base}/tasks/{task.id}")
    page.click("#hand-over summary")
    page.fill("#reassign-to", "xu.netall")
    page.click("#delegate")                             # a delegation needs a reason
    assert "原因" in page.inner_text("main")
    page.goto(f"{base}/tasks/{task.id}")
    page.click("#hand-over summary")
    page.fill("#reassign-to", "xu.netall")
    page.fill("#reassign-reason", "需要全业务组协助判断")
    page.click("#delegate")
    assert engine.reads.task_page(task.id, SYSTEM).task.assignee == "xu.netall"
    shot(page, "staff-reassigned-390")
    page.context.close()
    events = [e for e in engine.reads.case_page(case_id, SYSTEM).events if e.lifecycle in ("reassigned", "delegated")]
    assert [(e.lifecycle, e.actor, e.data["from"], e.data["to"]) for e in events] == [
        ("reassigned", "he.netbasic", "he.netbasic", "tang.netbasic"),
        ("delegated", "tang.netbasic", "tang.netbasic", "xu.netall")]
    assert events[1].data["reason"] == "需要全业务组协助判断"
    page = open_page(browser, base, "zhao.group", "zh", 1366)
    page.goto(f"{base}/cases/{case_id}")
    timeline = page.inner_text("#timeline")
    assert "改派 给 唐工 Tang" in timeline.replace("\t", " ") or "改派" in timeline
    assert "委派" in timeline and "需要全业务组协助判断" in timeline
    page.context.close()


def test_the_case_search_by_phone_by_text_and_by_pages(browser, demo):  # noqa: F811
    base, engine, cases = demo
    clerk = engine.accounts.actor("zhang.intake")
    made = [engine.cases.start("normal", {
        "complainant_name": f"翻页{i}号", "contact": f"1361234{i:04d}", "received_at": "2025-03-10", "target": "营业厅",
        "facts": f"第{i}次反映宽带掉线" if i % 2 else f"第{i}次反映话费多扣", "channel": "hotline",
        "category": "complaint.broadband.fault", "amount": 0, "service_quality_agent_count": 0}, clerk).id
        for i in range(7)]
    page = open_page(browser, base, "zhao.group", "zh", 1366)
    page.goto(f"{base}/cases")
    page.fill("#s-contact", "13612340003")
    page.click("#search")
    assert page.locator("#cases tbody tr[data-case]").evaluate_all("rs => rs.map(r => +r.dataset.case)") == [made[3]]
    page.goto(f"{base}/cases")
    page.fill("#s-text", "宽带掉线")
    page.select_option("#s-size", "20")
    page.click("#search")
    found = page.locator("#cases tbody tr[data-case]").evaluate_all("rs => rs.map(r => +r.dataset.case)")
    assert found == [made[i] for i in (5, 3, 1)]                         # newest first
    # Paging: 3 a page, oldest first, through the 7 of the broadband category; the pages join without gaps.
    page.goto(f"{base}/cases?category=complaint.broadband&sort=oldest&page_size=3")
    seen = []
    while True:
        seen += page.locator("#cases tbody tr[data-case]").evaluate_all("rs => rs.map(r => +r.dataset.case)")
        if not page.locator("#next-page").count():
            break
        page.click("#next-page")
    assert seen == made
    assert page.locator("#first-page").count() == 1
    shot(page, "staff-search-paged-1366")
    page.context.close()


def test_saved_filters_are_each_persons_own(browser, demo):  # noqa: F811
    base, engine, _ = demo
    page = open_page(browser, base, "li.handler", "zh", 1366)
    page.goto(f"{base}/?overdue=1&page_size=20")
    page.fill("#filter-name", "我的超时")
    page.click("#save-filter-button")
    assert "我的超时" in page.inner_text(".flash.ok")
    page.goto(f"{base}/")
    page.click("#saved-filters .saved[data-filter='我的超时'] a")
    assert page.is_checked("#flt-overdue") and "overdue=1" in page.url
    assert [f["name"] for f in engine.accounts.saved_filters("li.handler", "inbox")] == ["我的超时"]
    assert engine.accounts.saved_filters("zhao.group", "inbox") == []
    page.goto(f"{base}/cases?status=running")
    page.fill("#filter-name", "在办")
    page.click("#save-filter-button")
    assert engine.accounts.saved_filters("li.handler", "cases")[0]["query"] == {"status": "running"}
    page.locator("#saved-filters .saved[data-filter='在办'] button").click()
    assert engine.accounts.saved_filters("li.handler", "cases") == []
    page.context.close()


START_PAGES = {"li.handler": ("/", "待办"), "zhao.group": ("/overview", "投诉管理组总览"),
               "wang.head": ("/department", "本部门: 市场部"), "qian.audit": ("/compliance-start", "合规"),
               "admin": ("/operations", "运维")}


@pytest.mark.parametrize("user", sorted(START_PAGES))
def test_each_role_signs_in_to_its_own_start_page(browser, demo, user):  # noqa: F811
    base, engine, cases = demo
    path, title = START_PAGES[user]
    for width in WIDTHS:
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900},
                                      is_mobile=width < 500)
        page = context.new_page()
        page.goto(f"{base}/login")
        if page.locator("#lang-zh").count():
            page.click("#lang-zh")
        page.fill("#username", user)
        page.fill("#password", "admin" if user == "admin" else "demo")
        page.click("#sign-in")
        page.wait_for_selector("#current-user")
        if page.locator("#lang-zh").count():
            page.click("#lang-zh")
        assert page.url == base + path and page.inner_text("h1") == title
        shot(page, f"start-{user}-{width}")
        if width == WIDTHS[0]:
            text = page.inner_text("main")
            if user == "zhao.group":          # the overdue demo case is the market department's
                assert page.inner_text("#overdue-by-department tr[data-department='market']").startswith("市场部")
                assert page.locator("#callback-tasks tr[data-case]").count() >= 1
                assert int(page.inner_text("#tile-today b")) >= 0
            if user == "wang.head":
                shown = page.locator("#department-cases tr[data-case]").evaluate_all("r => r.map(x => +x.dataset.case)")
                assert cases["callback"] in shown and cases["investigating"] not in shown   # network's case
            if user == "qian.audit":
                assert page.get_attribute("#to-compliance", "href") == "/compliance"
                page.click("#documented tr[data-key='normal'] a:text('流程图')")
                page.wait_for_selector("#diagram[data-rendered='true']")     # no 403 on the documented process
                assert page.get_attribute("#bpmn-download", "download") == "normal.bpmn"
            if user == "admin":
                assert "调度器" in text and page.locator("#deployments tr").count() > 1
        context.close()


# Every page a person opens, with who opens it; `test_every_page_of_the_app_is_in_the_width_table` keeps this
# table complete when a page is added. Exports, downloads, the API and redirects are not pages.
NOT_PAGES = {"/health", "/home", "/openapi.json", "/vendor/bpmn-js/<path:name>", "/versions/<int:version_id>.bpmn",
             "/reports/<key>/export.<fmt>", "/compliance/export.<fmt>", "/static/<path:filename>"}


def every_page(engine, cases) -> dict[str, tuple[str, str]]:
    """Return {route rule: (user, path)} for the pages of the staff UI, filled with the demo's cases."""
    version = engine.admin.versions()[0].id
    closed, running = cases["closed"], cases["investigating"]
    task = engine.reads.case_page(running, SYSTEM).open_tasks[0]
    return {
        "/login": (None, "/login"), "/": ("li.handler", "/"), "/intake": ("zhang.intake", "/intake"),
        "/cases": ("zhao.group", "/cases?customer=孙"), "/cases/<int:case_id>": ("zhao.group", f"/cases/{closed}"),
        "/tasks/<task_id>": ("he.netbasic", f"/tasks/{task.id}"),
        "/overview": ("zhao.group", "/overview"), "/department": ("wang.head", "/department"),
        "/operations": ("admin", "/operations"),
        "/operations/cases/<int:case_id>/repair": ("admin", f"/operations/cases/{running}/repair"),
        "/compliance-start": ("qian.audit", "/compliance-start"), "/compliance": ("qian.audit", "/compliance"),
        "/compliance/cases/<int:case_id>": ("qian.audit", f"/compliance/cases/{closed}"),
        "/compliance/versions/<int:version_id>": ("qian.audit", f"/compliance/versions/{version}"),
        "/reports": ("zhao.group", "/reports"), "/reports/<key>/cases": ("zhao.group", "/reports/P-1/cases?period=2025-W11&kind=complaint"),
        "/crisis": ("zhao.group", "/crisis"), "/admin/processes": ("admin", "/admin/processes"),
        "/admin/versions/<int:version_id>": ("admin", f"/admin/versions/{version}"), "/admin/organisation": ("admin", "/admin/organisation"),
        "/admin/calendar": ("admin", "/admin/calendar"), "/admin/mail": ("admin", "/admin/mail"),
    }


def test_every_page_of_the_app_is_in_the_width_table(demo):
    base, engine, cases = demo
    app = create_app({"ENGINE": engine, "SECRET_KEY": "pages"})
    rules = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods and not r.rule.startswith("/api")}
    assert rules - NOT_PAGES == set(every_page(engine, cases))


@pytest.mark.slow
def test_every_page_at_1366_and_390_px(browser, demo):  # noqa: F811
    """A screenshot of every page at both widths, in Chinese; at 390 px no page scrolls sideways."""
    base, engine, cases = demo
    forbidden = bpmn_ids() | data_words(engine) | STATUSES
    names = sorted((p["name"] for p in engine.admin.organisation()["people"]), key=len, reverse=True)
    sideways, errors, raw = {}, {}, {}
    for width in WIDTHS:
        sessions = {}
        for rule, (user, path) in every_page(engine, cases).items():
            if user is None:
                page = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900},
                                           is_mobile=width < 500, has_touch=width < 500).new_page()
            else:
                if user not in sessions:
                    sessions[user] = open_page(browser, base, user, "zh", width)
                page = sessions[user]
            response = page.goto(base + path)
            if response.status != 200:
                errors[rule] = response.status
            if page.locator("#diagram").count():
                page.wait_for_selector("#diagram[data-rendered]")
            name = re.sub(r"[^a-z0-9]+", "-", rule.replace("<int:", "").replace("<", "")).strip("-") or "inbox"
            shot(page, f"page-{name}-{width}")
            if width == WIDTHS[0]:
                words = raw_words(page, forbidden, names, "zh")
                if words:
                    raw[rule] = words
            # A phone's browser widens its layout viewport to the content: compare with the screen's width.
            scroll = page.evaluate("() => document.documentElement.scrollWidth")
            if scroll > width:
                sideways[rule] = scroll
            if user is None:
                page.context.close()
        for page in sessions.values():
            page.context.close()
    assert errors == {}
    assert (raw, sideways) == ({}, {}), f"raw ids, keys or statuses: {raw}; sideways at 390 px: {sideways}"
