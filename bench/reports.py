"""``python -m bench.reports``: the report queries (P-1..P-4, a drill-down, an XLSX export) over 1,000,000 cases
on PostgreSQL, with the indexes of migration 0007.

The cases are rows of the real tables, written in batches with PostgreSQL's ``COPY`` (plain ``insert`` on SQLite):
``case_instance`` (two years of intake contacts, the data a complaint carries:
kind, channel, category, routed department and grid, outcome), the ``audit_event``
rows that mark a dispatch (``accept``) or an escalation (``handover``), the
``overdue_record`` of the late ones and the ``deduction_entry`` lines of the
upheld ones. Then the tables are analysed, as autovacuum would, and each report
is read ``--reads`` times through the service layer (``ProcessEngine.reports``);
the table gives p50 and the slowest read. The goal is under 2 s each.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import tomllib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from engine.services import SYSTEM, FixedClock, ProcessEngine, TopicRegistry
from engine.store.models import AuditEvent, Case, DeductionEntry, OverdueRecord

from .persisted import fresh_database

BEIJING = timezone(timedelta(hours=8))
T0 = datetime(2024, 1, 1, tzinfo=BEIJING)
DAYS = 728                      # 104 weeks: 2024-01-01 .. 2025-12-28
BATCH = 20_000
ROOT = Path(__file__).parents[1]
# category -> (department, group) as the telecom routing table gives them (data/profiles/telecom/routing.toml)
ROUTES = {"complaint.network.signal": ("network", "net_basic"), "complaint.network.internet": ("network", "net_basic"),
          "complaint.broadband.fault": ("network", "net_all"), "complaint.billing.disputed_fees": ("market", "market"),
          "complaint.billing.unknowing_subscription": ("market", "market"),
          "complaint.service.customer_manager": ("gov_ent", "gov_ent"), "complaint.other": ("grid", "grid_east"),
          "complaint.service.call_centre_agent": ("call_centre", "call_centre")}
OTHER = {"consultation": "consultation.billing", "demand": "demand.service", "suggestion": "suggestion.service"}
CHANNELS = ("hotline", "hotline", "hotline", "web", "wechat", "email", "letter", "walk_in", "hotline_12315")
PERSON = {"network": ("tang.netbasic", "ma.network"), "market": ("li.handler", "wang.head"),
          "gov_ent": ("feng.manager", "zheng.govent"), "grid": ("luo.grid", "huang.grid"),
          "call_centre": ("xie.agent", "wu.teamleader")}
# Periods measured: a week, a month and a quarter of 2025 (each holds its share of the two years).
PERIODS = {"P-1": "2025-W24", "P-2": "2025-06", "P-3": "2025-Q2", "P-4": "2025-06"}


class Generator:
    """Writes cases and the rows the reports read into the real tables, in batches."""

    def __init__(self, db, version_id: int, seed: int = 17):
        self.db, self.version_id, self.rng = db, version_id, random.Random(seed)

    def _case(self, n: int, total: int) -> tuple[dict, dict]:
        rng = self.rng
        # Cases arrive in time order, as on a live site: the rows of one period lie together in the table.
        started = T0 + timedelta(seconds=(n + rng.random()) * DAYS * 86400 / total)
        roll = rng.random()
        kind = "complaint" if roll < 0.85 else "consultation" if roll < 0.9 else "demand" if roll < 0.97 else "suggestion"
        category = rng.choice(list(ROUTES)) if kind == "complaint" else OTHER[kind]
        department, group = ROUTES.get(category, ("grid", "grid_east"))
        outcome = rng.choice(("upheld", "upheld", "partly_upheld", "not_upheld", "not_upheld")) \
            if kind == "complaint" else None
        data = {"kind": kind, "channel": rng.choice(CHANNELS), "category": category, "complainant_name": f"客户{n}",
                "responsible_department": department, "responsible_group": group, "severity": "general",
                "customer_grid": "east" if department == "grid" else None, "outcome": outcome,
                "facts": "客户反映的问题经过" * 3}
        done = rng.random() < 0.8
        return {"process_key": "normal", "version_id": self.version_id, "pinned": {"normal": self.version_id},
                "status": "completed" if done else "running", "category": category, "revision": 8, "state": "{}",
                "data": data, "incident": None, "started_by": "zhang.intake", "started_at": started,
                "updated_at": started, "ended_at": started + timedelta(days=3) if done else None}, data

    def write(self, total: int) -> dict[str, int]:
        counts = {"cases": 0, "audit_event": 0, "overdue_record": 0, "deduction_entry": 0}
        with self.db.transaction(write=False) as session:
            next_id = (session.scalar(select(func.max(Case.id))) or 0) + 1
        for start in range(0, total, BATCH):
            made = [self._case(start + i, total) for i in range(min(BATCH, total - start))]
            ids = list(range(next_id, next_id + len(made)))
            next_id += len(made)
            events, overdue, ledger = [], [], []
            for case_id, (case, data) in zip(ids, made):
                case["id"] = case_id
                if data["kind"] == "complaint":
                    self._rows(case_id, case, data, events, overdue, ledger)
            tables = ((Case, [c for c, _ in made]), (AuditEvent, events), (OverdueRecord, overdue),
                      (DeductionEntry, ledger))
            with self.db.transaction() as session:
                for model, rows in tables:
                    if rows:
                        self._copy(session, model, rows)
            counts["cases"] += len(made)
            counts["audit_event"] += len(events)
            counts["overdue_record"] += len(overdue)
            counts["deduction_entry"] += len(ledger)
        if not self.db.is_sqlite:
            with self.db.transaction() as session:
                for table in ("case_instance", "audit_event", "overdue_record", "deduction_entry"):
                    session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                         f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        return counts

    def _rows(self, case_id: int, case: dict, data: dict, events: list, overdue: list, ledger: list) -> None:
        at, rng = case["started_at"], self.rng
        elements = (["accept"] if rng.random() < 0.95 else []) + (["handover"] if rng.random() < 0.05 else [])
        for element in elements:
            events.append({"case_id": case_id, "version_id": self.version_id, "task_id": None,
                           "element_id": element, "element_name": element, "element_type": "UserTask",
                           "flow_id": None, "lifecycle": "ready", "actor": "system", "at": at, "data": None})
        if rng.random() < 0.04:
            overdue.append({"case_id": case_id, "rule_id": "N-11", "element_id": "reply_deadline",
                            "responsible_group": data["responsible_group"], "at": at + timedelta(days=4), "data": {}})
        if data["outcome"] in ("upheld", "partly_upheld") and rng.random() < 0.3:
            routed = data["responsible_department"]
            person, head = PERSON[routed]
            department = routed if routed != "grid" else "grid_east"
            month = at.astimezone(BEIJING).strftime("%Y-%m")
            for subject, kind, role, amount in ((person, "person", "responsible", "0.05"),
                                                (head, "person", "dept_head", "0.01"),
                                                ("city", "kpi", "city_kpi", "0.05")):
                ledger.append({"kind": "booking", "case_id": case_id, "rule_id": "S-1", "subject": subject,
                               "subject_kind": kind, "subject_name": subject, "role": role,
                               "department": "city" if kind == "kpi" else department, "amount_e4": Decimal(amount),
                               "unit": "points", "month": month, "element_id": "book_outcome", "booked_by": "system",
                               "booked_at": at, "reverses": None, "reason": None})

    def _copy(self, session, model, rows: list[dict]) -> None:
        """Write rows into the model's table: COPY on PostgreSQL (values bound by the columns' types)."""
        table = model.__table__
        columns = [c for c in table.columns if c.key in rows[0] or c.name in rows[0]]
        values = [[row.get(c.key, row.get(c.name)) for c in columns] for row in rows]
        dialect = session.get_bind().dialect
        processors = [(lambda v: json.dumps(v, ensure_ascii=False)) if isinstance(c.type, JSON)
                      else c.type.bind_processor(dialect) for c in columns]
        if self.db.is_sqlite:
            session.execute(insert(table), [{c.name: v for c, v in zip(columns, r)} for r in values])
            return
        raw = session.connection().connection.driver_connection
        with raw.cursor() as cursor:
            names = ", ".join(c.name for c in columns)
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row([p(v) if p and v is not None else v for p, v in zip(processors, row)])

    def tidy(self) -> None:
        """Analyse the tables, as autovacuum would after such a load."""
        with self.db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("case_instance", "audit_event", "overdue_record", "deduction_entry"):
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


def timed(call, reads: int) -> tuple[float, float, object]:
    call()                                  # warm: the plan cache, the rule files
    times, result = [], None
    for _ in range(reads):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def measure(engine: ProcessEngine, reads: int) -> list[tuple[str, str, float, float, str]]:
    reports, head = engine.reports, engine.accounts.actor("ma.network")
    calls = [(f"{key} {period}", "all", lambda k=key, p=period: reports.report(k, p, SYSTEM))
             for key, period in PERIODS.items()]
    calls += [("P-2 2025-06", "network head", lambda: reports.report("P-2", "2025-06", head)),
              ("P-2 drill overdue", "all", lambda: reports.cases("P-2", "2025-06", SYSTEM,
                                                                  {"kind": "complaint", "overdue": True})),
              ("P-2 XLSX export", "all", lambda: reports.export("P-2", "2025-06", SYSTEM, "xlsx"))]
    out = []
    for name, who, call in calls:
        p50, worst, result = timed(call, reads)
        if isinstance(result, list):
            what = f"{len(result)} cases"
        elif isinstance(result, bytes):
            what = f"{len(result):,} bytes"
        else:
            what = "; ".join(f"{t.key}={len(t.rows)}" for t in result.tables[:3])
        out.append((name, who, p50, worst, what))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=5, help="timed reads per report (default 5)")
    parser.add_argument("--databases", default="postgresql")
    args = parser.parse_args(argv)
    print(f"bench.reports: P-1..P-4 over {args.cases:,} cases (two years); {args.reads} timed reads each; goal < 2 s")
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        try:
            with fresh_database(kind) as db:
                run(kind, db, args.cases, args.reads)
        except (SQLAlchemyError, OSError) as exc:
            print(f"{kind:<11}SKIPPED: {str(exc).splitlines()[0]}")
    return 0


def run(kind: str, db, total: int, reads: int) -> None:
    engine = ProcessEngine(db, FixedClock(datetime(2025, 7, 1, 9, tzinfo=BEIJING)), TopicRegistry())
    organisation = tomllib.loads((ROOT / "data" / "organisation.toml").read_text(encoding="utf-8"))
    engine.admin.load_organisation(organisation, hash_password=lambda password: "plain:" + password)
    [version] = engine.admin.deploy(_BPMN, "normal.bpmn")
    started = time.perf_counter()
    generator = Generator(db, version.version_id)
    counts = generator.write(total)
    if kind == "postgresql":
        generator.tidy()
    with db.transaction(write=False) as session:
        in_june = session.scalar(select(func.count()).select_from(Case).where(
            Case.started_at >= datetime(2025, 6, 1, tzinfo=BEIJING), Case.started_at < datetime(2025, 7, 1, tzinfo=BEIJING)))
    print(f"{kind}: generated {', '.join(f'{v:,} {k}' for k, v in counts.items())} in "
          f"{time.perf_counter() - started:.0f} s; June 2025 holds {in_june:,} cases")
    head = f"{'database':<11}{'report':<20}{'who':<14}{'p50 ms':>9}{'max ms':>9}  result"
    print(head)
    print("-" * len(head))
    for name, who, p50, worst, what in measure(engine, reads):
        print(f"{kind:<11}{name:<20}{who:<14}{p50:>9.1f}{worst:>9.1f}  {what}")


_BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="bench">
  <bpmn:process id="normal" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="accept"/>
    <bpmn:userTask id="accept" name="Accept"/>
    <bpmn:sequenceFlow id="f2" sourceRef="accept" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""

if __name__ == "__main__":
    sys.exit(main())
