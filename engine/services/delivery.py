"""Scheduled reports: on each schedule's due day (working-day aware) the report is produced and put in the mail
outbox for the organisation roles ``data/reports.toml`` names, once; P-4 starts the rectification cycles.

"Once" lives in the database: a ``report_delivery`` row per report, period and
schedule (or department, for P-4) is inserted in the same transaction as the
mail or the case it produces; a second scheduler's insert finds it and does
nothing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..rules.calendar import BusinessCalendar
from ..rules.periods import Period, due_date, period_of, previous
from ..store.models import Account, Membership, OrgUnit, ReportDelivery
from . import cases, mail, report_export, report_queries
from .core import SYSTEM, Core
from .errors import NotFound
from .ledger import insert_once
from .report_config import ReportConfig, Schedule

__all__ = ["deliver_reports", "due_periods", "recipients", "start_rectifications"]

log = logging.getLogger(__name__)


def due_periods(every: str, rule: str, at: str, cal: BusinessCalendar, now: datetime,
                catch_up_days: int) -> Iterator[tuple[Period, datetime]]:
    """Yield the periods (the current and the one before) whose report fell due in the last ``catch_up_days``."""
    current = period_of(every, now.astimezone(cal.tz).date())
    for period in (previous(current), current):
        due = datetime.combine(due_date(rule, period, cal), time.fromisoformat(at), cal.tz)
        if due <= now < due + timedelta(days=catch_up_days):
            yield period, due


def _people(session: Session, spec: str) -> list[str]:
    kind, _, name = spec.partition(":")
    if kind == "group":
        query = (select(Account.username).join(Membership, Membership.username == Account.username)
                 .where(Membership.group_key == name, Account.active.is_(True)))
    elif kind == "head":
        query = select(OrgUnit.head).where(OrgUnit.key == name, OrgUnit.head.is_not(None))
    elif kind == "heads":
        query = select(OrgUnit.head).where(OrgUnit.kind == name, OrgUnit.head.is_not(None))
    else:
        raise ValueError(f"unknown recipient {spec!r} (group:, head:, heads:)")
    return list(session.scalars(query))


def recipients(core: Core, session: Session, specs: tuple[str, ...]) -> tuple[list[str], dict[str, list[str]]]:
    """Return who gets the whole report and, per department, whose head gets only theirs (SPEC §9 permissions)."""
    policy = core.policy
    whole: list[str] = []
    own: dict[str, list[str]] = {}
    for username in sorted({u for spec in specs for u in _people(session, spec)}):
        groups = frozenset(session.scalars(select(Membership.group_key).where(Membership.username == username)))
        if policy.allows(groups, "see_all_reports"):
            whole.append(username)
            continue
        unit = session.scalars(select(OrgUnit.key).where(OrgUnit.head == username,
                                                         OrgUnit.kind.in_(("department", "grid")))
                               .order_by(OrgUnit.key)).first()
        if unit and policy.allows(groups, "see_reports"):
            own.setdefault(unit, []).append(username)
    return whole, own


def _mail_report(core: Core, session: Session, reports, schedule: Schedule, period: Period,
                 department: str | None, people: list[str], now: datetime) -> int:
    cfg: ReportConfig = reports.config
    report = reports.build(session, schedule.report, period, department)
    figures = "\n".join(f"{t.key}: {len(t.rows)} rows" for t in report.tables)
    scope = f" ({department})" if department else ""
    name = report_export.file_name(report.key, report.period, department, "xlsx")
    return mail.enqueue(session, now, [f"{u}@{cfg.mail.domain}" for u in people],
                        f"{schedule.report} {period.name}{scope}",
                        f"{schedule.report} {period.name}{scope}: {report.start.date()} - "
                        f"{(report.end - timedelta(days=1)).date()}\n{figures}\n(XLSX attached)\n",
                        attachment=report_export.render(report, "xlsx"), attachment_name=name)


def deliver_reports(core: Core, reports, now: datetime) -> list[dict[str, Any]]:
    """Produce and queue every report due now that no scheduler queued yet; return what was queued."""
    cfg: ReportConfig = reports.config
    done: list[dict[str, Any]] = []
    for schedule in cfg.schedules:
        with core.db.transaction(write=False) as session:
            cal = core.calendar(session)
        for period, due in due_periods(schedule.every, schedule.due, schedule.at, cal, now, cfg.catch_up_days):
            with core.db.transaction() as session:
                claim = insert_once(session, ReportDelivery, {
                    "report": schedule.report, "period": period.name, "variant": schedule.due, "due_at": due,
                    "delivered_at": now, "result": {}})
                if claim is None:
                    continue            # another scheduler (or an earlier run) queued it
                whole, own = recipients(core, session, schedule.recipients)
                mails = [_mail_report(core, session, reports, schedule, period, None, whole, now)] if whole else []
                mails += [_mail_report(core, session, reports, schedule, period, d, people, now)
                          for d, people in sorted(own.items())]
                session.get(ReportDelivery, claim).result = {"mails": mails, "to": whole, "departments": sorted(own)}
                done.append({"report": schedule.report, "period": period.name, "variant": schedule.due,
                             "mails": mails})
    return done


def _months_later(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def start_rectifications(core: Core, reports, now: datetime) -> list[int]:
    """P-4 (000 三): start a rectification case for each department over the threshold last month, once each."""
    cfg: ReportConfig = reports.config
    rule, started = cfg.rectification, []
    with core.db.transaction(write=False) as session:
        cal = core.calendar(session)
    for period, _ in due_periods("month", rule.due, rule.at, cal, now, cfg.catch_up_days):
        with core.db.transaction(write=False) as session:
            found = report_queries.p4_rows(session, cfg, period.name, None)
        for department, name, count, points, case_id in found:
            if case_id is not None:
                continue
            try:
                with core.db.transaction() as session:
                    if insert_once(session, ReportDelivery, {
                            "report": "P-4", "period": period.name, "variant": f"department:{department}",
                            "due_at": now, "delivered_at": now, "result": {}}) is None:
                        continue
                    head = session.scalar(select(OrgUnit.head).where(OrgUnit.key == department))
                    deadline = datetime.combine(_months_later(now.astimezone(cal.tz).date(), rule.months),
                                                time(18), cal.tz)
                    ref = cases.start_case(core, session, rule.process, {
                        "department": department, "department_name": name, "month": period.name,
                        "deducted_cases": count, "deducted_points": str(points), "department_head": head or "",
                        "rectification_due": deadline.isoformat()}, SYSTEM, now)
                    started.append(ref.id)
            except NotFound:
                log.warning("P-4: process %r is not deployed; no rectification started", rule.process)
                return started
    return started
