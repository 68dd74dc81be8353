"""The compliance officer's workspace (SPEC §10 A-2, A-3): dashboard, heatmap, a deviating case, XES download;
403 for everyone else. HTTP tests, then a real browser (Debian's chromium under Playwright)."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from sqlalchemy import insert

from engine.services import SYSTEM
from engine.services.views import CaseConformance, DeviationView
from engine.store.models import AuditEvent
from tests.conftest import PROCESSES
from web import present
from tests.processes.casewalk import Walk
from tests.web.test_browser import browser, login, page, server, shot  # noqa: F401 (fixtures)

MARKET = "complaint.billing.disputed_fees"


def closed_case(engine) -> int:
    return Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide().close().case_id


def tamper(engine, db, case_id: int) -> None:
    """Append to a closed case's trail a reply nobody was offered (as a script writing to the database would)."""
    case = engine.reads.case_page(case_id, SYSTEM).case
    at = engine.clock()
    with db.transaction() as session:
        session.execute(insert(AuditEvent), [{
            "case_id": case_id, "version_id": case.version_id, "task_id": None, "element_id": "reply",
            "element_name": "答复客户", "element_type": "userTask", "flow_id": None, "lifecycle": "completed",
            "actor": "someone.else", "at": at, "data": None}])


def test_a2_the_workspace_is_403_for_staff_and_shown_to_the_compliance_officer(client, auth, web_engine, db):
    case_id = closed_case(web_engine)
    tamper(web_engine, db, case_id)
    auth.login("li.handler")
    for url in ("/compliance", f"/compliance/cases/{case_id}", "/compliance/versions/1"):
        assert client.get(url).status_code == 403, url
    assert b"nav-compliance" not in client.get("/").data
    assert b"case-conformance" not in client.get(f"/cases/{case_id}").data
    auth.login("qian.audit")
    dashboard = client.get("/compliance?process=normal")
    assert dashboard.status_code == 200 and b"fitness-chart" in dashboard.data
    assert f'/compliance/cases/{case_id}"'.encode() in dashboard.data
    judged = client.get(f"/compliance/cases/{case_id}").data.decode()
    assert "someone.else" in judged and "偏离其文档化流程" in judged
    assert "case-conformance" in client.get(f"/cases/{case_id}").data.decode()
    assert client.get("/compliance?from=soon").status_code == 400


def test_a2_a3_officer_opens_dashboard_heatmap_a_deviating_case_and_downloads_xes(page, server, tmp_path):  # noqa: F811
    base, engine = server
    case_id = closed_case(engine)
    tamper(engine, engine._core.db, case_id)
    login(page, base, "qian.audit")
    page.click("#nav-compliance")
    page.wait_for_selector("#fitness-chart")
    assert page.locator("#fitness-chart rect.fit").count() >= 1
    shot(page, "compliance-dashboard")
    page.click("#versions a:has-text('普通投诉处理流程 v1')")
    page.wait_for_selector("#heatmap[data-rendered='true']", timeout=20000)
    assert int(page.get_attribute("#heatmap", "data-heat")) > 10
    assert int(page.get_attribute("#heatmap", "data-marked")) >= 1       # the reply where the case deviated
    shot(page, "compliance-heatmap")
    page.click(f"#version-deviating a[href='/compliance/cases/{case_id}']")
    page.wait_for_selector("#heatmap[data-rendered='true']", timeout=20000)
    assert "someone.else" in page.inner_text("#deviations")
    shot(page, "compliance-case")
    page.goto(f"{base}/compliance")
    with page.expect_download() as download:
        page.click("#export-xes")
    path = tmp_path / "log.xes"
    download.value.save_as(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and f'<string key="concept:name" value="{case_id}"/>' in text


def bpmn_ids() -> set[str]:
    """Every id of every shipped BPMN file: elements, flows, lanes, processes, diagram shapes."""
    found: set[str] = set()
    for path in PROCESSES.glob("*.bpmn"):
        found |= {e.get("id") for e in etree.parse(str(path)).iter() if e.get("id")}
    return found


def shown_ids(html: str, *sections: str) -> set[str]:
    """The BPMN ids that stand as words in the text a person reads in the ``sections`` (element ids) of a page."""
    tree = lxml.html.fromstring(html)
    text = " ".join(" ".join(tree.get_element_by_id(s).itertext()) for s in sections)
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)) & IDS


IDS = bpmn_ids()


def test_a2_conformance_names_each_deviating_element_never_its_id(client, auth, web_engine, db):
    """A deviation reads by its element's name on every page that shows it: the dashboard (its table and its
    list of deviating cases), the version, the case's conformance page and the conformance box of the case page."""
    case_id = closed_case(web_engine)
    tamper(web_engine, db, case_id)
    version_id = web_engine.reads.case_page(case_id, SYSTEM).case.version_id
    assert {"reply", "normal"} <= IDS
    auth.login("qian.audit")
    pages = {"/compliance?process=normal": ("deviation-counts", "deviating"), f"/compliance/cases/{case_id}": (
                 "verdict", "deviations", "overrides"),
             f"/compliance/versions/{version_id}": ("version-deviations",), f"/cases/{case_id}": ("case-conformance",)}
    for url, sections in pages.items():
        html = client.get(url).data.decode()
        assert shown_ids(html, *sections) == set(), url
        tree = lxml.html.fromstring(html)     # the reply nobody was offered, by its name
        assert "答复客户" in " ".join(" ".join(tree.get_element_by_id(s).itertext()) for s in sections), url


def test_a2_an_unnamed_element_deviating_reads_as_what_it_is(app):
    """An imported log or a merge gateway (the shipped processes leave merges unnamed) deviates: the page says
    a decision (gateway) or an automatic step, not the element's id."""
    judged = CaseConformance(7, "normal", 1, {"normal": 1}, "completed", False, (
        DeviationView("unexpected", "merge_investigate", "", None, "system", "exclusiveGateway"),
        DeviationView("skipped", "notify_customer", "", None, None, "serviceTask"),
        DeviationView("skipped", "lost_element", "", None, None)), (), ())
    with app.test_request_context("/"):
        shown = [d["element_text"] for d in present.case_conformance(judged)["deviations"]]
    assert shown == ["判断(网关)", "自动步骤", "步骤"]
