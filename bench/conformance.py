"""``python -m bench.conformance``: cases replayed per second over 100,000 stored cases of the normal process.

A handful of real cases of processes/normal.bpmn (and the processes it calls) are run through the engine, one
per variant: closed on the happy path, the N-2 loop, the N-7 record returned, N-3 and N-5 escalations, one
waiting at the call-back. Their case rows and audit trails are then copied in bulk (``INSERT ... SELECT``)
until the store holds ``--cases`` cases; the copies carry no workflow state (conformance reads trails, never
workflows). The figure is one ``engine.compliance.summary`` over all of them on a fresh engine (no replay
cached: each variant is replayed once), end to end from the query to the summary, and again on the same
engine (variants known: the read and the grouping alone).
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.security import generate_password_hash

from engine.services import SYSTEM, FixedClock, ProcessEngine, Selection
from engine.settings import Settings
from engine.store.models import AuditEvent, Case
from engine.topics import default_registry

from .persisted import fresh_database

ROOT = Path(__file__).parents[1]
DEPLOY_ORDER = ("crisis", "demand", "escalation", "service_quality", "normal")
START = datetime.fromisoformat("2025-03-03T09:00:00+08:00")


def shipped(db) -> ProcessEngine:
    engine = ProcessEngine(db, FixedClock(START), default_registry(Settings()))
    organisation = tomllib.loads((ROOT / "data" / "organisation.toml").read_text(encoding="utf-8"))
    engine.admin.load_organisation(organisation, hash_password=lambda p: generate_password_hash(p, "pbkdf2:sha256:1"))
    for name in DEPLOY_ORDER:
        engine.admin.deploy((ROOT / "processes" / f"{name}.bpmn").read_bytes(), f"{name}.bpmn")
    return engine


def variants(engine: ProcessEngine) -> list[int]:
    """Run one case per variant through the engine (the walks of tests/processes); return their ids."""
    from tests.processes.casewalk import Walk        # the process walks' own driver: people work their inboxes

    market = "complaint.billing.disputed_fees"

    def new() -> Walk:
        return Walk.start(engine, "zhang.intake", market)

    happy = new().to_outcome("li.handler", "wang.head").decide().close()
    loop = new().accept("li.handler").investigate("li.handler", sufficient=False).inform_delay("li.handler")
    loop.investigate("li.handler").reply("li.handler").do("act", "li.handler", action_taken="已处理")
    loop.record("li.handler").do("approve_record", "wang.head", head_approved=True, head_opinion="同意")
    loop.callback().decide().close()
    returned = new().accept("li.handler").investigate("li.handler").reply("li.handler")
    returned.do("act", "li.handler", action_taken="已处理").record("li.handler")
    returned.do("approve_record", "wang.head", head_approved=False, head_opinion="补充").record("li.handler")
    returned.do("approve_record", "wang.head", head_approved=True, head_opinion="同意").callback().decide().close()
    no_solution = new().accept("li.handler").investigate("li.handler", solution_found=False).escalate("local",
                                                                                                      "li.handler")
    refused = new().accept("li.handler").investigate("li.handler").reply("li.handler", accepted=False)
    refused.do("coordinate", "li.handler", coordination_note="再协调", accepted=False).escalate("local", "li.handler")
    waiting = new().to_callback("li.handler", "wang.head")
    return [w.case_id for w in (happy, loop, returned, no_solution, refused, waiting)]


def copy_cases(db, templates: list[int], total: int) -> None:
    """Copy the template cases (rows and trails, no workflow state) until the store holds ``total`` cases."""
    per = (total - len(templates)) // len(templates)
    with db.transaction() as session:
        base = session.scalar(select(func.max(Case.id)))
        for n, template in enumerate(templates):
            first = base + n * per
            session.execute(text(
                "INSERT INTO case_instance (id, process_key, version_id, pinned, status, category, revision, state,"
                " data, incident, started_by, started_at, updated_at, ended_at)"
                " SELECT :first + g, process_key, version_id, pinned, status, category, revision, '', data, incident,"
                " started_by, started_at + (g % 60) * interval '1 day', updated_at, ended_at"
                " FROM case_instance, generate_series(1, :per) AS g WHERE id = :template"),
                {"first": first, "per": per, "template": template})
            session.execute(text(
                "INSERT INTO audit_event (case_id, version_id, task_id, element_id, element_name, element_type,"
                " flow_id, lifecycle, actor, at, data)"
                " SELECT :first + g, version_id, task_id, element_id, element_name, element_type, flow_id,"
                " lifecycle, actor, at + (g % 60) * interval '1 day', NULL"
                " FROM audit_event, generate_series(1, :per) AS g WHERE case_id = :template ORDER BY g, id"),
                {"first": first, "per": per, "template": template})
        session.execute(text("SELECT setval(pg_get_serial_sequence('case_instance', 'id'), "
                             "(SELECT max(id) FROM case_instance))"))
    with db.write_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE case_instance"))
        conn.execute(text("ANALYZE audit_event"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conformance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="stored cases (default 100,000)")
    args = parser.parse_args(argv)
    print(f"bench.conformance: {args.cases:,} stored cases of normal.bpmn replayed (engine.compliance.summary)")
    try:
        with fresh_database("postgresql") as db:
            engine = shipped(db)
            templates = variants(engine)
            started = time.perf_counter()
            copy_cases(db, templates, args.cases)
            with engine.store_session() as session:
                stored = session.scalar(select(func.count()).select_from(Case))
                events = session.scalar(select(func.count()).select_from(AuditEvent))
            print(f"postgresql: {stored:,} cases, {events:,} audit events (copied in "
                  f"{time.perf_counter() - started:.0f} s)")
            cold = fresh_engine(db)
            for label, judge in (("cold (each variant replayed once)", cold), ("warm (variants known)", cold)):
                started = time.perf_counter()
                summary = judge.compliance.summary(SYSTEM, Selection(process_key="normal"))
                seconds = time.perf_counter() - started
                print(f"postgresql  {label:<36}{summary.cases:>9,} cases {seconds:>7.1f} s "
                      f"{summary.cases / seconds:>9,.0f} cases/s  variants {summary.variants}  "
                      f"fitting {summary.fitting:,}")
    except (SQLAlchemyError, OSError) as exc:
        print(f"postgresql SKIPPED: {str(exc).splitlines()[0]}")
    return 0


def fresh_engine(db) -> ProcessEngine:
    """Return a new engine on the same database: nothing parsed, nothing replayed yet."""
    return ProcessEngine(db, FixedClock(START), default_registry(Settings()))


if __name__ == "__main__":
    sys.exit(main())
