"""Issue 18: an administrator repairs and cancels cases in a real browser (Debian's chromium, Playwright).

A real incident of the shipped processes (tests/web/incidents.py: the intake names a person who is no
call-centre agent, and normal.bpmn's Q-3 step fails): listed on the operations page with its error, a retry
fails again and says so, a repair with invalid data changes nothing and marks the field, the repair with the
right agent and a reason brings the case out of incident, and the case page shows the administrator's action
with actor and reason. A case is cancelled with a reason. The repair page in English shows no raw key or id
(the staff pages' scan). Screenshots at 1366 and 390 px in tests/artifacts/.
"""

from __future__ import annotations

import pytest

from engine.services import SYSTEM, CaseCancelled
from tests.web.incidents import ERROR, RIGHT_AGENT, WRONG_AGENT, wrong_agent_intake
from tests.web.test_browser import browser  # noqa: F401  (the chromium fixture)
from tests.web.test_staff_pages import (  # noqa: F401  (demo: the app with the demo cases, module-scoped)
    STATUSES, WIDTHS, bpmn_ids, data_words, demo, open_page, raw_words, shot,
)


def _incident(engine) -> int:
    received = engine.clock().date().isoformat()
    ref = engine.cases.start("normal", wrong_agent_intake(received), engine.accounts.actor("zhang.intake"))
    assert ref.status == "incident"
    return ref.id


def _admin_actions(engine, case_id):
    return [e for e in engine.reads.case_page(case_id, SYSTEM).events if e.lifecycle == "admin_action"]


def test_a2_an_incident_is_listed_retried_in_vain_repaired_with_a_reason_and_runs_on(browser, demo):  # noqa: F811
    base, engine, _ = demo
    case_id = _incident(engine)
    page = open_page(browser, base, "admin", "zh", 1366)
    page.goto(f"{base}/operations")
    row = page.locator(f"#incidents tr[data-case='{case_id}']")
    assert row.count() == 1 and ERROR in row.locator("td.error").inner_text()
    shot(page, "repair-operations-incident-zh-1366")
    phone = open_page(browser, base, "admin", "zh", 390)
    phone.goto(f"{base}/operations")
    assert phone.locator(f"#incidents tr[data-case='{case_id}'] a.repair").is_visible()
    shot(phone, "repair-operations-incident-zh-390")
    phone.context.close()
    row.locator("button.retry").click()
    assert f"工单 {case_id} 重试仍失败" in page.inner_text(".flash.error") and ERROR in page.inner_text(".flash.error")
    assert engine.reads.case_page(case_id, SYSTEM).case.status == "incident"
    assert [e.data["action"] for e in _admin_actions(engine, case_id)] == ["retry"]

    page.locator(f"#incidents tr[data-case='{case_id}'] a.repair").click()
    page.wait_for_selector("#repair-form")
    assert page.inner_text("#failed-step") == "登记话务员被投诉 (Q-3)"
    assert page.inner_text("#incident-error").strip() == ERROR
    assert page.input_value("#f-complained_agent") == WRONG_AGENT
    assert page.input_value("#f-complainant_name") == "故障先生"
    assert page.inner_text("label[for='f-complained_agent']").startswith("被投诉话务员账号")
    assert page.inner_text("#save-retry") == "保存并重试"

    # Invalid data: the field is marked, nothing changes.
    page.fill("#f-complained_agent", "ghost.agent")
    page.fill("#f-reason", "登记时填错了被投诉话务员账号")
    page.click("#save-retry")
    page.wait_for_selector("#error-complained_agent")
    assert "ghost.agent" in page.inner_text("#error-complained_agent")
    assert "未作任何更改" in page.inner_text(".flash.error")
    assert page.input_value("#f-reason") == "登记时填错了被投诉话务员账号"     # what was typed is kept
    shot(page, "repair-invalid-zh-1366")
    # No reason: refused as well.
    page.fill("#f-complained_agent", RIGHT_AGENT)
    page.fill("#f-reason", "")
    page.click("#save-retry")
    page.wait_for_selector("#error-reason")
    assert engine.reads.case_page(case_id, SYSTEM).case.status == "incident"
    assert [e.data["action"] for e in _admin_actions(engine, case_id)] == ["retry"]
    # Valid data whose retry fails again (the department head is a person, but no call-centre agent either):
    # saved and audited, and the page says loudly that the case stays in incident.
    page.fill("#f-complained_agent", "wang.head")
    page.fill("#f-reason", "改为客户提到的王主任")
    page.click("#save-retry")
    page.wait_for_selector("#repair-form")
    failed_again = page.inner_text(".flash.error")
    assert f"工单 {case_id} 已修复,但其步骤再次失败,仍处于故障状态" in failed_again
    assert "wang.head belongs to no call-centre team" in failed_again
    assert page.inner_text("#incident-error").strip() == "Q-3: wang.head belongs to no call-centre team"
    assert page.input_value("#f-complained_agent") == "wang.head"
    assert engine.reads.case_page(case_id, SYSTEM).case.status == "incident"
    shot(page, "repair-failed-again-zh-1366")

    page.fill("#f-complained_agent", RIGHT_AGENT)
    page.fill("#f-reason", "客户投诉的是谢话务员,登记时填错账号")
    page.click("#save-retry")
    page.wait_for_selector("#case-status")
    assert page.url == f"{base}/cases/{case_id}"
    assert f"工单 {case_id} 已修复" in page.inner_text(".flash.ok")
    assert page.get_attribute("#case-status", "data-status") == "running"
    assert page.inner_text("#case-status") == "处理中" and page.locator("#case-incident").count() == 0
    row = page.locator("#timeline tr", has_text="客户投诉的是谢话务员,登记时填错账号")
    assert row.count() == 1
    assert "管理员操作: 更正数据" in row.inner_text() and engine.reads.directory().people["admin"]["name"] in row.inner_text()
    shot(page, "repair-done-case-zh-1366")
    [retry, in_vain, repair] = _admin_actions(engine, case_id)
    assert in_vain.data["data"] == {"complained_agent": "wang.head"} and "wang.head" not in in_vain.data["incident"]
    assert (repair.actor, repair.data["reason"], repair.data["data"]) == (
        "admin", "客户投诉的是谢话务员,登记时填错账号", {"complained_agent": RIGHT_AGENT})
    assert [t.element_id for t in engine.reads.case_page(case_id, SYSTEM).open_tasks] == ["call_back"]
    page.context.close()


def test_a2_an_administrator_cancels_a_case_with_a_reason(browser, demo):  # noqa: F811
    base, engine, cases = demo
    received = engine.clock().date().isoformat()
    case_id = engine.cases.start("normal", {**wrong_agent_intake(received, "小区信号差,客户后来撤诉"),
                                            "category": "complaint.network.signal", "complained_agent": None,
                                            "service_quality_agent_count": 0},
                                 engine.accounts.actor("zhang.intake")).id
    task_id = engine.reads.case_page(case_id, SYSTEM).open_tasks[0].id
    page = open_page(browser, base, "admin", "zh", 1366)
    page.goto(f"{base}/cases/{case_id}")
    page.click("#to-repair")
    page.wait_for_selector("#cancel-form")
    assert page.locator("#incident").count() == 0 and page.inner_text("#save-retry") == "保存"
    page.click("#cancel-case")                       # no reason: nothing happens, the page says so
    assert "工单未撤销" in page.inner_text(".flash.error")
    assert engine.reads.case_page(case_id, SYSTEM).case.status == "running"
    page.fill("#f-cancel-reason", "客户来电撤回投诉")
    shot(page, "repair-cancel-zh-1366")
    page.click("#cancel-case")
    page.wait_for_selector("#case-status")
    assert f"工单 {case_id} 已撤销" in page.inner_text(".flash.ok")
    assert page.get_attribute("#case-status", "data-status") == "cancelled" and page.inner_text("#case-status") == "已取消"
    assert page.locator("#open-tasks li.empty").count() == 1
    row = page.locator("#timeline tr", has_text="客户来电撤回投诉")
    assert "管理员操作: 撤销工单" in row.inner_text()
    assert page.locator("#to-repair").count() == 0            # an ended case offers no repair
    shot(page, "repair-cancelled-case-zh-1366")
    page.goto(f"{base}/cases?number={case_id}")               # the case list shows the status by its label
    assert page.inner_text(f"#cases tr[data-case='{case_id}'] td[data-status]") == "已取消"
    # The compliance report: the steps until the cancel fit; the cancel is the administrator's, with the reason.
    page.goto(f"{base}/compliance/cases/{case_id}")
    assert page.get_attribute("#verdict", "class") == "ok" and page.inner_text("#judged-status") == "已取消"
    assert "客户来电撤回投诉" in page.inner_text("#cancelled-by")
    assert "客户来电撤回投诉" in page.inner_text("#overrides tr[data-action='cancel']")
    assert "撤销工单" in page.inner_text("#overrides tr[data-action='cancel']")
    shot(page, "repair-cancelled-conformance-zh-1366")
    page.context.close()
    with pytest.raises(CaseCancelled):
        engine.cases.complete(task_id, {"responsible_person": "he.netbasic"}, engine.accounts.actor("he.netbasic"))
    small = open_page(browser, base, "admin", "zh", 390)
    small.goto(f"{base}/cases/{case_id}")
    shot(small, "repair-cancelled-case-zh-390")
    small.context.close()


def test_the_repair_page_shows_no_raw_key_or_id_in_english_and_fits_a_phone(browser, demo):  # noqa: F811
    base, engine, _ = demo
    case_id = _incident(engine)
    forbidden = bpmn_ids() | data_words(engine) | STATUSES
    assert {"register_sq_complaint", "complained_agent", "incident"} <= forbidden
    names = sorted((p["name"] for p in engine.admin.organisation()["people"]), key=len, reverse=True)
    for width in WIDTHS:
        for locale in ("en", "zh"):
            page = open_page(browser, base, "admin", locale, width)
            page.goto(f"{base}/operations/cases/{case_id}/repair")
            page.wait_for_selector("#repair-form")
            page.click("#case-facts summary")           # the facts the steps computed are scanned too
            if width == WIDTHS[0]:
                assert raw_words(page, forbidden, names, locale) == [], locale
            if locale == "en":
                assert page.inner_text("h1").startswith(f"Repair case #{case_id}")
                assert page.inner_text("#save-retry") == "Save and retry"
                assert page.inner_text("#case-status") == "Incident"
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
            shot(page, f"repair-page-{locale}-{width}")
            page.context.close()
