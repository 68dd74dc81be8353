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
from .errors import InvalidRequest
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
            try:        # an instant with its offset, as the report's drill-down gives it
                month_start = datetime.fromisoformat(value)
                nxt = month_start.replace(year=month_start.year + month_start.month // 12,
                                          month=month_start.month % 12 + 1)
                if month_start.tzinfo is None:
                    raise ValueError("no offset")
            except (TypeError, ValueError):
                raise InvalidRequest(f"month_start is not an instant with its offset: {value!r}",
                                     code="invalid_drill", month_start=value) from None
            where.append(Case.started_at >= month_start)
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


def _grain(session: Session, where: list, dims: dict[str, Any], measures: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the population counted once at the finest grain a report needs: one row per combination of ``dims``
    with the sums of ``measures``; the report's tables are roll-ups of these rows (one scan, not one per table)."""
    columns = [expr.label(name) for name, expr in dims.items()] + [
        (_count_if(expr) if expr is not None else func.count()).label(name) for name, expr in measures.items()]
    rows = session.execute(select(*columns).where(*where).group_by(*dims.values())).all()
    return [dict(r._mapping) for r in rows]


def _roll(rows: list[dict[str, Any]], key, measures: tuple[str, ...], keep=lambda r: True) -> dict[Any, list[int]]:
    """Sum ``measures`` of the grain rows that ``keep`` keeps, per ``key(row)``."""
    out: dict[Any, list[int]] = {}
    for row in rows:
        if keep(row):
            sums = out.setdefault(key(row), [0] * len(measures))
            for i, m in enumerate(measures):
                sums[i] += int(row[m] or 0)
    return out


def _by_count(rolled: dict[Any, list[int]]) -> list[tuple[Any, list[int]]]:
    """Return roll-up items by their first figure, largest first, then by key."""
    return sorted(rolled.items(), key=lambda item: (-item[1][0], item[0] or ""))


def _by_key(rolled: dict[Any, list[int]]) -> list[tuple[Any, list[int]]]:
    return sorted(rolled.items(), key=lambda item: item[0] or "")


def p1_tables(session: Session, cfg: ReportConfig, start: datetime, end: datetime, department: str | None,
              period: str, categories: dict[str, str]) -> list[ReportTable]:
    """P-1 (000 一.1.5, 1.6): the week's volume by kind, channel and category, the transfer rate, typical cases."""
    where, flags = population(cfg, start, end, department), _conditions(cfg)
    grain = _grain(session, where, {"kind": func.coalesce(_field("kind"), "-"),
                                    "channel": func.coalesce(_field("channel"), "-"), "category": Case.category},
                   {"n": None, "transferred": flags["transferred"]})
    complaint = lambda r: r["kind"] == "complaint"  # noqa: E731
    total = sum(r["n"] for r in grain)
    complaints, transferred = _roll(grain, lambda r: 0, ("n", "transferred"), complaint).get(0, [0, 0])
    summary = _table("summary", ("contacts", "complaints", "transferred", "transfer_rate"),
                     [(total, complaints, transferred, _rate(transferred, complaints))],
                     [{"kind": "complaint", "transferred": True}])
    by_kind = _by_key(_roll(grain, lambda r: r["kind"], ("n",)))
    by_channel = _by_count(_roll(grain, lambda r: r["channel"], ("n", "transferred"), complaint))
    by_category = _by_count(_roll(grain, lambda r: r["category"], ("n",), complaint))
    picked = session.execute(
        select(TypicalCase.case_id, Case.category, department_expr(), TypicalCase.note, TypicalCase.picked_by)
        .join(Case, Case.id == TypicalCase.case_id).where(TypicalCase.period == period, *(
            [department_expr() == department] if department else []))
        .order_by(TypicalCase.case_id)).all()
    return [
        summary,
        _table("by_kind", ("kind", "contacts"), [(k, n) for k, (n,) in by_kind], [{"kind": k} for k, _ in by_kind]),
        _table("by_channel", ("channel", "complaints", "transferred", "transfer_rate"),
               [(c, n, t, _rate(t, n)) for c, (n, t) in by_channel],
               [{"kind": "complaint", "channel": c} for c, _ in by_channel]),
        _table("by_category", ("category", "name", "complaints"),
               [(c, categories.get(c, c or "-"), n) for c, (n,) in by_category],
               [{"kind": "complaint", "category": c} for c, _ in by_category]),
        _table("typical_cases", ("case_id", "category", "department", "note", "picked_by"), picked,
               [None for _ in picked]),
    ]


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
    measures = ("n", "completed", "upheld", "overdue", "escalated")
    grain = _grain(session, [*where, flags["complaint"]],
                   {"department": department_expr(), "category": Case.category,
                    "grid": _field("responsible_department") == "grid"},
                   {"n": None, "completed": Case.status == "completed", "upheld": flags["upheld"],
                    "overdue": flags["overdue"], "escalated": flags["escalated"]})
    by_department = _by_key(_roll(grain, lambda r: r["department"], measures))
    by_category = _by_count(_roll(grain, lambda r: r["category"], ("n", "upheld", "overdue")))
    by_grid = _by_key(_roll(grain, lambda r: r["department"], ("n", "upheld"), lambda r: bool(r["grid"])))
    return [
        _table("by_department", ("department", "name", "complaints", "completed", "upheld", "overdue", "escalated"),
               [(d, names.get(d, d), *f) for d, f in by_department],
               [{"kind": "complaint", "department": d} for d, _ in by_department]),
        _table("by_category", ("category", "name", "complaints", "upheld", "overdue"),
               [(c, categories.get(c, c or "-"), *f) for c, f in by_category],
               [{"kind": "complaint", "category": c} for c, _ in by_category]),
        _table("by_grid", ("grid", "name", "complaints", "upheld"), [(g, names.get(g, g), *f) for g, f in by_grid],
               [{"kind": "complaint", "grid": g} for g, _ in by_grid]),
        _ledger(session, month, "person", department),
        _ledger(session, month, "department", department),
        *([] if department else [_ledger(session, month, "kpi", None)]),
    ]


def p3_tables(session: Session, cfg: ReportConfig, start: datetime, end: datetime, department: str | None,
              months: list[datetime], categories: dict[str, str]) -> list[ReportTable]:
    """P-3 (004 第十二条): the 客户期望分析报告 per department and the 季度客户意见汇总表 per category and month."""
    where, flags, names = population(cfg, start, end, department), _conditions(cfg), unit_names(session)
    bounds = [*months[1:], end]
    per_month = {f"m{i + 1}": and_(Case.started_at >= lo, Case.started_at < hi)
                 for i, (lo, hi) in enumerate(zip(months, bounds))}
    grain = _grain(session, where, {"department": department_expr(), "category": Case.category,
                                    "kind": func.coalesce(_field("kind"), "-")},
                   {"n": None, "upheld": and_(flags["complaint"], flags["upheld"]),
                    "overdue": and_(flags["complaint"], flags["overdue"]), **per_month})
    kinds = {"complaints": ("complaint",), "demands": ("demand", "suggestion"), "consultations": ("consultation",)}
    expectation = []
    for d, (upheld, overdue) in _by_key(_roll(grain, lambda r: r["department"], ("upheld", "overdue"))):
        counts = [sum(r["n"] for r in grain if r["department"] == d and r["kind"] in k) for k in kinds.values()]
        top = _by_count(_roll(grain, lambda r: r["category"], ("n",),
                              lambda r, d=d: r["department"] == d and r["category"] is not None))
        top_category = top[0][0] if top else None
        expectation.append((d, names.get(d, d), *counts, upheld, overdue,
                            categories.get(top_category, top_category or "-")))
    month_keys = tuple(per_month)
    summary = _by_key(_roll(grain, lambda r: (r["category"] or "", r["kind"]), (*month_keys, "n")))
    return [
        _table("expectation", ("department", "name", "complaints", "demands", "consultations", "upheld", "overdue",
                               "top_category"), expectation, [{"department": r[0]} for r in expectation]),
        _table("summary", ("category", "name", "kind", "month_1", "month_2", "month_3", "total"),
               [(c or None, categories.get(c, c or "-"), k, *f) for (c, k), f in summary],
               [{"category": c or None, "kind": k} for (c, k), _ in summary]),
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

