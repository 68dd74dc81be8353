"""The deduction ledger (S-7): exact cumulative monthly totals, reversals, append-only rows, CSV, command line."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import text

from engine.services import SYSTEM, Conflict, InvalidRequest, NotFound, PermissionDenied
from tests.conftest import SHANGHAI
from tests.processes.casewalk import ROOT, Walk, shipped_engine

MARKET, NETWORK, CHANNEL = "complaint.billing.disputed_fees", "complaint.network.signal", "complaint.service.channel"


@pytest.fixture
def engine(db, clock):
    return shipped_engine(db, clock)


def s1_case(engine, late_or_shirking: bool = False) -> Walk:
    """A market complaint first put to zhang.intake, notified and upheld: S-1 (and S-2a) for zhang, gao.front,
    wang.head, KPI."""
    return Walk.start(engine, "zhang.intake", MARKET).to_outcome("li.handler", "wang.head").decide(
        late_or_shirking=late_or_shirking)


@pytest.fixture
def march(engine, clock):
    """Cases of March 2025 (S-1 + S-2a, S-5, S-4, S-1 again, one reversal) and one S-1 case of April."""
    s1_case(engine, late_or_shirking=True)
    support = Walk.start(engine, "zhang.intake", NETWORK).accept("tang.netbasic")
    support.investigate("tang.netbasic", sufficient=False).ask_support("tang.netbasic", "network")
    clock.advance(hours=7)
    engine.deadlines.fire_due_timers()
    Walk.start(engine, "zhang.intake", CHANNEL, first_ask_owner="tian.channel").to_outcome(
        "li.handler", "wang.head").decide(liable_party="channel", notified=False)
    again = s1_case(engine)
    wrong = next(e for e in engine.ledger.entries(case_id=again.case_id) if e.role == "responsible")
    reversal = engine.ledger.reverse(wrong.id, engine.accounts.actor("zhao.group"), "申诉成立: 非首问责任人责任")
    clock.set(datetime(2025, 4, 1, 9, 0, tzinfo=SHANGHAI))
    s1_case(engine)
    return {"reversed": wrong, "reversal": reversal}


def totals(engine, by: str) -> dict[tuple[str, str], tuple[D, int]]:
    return {(t["key"], t["unit"]): (t["amount"], t["entries"]) for t in engine.ledger.totals("2025-03", by)}


def test_s7_monthly_totals_are_exact_cumulative_sums_of_the_ledger(engine, march):
    assert totals(engine, "person") == {
        ("zhang.intake", "points"): (D("0.10"), 4),       # 0.05 S-1 + 0.05 S-2a + 0.05 S-1 - 0.05 reversal
        ("gao.front", "points"): (D("0.06"), 2),
        ("wang.head", "points"): (D("0.02"), 2),
    }
    assert totals(engine, "department") == {
        ("market", "points"): (D("0.18"), 8),
        ("network", "points"): (D("0.5"), 1),             # S-5
        ("grid_east", "yuan"): (D("150"), 2),             # S-4: the channel partner sits in the east grid
    }
    assert totals(engine, "kpi") == {("city", "points"): (D("0.10"), 2)}
    april = engine.ledger.totals("2025-04", "kpi")
    assert [(t["key"], t["amount"]) for t in april] == [("city", D("0.05"))]


def test_s7_a_reversal_is_a_new_negative_entry_referencing_the_original(engine, march):
    original, reversal = march["reversed"], march["reversal"]
    assert (reversal.kind, reversal.reverses, reversal.amount, reversal.month) == (
        "reversal", original.id, D("-0.05"), "2025-03")
    assert (reversal.booked_by, reversal.reason) == ("zhao.group", "申诉成立: 非首问责任人责任")
    kept = next(e for e in engine.ledger.entries(case_id=original.case_id) if e.id == original.id)
    assert (kept.kind, kept.amount) == ("booking", D("0.05"))
    audit = [e.data for e in engine.reads.case_page(original.case_id, SYSTEM).events if e.lifecycle == "admin_action"]
    assert audit == [{"action": "reverse_deduction", "entry": original.id, "reversal": reversal.id,
                      "reason": reversal.reason}]


def test_s7_a_reversal_is_refused_twice_for_a_reversal_without_reason_or_right(engine, march):
    group = engine.accounts.actor("zhao.group")
    with pytest.raises(Conflict):
        engine.ledger.reverse(march["reversed"].id, group, "again")
    with pytest.raises(InvalidRequest):
        engine.ledger.reverse(march["reversal"].id, group, "reverse the reversal")
    other = engine.ledger.entries(month="2025-03")[0]
    with pytest.raises(InvalidRequest):
        engine.ledger.reverse(other.id, group, "  ")
    with pytest.raises(PermissionDenied):
        engine.ledger.reverse(other.id, engine.accounts.actor("li.handler"), "not mine")
    with pytest.raises(NotFound):
        engine.ledger.reverse(10_000, group, "no such entry")


def test_s7_the_ledger_refuses_update_and_delete(engine, db):
    s1_case(engine)
    for statement in ("UPDATE deduction_entry SET amount_e4 = 0", "DELETE FROM deduction_entry"):
        with pytest.raises(Exception, match="append-only"):
            with db.write_engine.begin() as conn:
                conn.execute(text(statement))
    assert len(engine.ledger.entries(month="2025-03")) == 4


def test_s7_csv_export_of_the_monthly_totals_and_entries(engine, march):
    rows = list(csv.DictReader(io.StringIO(engine.ledger.export_csv("2025-03"))))
    assert {(r["by"], r["key"], r["unit"], r["amount"]) for r in rows} == {
        ("person", "zhang.intake", "points", "0.1"), ("person", "gao.front", "points", "0.06"),
        ("person", "wang.head", "points", "0.02"), ("department", "market", "points", "0.18"),
        ("department", "network", "points", "0.5"), ("department", "grid_east", "yuan", "150"),
        ("kpi", "city", "points", "0.1"),
    }
    entries = list(csv.DictReader(io.StringIO(engine.ledger.export_csv("2025-03", "entry"))))
    assert len(entries) == 13 and entries[-1]["kind"] == "reversal" and entries[-1]["amount"] == "-0.05"


@pytest.fixture
def cli(db_url):
    """Run ``complaints`` against the test database; return (exit code, stdout)."""
    env = dict(os.environ, DATABASE_URL=db_url)

    def run(*args: str) -> tuple[int, str]:
        proc = subprocess.run([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout if proc.returncode == 0 else proc.stderr

    return run


def test_cli_loads_the_demo_organisation_and_reads_the_ledger(db, cli, engine, march):
    code, out = cli("org", "load", "data/organisation.toml")
    assert code == 0 and json.loads(out)["people"] >= 29
    people = {p["username"]: p for p in json.loads(cli("org", "show")[1])["people"]}
    assert (people["xie.agent"]["leader"], people["xie.agent"]["department"]) == ("wu.teamleader", "call_centre")
    code, out = cli("ledger", "totals", "--month", "2025-03", "--by", "kpi")
    assert code == 0 and json.loads(out) == [{"month": "2025-03", "by": "kpi", "key": "city", "name": "*市分公司",
                                             "unit": "points", "amount": "0.1", "entries": 2}]
    code, out = cli("ledger", "export", "--month", "2025-03", "--by", "person")
    assert code == 0 and out.splitlines()[0] == "month,by,key,name,unit,amount,entries" and len(out.splitlines()) == 4
    entry = engine.ledger.entries(month="2025-04")[0]
    code, out = cli("--now", "2025-04-02T10:00:00+08:00", "ledger", "reverse", str(entry.id), "--user", "zhao.group",
                    "--reason", "复核不成立")
    assert code == 0 and json.loads(out)["amount"] == "-" + str(entry.amount.normalize())
    assert cli("ledger", "reverse", str(entry.id), "--user", "zhao.group", "--reason", "again")[0] == 5
    assert cli("ledger", "reverse", str(entry.id), "--user", "li.handler", "--reason", "x")[0] == 3


def test_org_load_refuses_a_broken_organisation_and_changes_nothing(engine, cli, tmp_path):
    broken = tmp_path / "org.toml"
    broken.write_text('[[person]]\nusername = "zhang.intake"\nname = "Z"\nunit = "no_such_unit"\n', encoding="utf-8")
    code, out = cli("org", "load", str(broken))
    assert code == 2 and "no_such_unit" in out
    people = {p["username"]: p for p in engine.admin.organisation()["people"]}
    assert (people["zhang.intake"]["name"], people["zhang.intake"]["unit"]) == ("张受理 Zhang (intake clerk)",
                                                                              "market_front")
