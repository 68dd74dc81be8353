"""Event logs out and in (SPEC A-3, A-2): XES of engine-run cases read back by pm4py (a test-only, AGPL
dependency the product never imports), CSV export, and other systems' logs replayed against a version."""

from __future__ import annotations

import csv
import re
import io
from pathlib import Path

import pytest

from engine.services import SYSTEM, InvalidRequest, PermissionDenied, Selection
from engine.services.eventlogs import GATEWAYS, activity_name
from tests.processes.casewalk import Walk, shipped_engine

MARKET = "complaint.billing.disputed_fees"


@pytest.fixture
def shipped(db, clock):
    return shipped_engine(db, clock)


@pytest.fixture
def officer(shipped):
    return shipped.accounts.actor("qian.audit")


@pytest.fixture
def cases(shipped, clock):
    """Four normal complaints: two closed, one escalated, one waiting at the reply."""
    closed = [Walk.start(shipped, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide().close()
              for _ in range(2)]
    clock.advance(hours=1)
    escalated = Walk.start(shipped, "zhang.intake", MARKET).accept("li.handler")
    escalated.investigate("li.handler", solution_found=False)
    waiting = Walk.start(shipped, "zhang.intake", MARKET).accept("li.handler").investigate("li.handler")
    return closed + [escalated, waiting]


def completed_names(shipped, case_id: int) -> list[str]:
    """Return the names of the elements a case completed, in order, gateways left out (what the export holds)."""
    return [activity_name(e.element_id, e.element_name) for e in shipped.reads.case_page(case_id, SYSTEM).events
            if e.lifecycle in ("completed", "timer_fired") and e.element_type not in GATEWAYS]


def test_a3_xes_of_engine_run_cases_reads_back_in_pm4py_with_the_same_traces(shipped, officer, cases, tmp_path):
    import pm4py        # a test dependency (pyproject [test]); AGPL, so never imported by the product

    path = tmp_path / "cases.xes"
    path.write_bytes(shipped.compliance.export(officer, Selection(process_key="normal"), "xes"))
    frame = pm4py.read_xes(str(path))
    done = frame[frame["lifecycle:transition"] == "complete"]
    traces = {case: list(group["concept:name"]) for case, group in done.groupby("case:concept:name", sort=False)}
    assert traces == {str(w.case_id): completed_names(shipped, w.case_id) for w in cases}
    resources = set(frame["org:resource"].dropna())
    assert {"zhang.intake", "li.handler", "wang.head", "chen.callback", "zhao.group"} <= resources
    assert {"schedule", "complete"} <= set(frame["lifecycle:transition"])
    assert frame["time:timestamp"].dt.tz is not None


def test_a3_csv_export_has_one_row_per_event_with_resource_and_time(shipped, officer, cases):
    rows = list(csv.DictReader(io.StringIO(shipped.compliance.export(officer, Selection(), "csv").decode())))
    first = [r for r in rows if r["case_id"] == str(cases[0].case_id)]
    assert first[0]["element_id"] == "start_received" and first[0]["transition"] == "complete"
    assert {r["resource"] for r in first if r["element_id"] == "approve_record" and r["lifecycle"] == "completed"} \
        == {"wang.head"}
    with pytest.raises(InvalidRequest):
        shipped.compliance.export(officer, Selection(), "pdf")
    with pytest.raises(PermissionDenied):
        shipped.compliance.export(shipped.accounts.actor("li.handler"), Selection(), "xes")


def foreign_csv(shipped, officer, drop: dict[int, str]) -> bytes:
    """Return another system's log of the cases' user tasks, its own column names, some steps deleted."""
    rows = csv.DictReader(io.StringIO(shipped.compliance.export(officer, Selection(), "csv").decode()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["工单号", "环节", "完成时间", "处理人"])
    for r in rows:
        if r["element_type"] == "userTask" and r["lifecycle"] == "completed":
            if drop.get(int(r["case_id"])) == r["element_id"]:
                continue
            writer.writerow([f"W{r['case_id']}", r["activity"], r["timestamp"], r["resource"]])
    return out.getvalue().encode()


MAPPING = {"case": "工单号", "activity": "环节", "timestamp": "完成时间", "resource": "处理人"}


def test_a2_an_imported_csv_with_a_deleted_step_flags_exactly_those_cases(shipped, officer, cases):
    drop = {cases[1].case_id: "approve_record", cases[3].case_id: "accept"}
    checked = shipped.compliance.check_log(officer, foreign_csv(shipped, officer, drop), "csv", "normal", 1,
                                           MAPPING, match_by="name")
    flagged = {t.case: [(d.kind, d.element_id) for d in t.deviations] for t in checked.cases if not t.fits}
    assert flagged == {f"W{cases[1].case_id}": [("skipped", "approve_record")],
                       f"W{cases[3].case_id}": [("skipped", "accept")]}
    assert (checked.traces, checked.fitting) == (4, 2)


def test_a2_an_imported_xes_is_checked_like_the_engines_own_trail(shipped, officer, cases):
    xes = shipped.compliance.export(officer, Selection(), "xes")
    checked = shipped.compliance.check_log(officer, xes, "xes", "normal", 1, match_by="name")
    assert (checked.traces, checked.fitting) == (4, 4)


@pytest.mark.parametrize("content, mapping, code, row", [
    (b"a,b\n1,x\n", MAPPING, "bad_log", 1),
    ("工单号,环节,完成时间\nW1,受理,yesterday\n".encode(), MAPPING | {"resource": ""}, "bad_log", 2),
    ("工单号,环节,完成时间\nW1,受理,2025-03-03T09:00:00\nW1,,2025-03-03T10:00:00\n".encode(),
     MAPPING | {"resource": ""}, "bad_log", 3),
    ("工单号,环节,完成时间\nW1,没有这个环节,2025-03-03T09:00:00\n".encode(), MAPPING | {"resource": ""}, "bad_log", 2),
])
def test_a2_a_bad_imported_log_is_refused_naming_the_row(shipped, officer, content, mapping, code, row):
    with pytest.raises(InvalidRequest) as refused:
        shipped.compliance.check_log(officer, content, "csv", "normal", 1, mapping, match_by="name")
    assert (refused.value.code, refused.value.params["row"]) == (code, row)


def test_the_product_never_imports_pm4py():
    root = Path(__file__).parents[2]
    offenders = [str(p.relative_to(root)) for folder in ("engine", "web", "bench") for p in (root / folder).rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+pm4py", p.read_text(encoding="utf-8"), re.M)]
    assert offenders == []


def test_c6_a3_xes_of_a_crisis_with_hourly_counts_reads_back_with_one_tick_per_hour(shipped, officer, clock, tmp_path):
    """C-6 ticks of crisis.bpmn's timer cycle are events of their own in the XES log (each before its count)."""
    import pm4py        # a test dependency (pyproject [test]); AGPL, so never imported by the product

    from tests.integration.test_conformance import crisis_tracked

    walk = crisis_tracked(shipped, clock, hours=2)
    path = tmp_path / "crisis.xes"
    path.write_bytes(shipped.compliance.export(officer, Selection(process_key="crisis"), "xes"))
    frame = pm4py.read_xes(str(path))
    done = list(frame[frame["lifecycle:transition"] == "complete"]["concept:name"])
    assert done == completed_names(shipped, walk.case_id)
    names = {e.element_id: activity_name(e.element_id, e.element_name)
             for e in shipped.reads.case_page(walk.case_id, SYSTEM).events if e.element_id}
    tick, count = names["hourly_count"], names["count_complaints"]
    assert done.count(tick) == 2 and done.count(count) == 2 and done.index(tick) < done.index(count)
