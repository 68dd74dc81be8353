"""The staff UI in a real browser (Playwright driving Debian's chromium): intake to the end of the happy path.

The app runs in a Werkzeug server thread on a free 127.0.0.1 port, on a migrated SQLite database with the
shipped processes and the demo organisation. Screenshots of the key pages go to tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine.services import SYSTEM, FixedClock
from engine.store.db import Database
from engine.store.migrate import upgrade
from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk
from tests.web.conftest import shipped
from web import create_app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
MARKET = "complaint.billing.disputed_fees"      # routed to the market department (li.handler, head wang.head)


@pytest.fixture(scope="module")
def browser():
    """Yield Debian's chromium under Playwright; a missing browser fails under CI=true and skips elsewhere."""
    if not CHROMIUM.exists():
        message = "/usr/bin/chromium is missing: `make test` installs Debian's chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Yield (base URL, engine) of the real app served on a free port."""
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'ui.db'}")
    upgrade(db.write_engine)
    engine = shipped(db, FixedClock(datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI)))
    app = create_app({"ENGINE": engine, "SECRET_KEY": "browser-tests"})
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", engine
    httpd.shutdown()
    db.dispose()


@pytest.fixture
def page(browser):
    """A fresh page; the test fails if the Content-Security-Policy blocked anything on it (issue 16 item 9)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    fresh, blocked = context.new_page(), []
    fresh.on("console", lambda message: blocked.append(message.text)
             if "Content Security Policy" in message.text else None)
    yield fresh
    context.close()
    assert blocked == [], blocked


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def login(page, base: str, username: str, password: str = "demo") -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_selector("#current-user")


def fill(page, values: dict) -> None:
    for field, value in values.items():
        selector = f"#f-{field}"
        if isinstance(value, bool):
            page.set_checked(selector, value)
        elif page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
            page.select_option(selector, str(value))
        else:
            page.fill(selector, str(value))


def work(page, base: str, user: str, case_id: int, element: str, values: dict, screenshot: str | None = None):
    """Sign in as ``user``, open the task from the inbox, claim it if needed, fill and submit its form."""
    login(page, base, user)
    page.goto(f"{base}/")                  # the inbox (the complaint group and heads sign in to their own page)
    page.click(f"tr[data-case='{case_id}'][data-element='{element}'] td a")
    if page.locator("#claim").count():
        page.click("#claim")
    fill(page, values)
    if screenshot:
        shot(page, screenshot)
    page.click("#complete")
    page.wait_for_selector(".flash.ok")


def register(page, base: str, category: str = MARKET) -> int:
    page.goto(f"{base}/intake")
    page.select_option("#f-category", category)
    fill(page, {"complainant_name": "王先生", "contact": "13800000000", "received_at": "2025-03-03",
                "target": "营业厅", "facts": "客户反映流量费用与套餐不符", "channel": "hotline", "amount": "50",
                "media_exposed": False, "first_ask_owner": "zhang.intake"})
    shot(page, "intake")
    page.click("#register")
    page.wait_for_selector("#case-status")
    return int(page.url.rsplit("/", 1)[1])


def test_login_in_chinese_and_in_english(page, server):
    base, _ = server
    page.goto(f"{base}/login")
    assert page.inner_text("h1") == "登录"
    shot(page, "login-zh")
    page.click("#lang-en")
    assert page.inner_text("h1") == "Sign in"
    page.fill("#username", "gao.front")
    page.fill("#password", "demo")
    page.click("#sign-in")
    assert page.inner_text("h1") == "Inbox"
    shot(page, "inbox-en")
    page.click("#lang-zh")
    assert page.inner_text("h1") == "待办"


def test_intake_claim_invalid_then_valid_and_the_happy_path_to_the_end(page, server):
    base, engine = server
    login(page, base, "zhang.intake")
    case_id = register(page, base)

    login(page, base, "li.handler")
    row = page.locator(f"#group-tasks tr[data-case='{case_id}'][data-element='accept']")
    assert row.count() == 1
    shot(page, "inbox")
    row.locator("button.claim").click()
    page.wait_for_selector("#task-form")
    assert "N-1" in page.inner_text("#task-doc") and "客户反映流量费用与套餐不符" in page.inner_text("#case-facts")
    page.fill("#f-responsible_person", "")
    page.click("#complete")
    assert page.locator("#error-responsible_person").is_visible()
    shot(page, "task-invalid")
    fill(page, {"responsible_person": "li.handler", "complex_case": False})
    shot(page, "task")
    page.click("#complete")
    page.wait_for_selector(".flash.ok")

    work(page, base, "li.handler", case_id, "investigate", {
        "investigation_findings": "核实情况", "info_sufficient": True, "solution_found": True,
        "proposed_solution": "解决方案"})
    work(page, base, "li.handler", case_id, "reply", {"reply_content": "答复内容", "accepted": True})
    work(page, base, "li.handler", case_id, "act", {"action_taken": "已处理"})
    work(page, base, "li.handler", case_id, "record_four_elements", {
        "handling_staff": "li.handler", "time_spent_hours": "2", "handling_process": "处理过程",
        "handling_result": "已解决", "customer_satisfaction": "satisfied"})
    work(page, base, "wang.head", case_id, "approve_record", {"head_approved": True, "head_opinion": "同意"})
    work(page, base, "chen.callback", case_id, "callback", {"callback_note": "客户满意", "satisfied": True})
    work(page, base, "zhao.group", case_id, "decide_outcome", {
        "outcome": "upheld", "our_responsibility": True, "liable_party": "staff", "late_or_shirking": False,
        "notified_later": True, "outcome_reason": "属实"}, screenshot="task-decide-outcome")
    work(page, base, "zhao.group", case_id, "analyse_cause", {"root_cause": "原因", "corrective_measures": "措施"})
    assert engine.reads.case_page(case_id, SYSTEM).case.status == "completed"

    page.goto(f"{base}/cases/{case_id}")
    page.wait_for_selector("#diagram[data-rendered='true']")
    assert page.get_attribute("#case-status", "data-status") == "completed" and page.inner_text("#case-status") == "已办结"
    for element in ("accept", "investigate", "approve_record", "analyse_cause"):
        assert page.locator(f"#diagram g.djs-element.done[data-element-id='{element}']").count() == 1
    assert page.locator("#diagram g.djs-element.done[data-element-id='inform_delay']").count() == 0
    assert "S-1" in page.inner_text("#deductions")
    shot(page, "case-completed")


def test_case_page_marks_the_current_task(page, server):
    base, _ = server
    login(page, base, "zhang.intake")
    case_id = register(page, base)
    page.goto(f"{base}/cases/{case_id}")
    page.wait_for_selector("#diagram[data-rendered='true']")
    assert page.locator("#diagram g.djs-element.current[data-element-id='accept']").count() == 1
    shot(page, "case-running")


def test_broken_bpmn_upload_shows_the_error_and_keeps_the_old_version(page, server, tmp_path):
    base, engine = server
    before = engine.admin.versions()
    broken = tmp_path / "normal.bpmn"
    broken.write_text("<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>"
                      "<bpmn:process id='normal' isExecutable='true'><bpmn:userTask id='t'/>", encoding="utf-8")
    login(page, base, "admin", "admin")
    page.goto(f"{base}/admin/processes")
    page.set_input_files("#bpmn-file", str(broken))
    page.click("#upload")
    assert page.locator("#deploy-error").is_visible()
    shot(page, "upload-error")
    assert engine.admin.versions() == before
    assert page.locator("#versions tr[data-key='normal']").count() == 1


def test_another_groups_task_url_is_403(page, server):
    base, engine = server
    login(page, base, "zhang.intake")
    case_id = register(page, base)
    task_id = next(t.id for t in engine.reads.case_page(case_id, SYSTEM).tasks if t.state == "ready")
    login(page, base, "he.netbasic")        # network department: not a candidate of a market complaint
    answer = page.goto(f"{base}/tasks/{task_id}")
    assert answer.status == 403
    shot(page, "forbidden")


def test_case_diagram_counts_the_n2_loop_and_dashes_the_task_the_n11_deadline_cancelled(page, server):
    """N-2 loop (investigate twice) shows ×2; N-11's interrupting deadline cancels the reply task (dashed)."""
    base, engine = server
    walk = Walk.start(engine, "zhang.intake", MARKET).accept("li.handler")
    walk.investigate("li.handler", sufficient=False).inform_delay("li.handler").investigate("li.handler")
    started = engine.clock()
    try:
        engine.clock.set(datetime(2025, 3, 6, 18, 1, tzinfo=SHANGHAI))     # 3 working days after acceptance
        engine.deadlines.fire_due_timers()
    finally:
        engine.clock.set(started)
    login(page, base, "admin", "admin")
    page.goto(f"{base}/cases/{walk.case_id}")
    page.wait_for_selector("#diagram[data-rendered='true']")
    handed = {name: json.loads(page.get_attribute("#diagram", f"data-{name}")) for name in ("path", "cancelled")}
    counts = Counter(step["id"] for step in handed["path"] if step["kind"] == "element")
    assert (counts["investigate"], counts["inform_delay"], counts["accept"], counts["reply"]) == (2, 1, 1, 0)
    assert handed["cancelled"] == ["reply"] and counts["reply_deadline"] == 1
    diagram = "#diagram g.djs-element"
    assert page.locator(f"{diagram}.done[data-element-id='investigate']").count() == 1
    assert page.inner_text(".djs-overlays[data-container-id='investigate'] .loop-count") == "×2"
    assert page.locator(".djs-overlays[data-container-id='accept'] .loop-count").count() == 0
    assert page.locator(f"{diagram}.cancelled[data-element-id='reply']").count() == 1
    assert page.locator(f"{diagram}.done[data-element-id='reply']").count() == 0
    assert page.locator(f"{diagram}.done[data-element-id='reply_deadline']").count() == 1
    shot(page, "case-loop")


CSP_WATCH = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "(e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")


def test_pages_and_the_bpmn_js_diagram_work_under_the_content_security_policy(page, server):
    """Issue 16 item 9: the CSP (script-src 'self', no inline script) blocks nothing the pages and bpmn-js use."""
    base, engine = server
    page.add_init_script(CSP_WATCH)
    login(page, base, "zhang.intake")
    case_id = register(page, base)
    page.goto(f"{base}/cases/{case_id}")
    page.wait_for_selector("#diagram[data-rendered='true']")
    assert page.locator("#diagram g.djs-element.current[data-element-id='accept']").count() == 1
    assert page.evaluate("window.__csp") == []
    login(page, base, "admin", "admin")
    version = next(v for v in engine.admin.versions() if v.key == "normal")
    for path in ("/admin/processes", f"/admin/versions/{version.id}", "/admin/organisation", "/admin/calendar", "/"):
        answer = page.goto(f"{base}{path}")
        assert "script-src 'self'" in answer.headers["content-security-policy"], path
        if path.startswith("/admin/versions/"):
            page.wait_for_selector("#diagram[data-rendered='true']")
        assert page.evaluate("window.__csp") == [], path


def test_a_deployed_file_with_a_script_downloads_and_runs_nothing(page, server):
    """Issue 16 item 6: an <html:script> inside a deployed BPMN file is never run by a signed-in browser."""
    base, engine = server
    xml = (Path(__file__).parents[1] / "fixtures" / "loop.bpmn").read_text(encoding="utf-8").replace(
        "<bpmn:definitions ", '<bpmn:definitions xmlns:html="http://www.w3.org/1999/xhtml" ', 1).replace(
        "</bpmn:definitions>", "<html:script>window.owned = 1; document.title = 'owned'</html:script></bpmn:definitions>").replace('id="loop_demo"', 'id="loop_scripted"')
    version_id = engine.admin.deploy(xml.encode(), "scripted.bpmn")[0].version_id
    login(page, base, "zhang.intake")
    with page.expect_download() as download:
        page.evaluate("(url) => { window.location.href = url; }", f"{base}/versions/{version_id}.bpmn")
    assert download.value.suggested_filename == "scripted.bpmn"
    assert page.title() != "owned" and page.evaluate("window.owned") is None
