"""Issue 18: an administrator cancels a case with a reason (SPEC A-1, A-2: audited, an override).

The SpiffWorkflow workflow is cancelled: its open tasks and waiting timers end, the status is ``cancelled``,
the timers never fire (the injected clock jumps past them), its tasks can no longer be claimed or completed
(409), compliance lists the cancel as an administrator's override with its reason, and the XES log ends the
trace with the cancel (pi_abort).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from lxml import etree
from sqlalchemy import insert, select

from engine.cli import main
from engine.services import SYSTEM, CaseCancelled, Conflict, FixedClock, InvalidRequest, PermissionDenied
from engine.services.compliance import Selection
from engine.store.models import Deadline, Timer, UserTask
from tests.conftest import fixture_bytes
from tests.integration.test_repair import broken_timer  # noqa: F401  (a case in incident)


@pytest.fixture
def waiting(engine, handler):
    """A case of deadline.bpmn: d_reply open, its 3-working-day deadline and 24 h reminder waiting."""
    engine.admin.deploy(fixture_bytes("deadline.bpmn"), "deadline.bpmn")
    return engine.cases.start("deadline_demo", {}, handler).id


def _later(engine, **delta):
    return engine.with_clock(FixedClock(engine.clock() + timedelta(**delta)))


def test_a2_a_cancelled_case_ends_its_tasks_and_timers_and_is_audited_with_actor_and_reason(engine, waiting, admin,
                                                                                           handler):
    task_id = engine.reads.case_page(waiting, SYSTEM).open_tasks[0].id
    assert [t.id for t in engine.reads.inbox(handler).tasks] == [task_id]
    ref = engine.cases.cancel(waiting, admin, reason="客户撤回投诉 (customer withdrew)")
    page = engine.reads.case_page(waiting, SYSTEM)
    assert ref.status == page.case.status == "cancelled" and ref.open_tasks == ()
    assert not page.open_tasks and not page.timers and page.case.ended_at is not None
    [cancel] = [e for e in page.events if e.lifecycle == "admin_action"]
    assert (cancel.actor, cancel.data["action"], cancel.data["reason"], cancel.data["status"]) == (
        "ada", "cancel", "客户撤回投诉 (customer withdrew)", "running")
    assert {(e.element_id, e.lifecycle) for e in page.events if e.lifecycle == "cancelled"} >= {
        ("d_reply", "cancelled"), ("d_overdue", "cancelled"), ("d_verify", "cancelled")}
    with engine.store_session() as session:
        assert session.get(UserTask, task_id).state == "cancelled"
        assert session.scalars(select(Timer).where(Timer.case_id == waiting)).all() == []
    assert engine.reads.inbox(handler).tasks == ()                     # gone from the inbox


def test_a2_the_timers_of_a_cancelled_case_never_fire(engine, waiting, admin):
    engine.cases.cancel(waiting, admin, reason="duplicate of another case")
    later = _later(engine, days=30)
    assert later.deadlines.fire_due_timers() == {"fired": 0, "failed": 0, "conflicts": 0}
    page = later.reads.case_page(waiting, SYSTEM)
    assert page.case.status == "cancelled"
    assert [e for e in page.events if e.lifecycle == "timer_fired"] == []


def test_a2_the_sweep_passes_a_cancelled_case_by_even_with_a_timer_row_left(engine, db, waiting, admin):
    """A timer row of a cancelled case (one a crashed writer could leave) is not picked: the case is not touched."""
    engine.cases.cancel(waiting, admin, reason="duplicate of another case")
    revision = engine.reads.case_page(waiting, SYSTEM).case.revision
    with db.transaction() as session:
        session.execute(insert(Timer), [{"id": "left-over", "case_id": waiting, "element_id": "d_overdue",
                                         "due_at": engine.clock() - timedelta(hours=1), "created_at": engine.clock()}])
    assert engine.deadlines.fire_due_timers() == {"fired": 0, "failed": 0, "conflicts": 0}
    page = engine.reads.case_page(waiting, SYSTEM)
    assert (page.case.status, page.case.revision) == ("cancelled", revision)      # no command ran on it


def test_a2_a_task_of_a_cancelled_case_cannot_be_claimed_or_completed(engine, waiting, admin, handler, market):
    task_id = engine.reads.case_page(waiting, SYSTEM).open_tasks[0].id
    engine.cases.claim(task_id, handler)
    engine.cases.cancel(waiting, admin, reason="customer withdrew")
    with pytest.raises(CaseCancelled) as completing:
        engine.cases.complete(task_id, {}, handler)
    with pytest.raises(CaseCancelled) as claiming:
        engine.cases.claim(task_id, handler)
    with pytest.raises(PermissionDenied):           # someone outside the task still hears 403, not the state
        engine.cases.complete(task_id, {}, market)
    assert completing.value.status == claiming.value.status == 409
    assert completing.value.code == "case_cancelled"
    with pytest.raises(CaseCancelled):
        engine.deadlines.pause(waiting, "customer abroad", admin)
    with pytest.raises(CaseCancelled):
        engine.cases.cancel(waiting, admin, reason="again")
    with pytest.raises(CaseCancelled):
        engine.cases.repair(waiting, admin, reason="x", data={})


def test_a2_only_administrators_cancel_always_with_a_reason_and_never_a_closed_case(engine, waiting, admin, handler):
    with pytest.raises(PermissionDenied):
        engine.cases.cancel(waiting, handler, reason="mine")
    with pytest.raises(InvalidRequest) as no_reason:
        engine.cases.cancel(waiting, admin, reason="  ")
    assert no_reason.value.code == "reason_required"
    assert engine.reads.case_page(waiting, SYSTEM).case.status == "running"        # nothing changed
    task_id = engine.reads.case_page(waiting, SYSTEM).open_tasks[0].id
    engine.cases.complete(task_id, {}, handler)
    with pytest.raises(Conflict) as closed:
        engine.cases.cancel(waiting, admin, reason="too late")
    assert closed.value.code == "case_closed"


def test_a2_a_case_in_incident_is_cancelled_and_leaves_the_incident_list(engine, broken_timer, admin):  # noqa: F811
    assert engine.cases.cancel(broken_timer, admin, reason="registered twice").status == "cancelled"
    page = engine.reads.case_page(broken_timer, SYSTEM)
    assert page.case.status == "cancelled" and page.case.incident is None
    assert broken_timer not in {c.id for c in engine.oversight.operations(admin).incidents}
    with pytest.raises(Conflict) as retried:
        engine.cases.retry(broken_timer, admin)
    assert retried.value.code == "not_in_incident"


def test_a2_compliance_lists_the_cancel_as_an_override_with_its_reason_not_as_a_deviation(engine, waiting, admin):
    engine.cases.cancel(waiting, admin, reason="customer withdrew")
    judged = engine.compliance.case(waiting, admin)
    assert judged.status == "cancelled" and judged.fits and judged.deviations == ()
    assert [(o.action, o.actor, o.reason) for o in judged.overrides] == [("cancel", "ada", "customer withdrew")]
    summary = engine.compliance.summary(admin, Selection(status="cancelled"))
    assert (summary.cases, summary.fitting, summary.overridden) == (1, 1, 1)
    log = etree.fromstring(engine.compliance.export(admin, Selection(), "xes"))
    ns = {"x": "http://www.xes-standard.org/"}
    [trace] = log.findall("x:trace", ns)
    assert trace.find("x:string[@key='status']", ns).get("value") == "cancelled"
    last = trace.findall("x:event", ns)[-1]
    values = {a.get("key"): a.get("value") for a in last}
    assert (values["concept:name"], values["lifecycle:transition"], values["org:resource"], values["reason"]) == (
        "cancel", "pi_abort", "ada", "customer withdrew")


def test_a2_a_deadline_still_ahead_at_the_cancel_is_not_counted_one_already_passed_is_missed(engine, waiting, admin):
    # 25 hours on: the 24 h reminder (d_verify) is due but not swept; the 3-working-day deadline is ahead.
    _later(engine, hours=25).cases.cancel(waiting, admin, reason="customer withdrew")
    with engine.store_session() as session:
        outcomes = dict(session.execute(select(Deadline.element_id, Deadline.outcome)
                                        .where(Deadline.case_id == waiting)).all())
    assert outcomes == {"d_verify": "missed", "d_overdue": "cancelled"}
    report = _later(engine, days=30).compliance.adherence(admin)
    assert [(r.rule_id, r.deadlines, r.missed) for r in report.rows] == [("N-2", 1, 1)]


def test_complaints_cancel_needs_a_reason_and_is_audited(engine, db_url, waiting, tmp_path, capsys):
    users = tmp_path / "users.json"
    users.write_text(json.dumps([{"username": "ada", "name": "Ada", "groups": ["admin"]}]))
    assert main(["--database", db_url, "users", "load", str(users)]) == 0
    with pytest.raises(SystemExit):
        main(["--database", db_url, "cancel", str(waiting), "--user", "ada"])
    capsys.readouterr()
    assert main(["--database", db_url, "cancel", str(waiting), "--user", "ada", "--reason", "withdrawn"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "cancelled"
    assert main(["--database", db_url, "cancel", str(waiting), "--user", "ada", "--reason", "again"]) == 5
    assert "case_cancelled" in capsys.readouterr().err
    [cancel] = [e for e in engine.reads.case_page(waiting, SYSTEM).events if e.lifecycle == "admin_action"]
    assert (cancel.actor, cancel.data["reason"]) == ("ada", "withdrawn")


def test_a2_a_shipped_case_waiting_inside_a_call_activity_is_cancelled_whole(db, clock):
    """normal.bpmn calls service_quality.bpmn: the call activity, the call-back inside it and its deadline end."""
    from tests.web.conftest import shipped
    from tests.web.incidents import RIGHT_AGENT, wrong_agent_intake

    engine = shipped(db, clock)
    admin = engine.accounts.actor("admin")
    case_id = engine.cases.start("normal", {**wrong_agent_intake("2025-03-03"), "complained_agent": RIGHT_AGENT},
                                 engine.accounts.actor("zhang.intake")).id
    page = engine.reads.case_page(case_id, SYSTEM)
    assert [t.element_id for t in page.open_tasks] == ["call_back"] and page.timers
    engine.cases.cancel(case_id, admin, reason="customer withdrew")
    page = engine.reads.case_page(case_id, SYSTEM)
    assert (page.case.status, page.open_tasks, page.timers) == ("cancelled", (), ())
    assert {"call_service_quality", "call_back"} <= {e.element_id for e in page.events if e.lifecycle == "cancelled"}
    assert _later(engine, days=60).deadlines.fire_due_timers()["fired"] == 0
    assert engine.compliance.case(case_id, admin).fits


def test_p2_a_cancelled_complaint_still_counts_as_received_but_not_as_completed(db, clock):
    """Cancelling must not make a registered complaint vanish from the statistics (P-1, P-2)."""
    from tests.web.conftest import shipped
    from tests.web.incidents import wrong_agent_intake

    engine = shipped(db, clock)
    admin, clerk = engine.accounts.actor("admin"), engine.accounts.actor("zhang.intake")
    data = {**wrong_agent_intake("2025-03-03"), "category": "complaint.network.signal", "complained_agent": None,
            "service_quality_agent_count": 0}
    engine.cases.start("normal", data, clerk)
    engine.cases.cancel(engine.cases.start("normal", data, clerk).id, admin, reason="registered twice")
    month = {t.key: t for t in engine.reports.report("P-2", "2025-03", admin).tables}["by_department"]
    row = dict(zip(month.columns, month.rows[0]))
    assert (row["department"], row["complaints"], row["completed"]) == ("network", 2, 0)
    week = {t.key: t for t in engine.reports.report("P-1", "2025-W10", admin).tables}["summary"]
    assert dict(zip(week.columns, week.rows[0]))["complaints"] == 2
