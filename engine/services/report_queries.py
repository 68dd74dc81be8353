"""The report queries (P-1..P-4): SQLAlchemy Core over cases, audit events, overdue records and the ledger.

Never a workflow is deserialized: every figure is a count or a sum of rows.
Each function takes the session, the report settings (``ReportConfig``), the
period's bounds and, for a department head, their department; it returns
``ReportTable`` views whose rows carry the filter that lists the cases behind
them (``population``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import and_, case, exists, func, literal, not_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from ..store.models import AuditEvent, Case, DeductionEntry, ExactDecimal, OrgUnit, OverdueRecord, TypicalCase
from .report_config import ReportConfig
from .views import ReportTable

__all__ = ["DRILL_KEYS", "department_expr", "p1_tables", "p2_tables", "p3_tables", "p4_rows", "population"]

# What a drill-down may filter by (``population``).
DRILL_KEYS = ("kind", "channel", "category", "department", "grid", "transferred", "overdue", "upheld", "escalated",
              "month_start")


def _field(name: str):
    return Case.data[name].as_string()


def department_expr():
    """The department a case is counted under: the routed department, or the grid's group for grid orders (I-4)."""
    routed = _field("responsible_department")
    return func.coalesce(case((routed == "grid", _field("responsible_group")), else_=routed), "-")


def _ready_on(elements: Iterable[str]):
    return exists(select(AuditEvent.id).where(AuditEvent.case_id == Case.id, AuditEvent.lifecycle == "ready",
                                              AuditEvent.element_id.in_(tuple(elements))))


def _conditions(cfg: ReportConfig) -> dict[str, Any]:
    return {"transferred": _ready_on(cfg.transfer_elements), "escalated": _ready_on([cfg.escalation_element]),
            "overdue": exists(select(OverdueRecord.id).where(OverdueRecord.case_id == Case.id,
                                                             OverdueRecord.rule_id.in_(cfg.overdue_rules))),
            "upheld": _field("outcome").in_(cfg.upheld_outcomes),
            "complaint": _field("kind") == "complaint"}


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def population(cfg: ReportConfig, start: datetime, end: datetime, department: str | None,
               drill: dict[str, Any] | None = None) -> list:
    """Return the WHERE conditions of the intake cases registered in [start, end) (of a department; drilled)."""
    where = [Case.process_key.in_(cfg.intake_processes), Case.started_at >= start, Case.started_at < end]
    if department:
        where.append(department_expr() == department)
    flags = _conditions(cfg)
    for key, value in (drill or {}).items():
        if key in ("transferred", "overdue", "upheld", "escalated"):
            where.append(flags[key] if value else not_(flags[key]))
        elif key == "kind" and value == "demand_or_suggestion":
            where.append(_field("kind").in_(("demand", "suggestion")))
        elif key in ("kind", "channel"):
            where.append(_field(key) == value)
        elif key == "category":
            where.append(Case.category == value)
        elif key == "department":
            where.append(department_expr() == value)
        elif key == "grid":
            where.append(and_(_field("responsible_department") == "grid", _field("responsible_group") == value))
        elif key == "month_start":
            month_start = datetime.fromisoformat(value)
            where.append(Case.started_at >= month_start)
            nxt = month_start.replace(year=month_start.year + month_start.month // 12,
                                      month=month_start.month % 12 + 1)
            where.append(Case.started_at < nxt)
    return where


def _table(key: str, columns: tuple[str, ...], rows: list[tuple], drills: list[dict[str, Any] | None]) -> ReportTable:
    return ReportTable(key, columns, tuple(tuple(r) for r in rows), tuple(drills))


def _rate(part: int, whole: int) -> Decimal:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else Decimal(0)


def unit_names(session: Session) -> dict[str, str]:
    """Return the name of every unit, under its key and under the BPMN group it works as."""
    names: dict[str, str] = {}
    for key, name, group in session.execute(select(OrgUnit.key, OrgUnit.name, OrgUnit.group_key)):
        names[key] = name
        if group:
            names.setdefault(group, name)
    return names


def p1_tables(session: Session, cfg: ReportConfig, start: datetime, end: datetime, department: str | None,
              period: str, categories: dict[str, str]) -> list[ReportTable]:
    """P-1 (000 一.1.5, 1.6): the week's volume by kind, channel and category, the transfer rate, typical cases."""
    where, flags = population(cfg, start, end, department), _conditions(cfg)
    complaint = flags["complaint"]
    total, complaints, transferred = session.execute(
        select(func.count(), _count_if(complaint), _count_if(and_(complaint, flags["transferred"]))).where(*where)).one()
    summary = _table("summary", ("contacts", "complaints", "transferred", "transfer_rate"),
                     [(total, complaints, transferred, _rate(transferred, complaints))],
                     [{"kind": "complaint", "transferred": True}])
    kind = func.coalesce(_field("kind"), "-")
    by_kind = session.execute(select(kind, func.count()).where(*where).group_by(kind).order_by(kind)).all()
    channel = func.coalesce(_field("channel"), "-")
    by_channel = session.execute(
        select(channel, func.count(), _count_if(flags["transferred"])).where(*where, complaint)
        .group_by(channel).order_by(func.count().desc(), channel)).all()
    by_category = session.execute(
        select(Case.category, func.count()).where(*where, complaint)
        .group_by(Case.category).order_by(func.count().desc(), Case.category)).all()
    picked = session.execute(
        select(TypicalCase.case_id, Case.category, department_expr(), TypicalCase.note, TypicalCase.picked_by)
        .join(Case, Case.id == TypicalCase.case_id).where(TypicalCase.period == period, *(
            [department_expr() == department] if department else []))
        .order_by(TypicalCase.case_id)).all()
    return [
        summary,
        _table("by_kind", ("kind", "contacts"), by_kind, [{"kind": k} for k, _ in by_kind]),
        _table("by_channel", ("channel", "complaints", "transferred", "transfer_rate"),
               [(c, n, t, _rate(t, n)) for c, n, t in by_channel],
               [{"kind": "complaint", "channel": c} for c, _, _ in by_channel]),
        _table("by_category", ("category", "name", "complaints"),
               [(c, categories.get(c, c or "-"), n) for c, n in by_category],
               [{"kind": "complaint", "category": c} for c, _ in by_category]),
        _table("typical_cases", ("case_id", "category", "department", "note", "picked_by"), picked,
               [None for _ in picked]),
    ]


def _department_figures(session: Session, cfg: ReportConfig, where: list, names: dict[str, str]) -> ReportTable:
    flags, dept = _conditions(cfg), department_expr()
    rows = session.execute(
        select(dept, func.count(), _count_if(Case.status == "completed"), _count_if(flags["upheld"]),
               _count_if(flags["overdue"]), _count_if(flags["escalated"]))
        .where(*where, flags["complaint"]).group_by(dept).order_by(dept)).all()
    return _table("by_department", ("department", "name", "complaints", "completed", "upheld", "overdue", "escalated"),
                  [(d, names.get(d, d), *figures) for d, *figures in rows],
                  [{"kind": "complaint", "department": d} for d, *_ in rows])


def _ledger(session: Session, month: str, level: str, department: str | None) -> ReportTable:
    e = DeductionEntry
    booked = type_coerce(func.coalesce(func.sum(case((e.kind == "booking", e.amount), else_=literal(0))), 0),
                         ExactDecimal())
    reversed_ = type_coerce(func.coalesce(func.sum(case((e.kind == "reversal", e.amount), else_=literal(0))), 0),
                            ExactDecimal())
    net = type_coerce(func.sum(e.amount), ExactDecimal())
    if level == "department":
        key, name = e.department, func.coalesce(func.max(OrgUnit.name), e.department)
        query = select(key, name, e.unit, booked, reversed_, net, func.count()).outerjoin(
            OrgUnit, OrgUnit.key == e.department).where(e.subject_kind != "kpi")
    else:
        key, name = e.subject, func.max(e.subject_name)
        query = select(key, name, e.unit, booked, reversed_, net, func.count()).where(e.subject_kind == level)
    if department:
        query = query.where(e.department == department, e.subject_kind != "kpi")
    rows = session.execute(query.where(e.month == month).group_by(key, e.unit).order_by(key, e.unit)).all()
    return _table(f"deductions_{level}", ("key", "name", "unit", "booked", "reversed", "net", "entries"),
                  [tuple(r) for r in rows], [None for _ in rows])


def p2_tables(session: Session, cfg: ReportConfig, start: datetime, end: datetime, department: str | None,
              month: str, categories: dict[str, str]) -> list[ReportTable]:
    """P-2 (002 3.1.3, 000 三): the month per department, category and grid; deductions from the ledger."""
    where, flags, names = population(cfg, start, end, department), _conditions(cfg), unit_names(session)
    by_category = session.execute(
        select(Case.category, func.count(), _count_if(flags["upheld"]), _count_if(flags["overdue"]))
        .where(*where, flags["complaint"]).group_by(Case.category).order_by(func.count().desc(), Case.category)).all()
    grid = _field("responsible_group")
    by_grid = session.execute(
        select(grid, func.count(), _count_if(flags["upheld"])).where(
            *where, flags["complaint"], _field("responsible_department") == "grid")
        .group_by(grid).order_by(grid)).all()
    return [
        _department_figures(session, cfg, where, names),
        _table("by_category", ("category", "name", "complaints", "upheld", "overdue"),
               [(c, categories.get(c, c or "-"), *f) for c, *f in by_category],
               [{"kind": "complaint", "category": c} for c, *_ in by_category]),
        _table("by_grid", ("grid", "name", "complaints", "upheld"), [(g, names.get(g, g), *f) for g, *f in by_grid],
               [{"kind": "complaint", "grid": g} for g, *_ in by_grid]),
        _ledger(session, month, "person", department),
        _ledger(session, month, "department", department),
        *([] if department else [_ledger(session, month, "kpi", None)]),
    ]


def p3_tables(session: Session, cfg: ReportConfig, start: datetime, end: datetime, department: str | None,
              months: list[datetime], categories: dict[str, str]) -> list[ReportTable]:
    """P-3 (004 第十二条): the 客户期望分析报告 per department and the 季度客户意见汇总表 per category and month."""
    where, flags, names, dept = population(cfg, start, end, department), _conditions(cfg), unit_names(session), department_expr()
    kind = _field("kind")
    expectation = session.execute(
        select(dept, _count_if(flags["complaint"]), _count_if(kind.in_(("demand", "suggestion"))),
               _count_if(kind == "consultation"), _count_if(and_(flags["complaint"], flags["upheld"])),
               _count_if(and_(flags["complaint"], flags["overdue"])))
        .where(*where).group_by(dept).order_by(dept)).all()
    top: dict[str, str] = {}
    for d, category, _ in session.execute(
            select(dept, Case.category, func.count()).where(*where, Case.category.is_not(None))
            .group_by(dept, Case.category).order_by(dept, func.count().desc(), Case.category)):
        top.setdefault(d, category)
    bounds = [*months[1:], end]
    per_month = [_count_if(and_(Case.started_at >= lo, Case.started_at < hi)) for lo, hi in zip(months, bounds)]
    kind_or_dash = func.coalesce(kind, "-")
    summary = session.execute(
        select(Case.category, kind_or_dash, *per_month, func.count()).where(*where)
        .group_by(Case.category, kind_or_dash).order_by(Case.category, kind_or_dash)).all()
    return [
        _table("expectation", ("department", "name", "complaints", "demands", "consultations", "upheld", "overdue",
                               "top_category"),
               [(d, names.get(d, d), *f, categories.get(top.get(d), top.get(d) or "-")) for d, *f in expectation],
               [{"department": d} for d, *_ in expectation]),
        _table("summary", ("category", "name", "kind", "month_1", "month_2", "month_3", "total"),
               [(c, categories.get(c, c or "-"), k, *f) for c, k, *f in summary],
               [{"category": c, "kind": k} for c, k, *_ in summary]),
    ]


def p4_rows(session: Session, cfg: ReportConfig, month: str, department: str | None) -> list[tuple]:
    """P-4 (000 三): departments whose people and units carry unreversed deductions on >= min_cases cases."""
    rule = cfg.rectification
    e, r = DeductionEntry, aliased(DeductionEntry)
    cases = func.count(func.distinct(e.case_id))
    points = type_coerce(func.sum(case((e.unit == "points", e.amount), else_=literal(0))), ExactDecimal())
    query = (select(e.department, cases, points)
             .where(e.month == month, e.kind == "booking", e.subject_kind != "kpi", e.rule_id.in_(rule.rules),
                    not_(exists(select(r.id).where(r.reverses == e.id))))
             .group_by(e.department).having(cases >= rule.min_cases).order_by(e.department))
    if department:
        query = query.where(e.department == department)
    found = session.execute(query).all()
    started = dict(session.execute(
        select(_field("department"), Case.id).where(Case.process_key == rule.process, _field("month") == month)).all())
    names = unit_names(session)
    return [(d, names.get(d, d), n, p, started.get(d)) for d, n, p in found]

