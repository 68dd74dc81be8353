"""Reports (P-1..P-4) for the complaint group, department heads and leadership: figures, drill-down, exports,
the typical cases of a week. One read transaction per call; the queries are in ``report_queries``."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..rules.intake import load_categories
from ..rules.periods import Period, due_date, parse_period, period_of, previous
from ..settings import RuleFile
from ..store.models import Case, OrgUnit, TypicalCase
from . import crisis_monitor, delivery, mail, report_export, report_queries as q
from .convert import case_summary
from .core import Actor, Core
from .errors import InvalidRequest, NotFound, PermissionDenied
from .ledger import insert_once
from .report_config import REPORTS, ReportConfig, load_report_config
from .views import CaseSummary, MailView, Report, ReportTable

__all__ = ["DRILL_LIMIT", "ReportService"]

DRILL_LIMIT = 500


class ReportService:
    """The periodic reports of SPEC §9 as figures with their cases behind them, CSV and XLSX."""

    def __init__(self, core: Core):
        self._core = core
        self._config = RuleFile(core.settings.path("reports.toml"), load_report_config)
        self._categories = RuleFile(core.settings.path("categories.toml"), load_categories)

    @property
    def config(self) -> ReportConfig:
        """Return the reports' settings in force (``data/reports.toml``, read again when it changes)."""
        return self._config.get()

    def period(self, key: str, name: str) -> Period:
        """Return the period ``name`` of report ``key`` (InvalidRequest when it is not one)."""
        if key not in REPORTS:
            raise NotFound(f"there is no report {key!r}", code="report_not_found", report=key)
        try:
            return parse_period(name, REPORTS[key])
        except ValueError as exc:
            raise InvalidRequest(str(exc), code="invalid_period", report=key, period=name) from None

    def default_period(self, key: str) -> str:
        """Return the period a report page opens on: the last whole week or month, the current quarter."""
        if key not in REPORTS:
            raise NotFound(f"there is no report {key!r}", code="report_not_found", report=key)
        today = self._core.clock().astimezone(self._core.base_calendar.tz).date()
        current = period_of(REPORTS[key], today)
        return (current if REPORTS[key] == "quarter" else previous(current)).name

    def scope(self, session: Session, actor: Actor, department: str | None) -> str | None:
        """Return the department a report is limited to: any (or the one asked) for those who see all, else
        the department the actor heads; PermissionDenied otherwise."""
        policy = self._core.policy
        policy.require(actor, "see_reports", "see reports")
        if policy.allows(actor.groups, "see_all_reports"):
            return department or None
        own = session.scalars(select(OrgUnit.key).where(OrgUnit.head == actor.username,
                                                        OrgUnit.kind.in_(("department", "grid")))
                              .order_by(OrgUnit.key)).first()
        if own is None:
            raise PermissionDenied(f"{actor.username} heads no department", code="no_department")
        if department and department != own:
            raise PermissionDenied(f"{actor.username} sees the reports of {own} only", code="other_department",
                                   department=department)
        return own

    def _tables(self, session: Session, key: str, period: Period, department: str | None) -> list[ReportTable]:
        cfg, cal = self.config, self._core.calendar(session)
        start, end = period.bounds(cal)
        names = {code: c.name for code, c in self._categories.get().items()}
        if key == "P-1":
            return q.p1_tables(session, cfg, start, end, department, period.name, names)
        if key == "P-2":
            return q.p2_tables(session, cfg, start, end, department, period.name, names)
        if key == "P-3":
            months = [datetime.combine(m, time(0), cal.tz) for m in period.months()]
            return q.p3_tables(session, cfg, start, end, department, months, names)
        rows = q.p4_rows(session, cfg, period.name, department)
        return [ReportTable("rectification", ("department", "name", "cases", "points", "rectification_case"),
                            tuple(rows), tuple(None for _ in rows))]

    def _due(self, session: Session, key: str, period: Period) -> tuple:
        cal, cfg = self._core.calendar(session), self.config
        if key == "P-4":
            return (due_date(cfg.rectification.due, period, cal),)
        return tuple(sorted({due_date(s.due, period, cal) for s in cfg.schedules if s.report == key}))

    def report(self, key: str, period: str, actor: Actor, department: str | None = None) -> Report:
        """Return report ``key`` (P-1..P-4) of ``period`` for all departments or the actor's own."""
        found = self.period(key, period)
        with self._core.db.transaction(write=False) as session:
            scope = self.scope(session, actor, department)
            return self.build(session, key, found, scope)

    def build(self, session: Session, key: str, period: Period, department: str | None) -> Report:
        """Return a report computed in ``session`` (the scheduler's delivery uses it inside its claim)."""
        start, end = period.bounds(self._core.calendar(session))
        return Report(key, period.name, start, end, department, self._core.clock(),
                      tuple(self._tables(session, key, period, department)), self._due(session, key, period))

    def cases(self, key: str, period: str, actor: Actor, drill: dict[str, Any],
              department: str | None = None) -> list[CaseSummary]:
        """Return the cases behind a figure: the report's population filtered by ``drill`` (at most 500)."""
        found = self.period(key, period)
        unknown = sorted(set(drill) - set(q.DRILL_KEYS))
        if unknown:
            raise InvalidRequest(f"cannot drill down by {', '.join(unknown)}", code="invalid_drill",
                                 keys=", ".join(unknown))
        if key == "P-4":
            raise InvalidRequest("P-4 lists departments; open P-2 of the month for their cases", code="invalid_drill",
                                 keys="P-4")
        with self._core.db.transaction(write=False) as session:
            scope = self.scope(session, actor, department)
            start, end = found.bounds(self._core.calendar(session))
            where = q.population(self.config, start, end, scope, drill)
            rows = session.scalars(select(Case).where(*where).order_by(Case.id).limit(DRILL_LIMIT))
            return [case_summary(c) for c in rows]

    def export(self, key: str, period: str, actor: Actor, fmt: str, department: str | None = None) -> bytes:
        """Return report ``key`` of ``period`` as CSV (UTF-8 with BOM, for spreadsheets) or XLSX."""
        if fmt not in report_export.FORMATS:
            raise InvalidRequest(f"export as csv or xlsx, not {fmt!r}", code="invalid_format", format=fmt)
        return report_export.render(self.report(key, period, actor, department), fmt)

    def pick_typical(self, period: str, case_id: int, note: str, actor: Actor) -> bool:
        """Mark a case as typical for a week (P-1, 000 一.1.6); False when it was picked already."""
        self._core.policy.require(actor, "pick_typical_cases", "pick typical cases")
        week = self.period("P-1", period)
        with self._core.db.transaction() as session:
            if session.get(Case, case_id) is None:
                raise NotFound(f"case {case_id} does not exist", code="case_not_found", case_id=case_id)
            return insert_once(session, TypicalCase, {"period": week.name, "case_id": case_id,
                                                      "note": (note or "").strip(), "picked_by": actor.username,
                                                      "picked_at": self._core.clock()}) is not None

    def unpick_typical(self, period: str, case_id: int, actor: Actor) -> bool:
        """Withdraw a typical case of a week; False when it was not picked."""
        self._core.policy.require(actor, "pick_typical_cases", "pick typical cases")
        week = self.period("P-1", period)
        with self._core.db.transaction() as session:
            gone = session.execute(delete(TypicalCase).where(TypicalCase.period == week.name,
                                                             TypicalCase.case_id == case_id))
            return gone.rowcount > 0

    def crisis_monitor(self, actor: Actor) -> list[crisis_monitor.CrisisView]:
        """Return the open crises with their hourly counts (C-6) and deadlines (C-3, C-4, C-7), for the crisis group."""
        self._core.policy.require(actor, "see_crisis_monitor", "see the crisis monitor")
        cfg = self.config
        with self._core.db.transaction(write=False) as session:
            return crisis_monitor.monitor(session, self._core.base_calendar.tz, self._core.clock(),
                                          cfg.crisis_process, cfg.crisis_deadlines, cfg.intake_processes)

    # --- the scheduler's work: delivery, rectification cycles, the mail outbox ---

    def deliver(self) -> list[dict[str, Any]]:
        """Produce every report due now (data/reports.toml schedules) and queue its mail, once per period."""
        return delivery.deliver_reports(self._core, self, self._core.clock())

    def start_rectifications(self) -> list[int]:
        """P-4: start the rectification cycle of each department over the threshold last month, once; case ids."""
        return delivery.start_rectifications(self._core, self, self._core.clock())

    def queue_notifications(self) -> int:
        """Put the ``notify`` topic's new notifications in the mail outbox; return how many."""
        now, cfg = self._core.clock(), self.config
        return mail.enqueue_notifications(self._core, cfg.mail, now, now - timedelta(days=cfg.catch_up_days))

    def send_mail(self, smtp: mail.SmtpSettings) -> dict[str, int]:
        """Send the outbox's messages due now through ``smtp``; count sent, retried and dead."""
        return mail.send_due(self._core, self.config.mail, smtp, self._core.clock())

    def outbox(self, actor: Actor, state: str | None = None) -> list[MailView]:
        """Return the newest messages of the outbox (of one state: pending, sent, dead) for administrators."""
        return mail.outbox(self._core, actor, state)

    def resend(self, mail_id: int, actor: Actor) -> MailView:
        """Queue a dead message again."""
        return mail.resend(self._core, actor, mail_id)
