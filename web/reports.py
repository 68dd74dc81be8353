"""Reports (P-1..P-4) with charts, drill-down and exports; the crisis monitor (C-3, C-4, C-6, C-7); the mail
outbox for administrators. Each view calls one service and renders plain data."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.services import InvalidRequest
from engine.services.report_export import MEDIA_TYPES, file_name
from engine.services.serialize import amount_text, plain

from . import charts
from .api import drill_args
from .auth import engine, permission_required
from .cases import INTAKE_PROCESS
from .labels import labels

bp = Blueprint("reports", __name__)

KEYS = ("P-1", "P-2", "P-3", "P-4")
# The table each report's chart draws: (table, label column, value column).
CHART = {"P-1": ("by_channel", "channel", "complaints"), "P-2": ("by_department", "name", "complaints"),
         "P-3": ("expectation", "name", "complaints"), "P-4": ("rectification", "name", "cases")}
# What a click on a column's figure adds to its row's drill-down filter (columns not here are not links).
COLUMN_DRILL = {"contacts": {}, "complaints": {"kind": "complaint"}, "transferred": {"transferred": "true"},
                "overdue": {"kind": "complaint", "overdue": "true"}, "upheld": {"kind": "complaint", "upheld": "true"},
                "escalated": {"kind": "complaint", "escalated": "true"}, "total": {},
                "demands": {"kind": "demand_or_suggestion"}, "consultations": {"kind": "consultation"},
                "month_1": {"month": 0}, "month_2": {"month": 1}, "month_3": {"month": 2}}


def _month_start(start: datetime, offset: int) -> str:
    month = start.month - 1 + offset
    return start.replace(year=start.year + month // 12, month=month % 12 + 1).isoformat()


def _links(report, table) -> list[dict[str, str]]:
    """Return, per row, the drill-down URL of each linked column."""
    out = []
    for row, drill in zip(table.rows, table.drill):
        links = {}
        if drill is not None and report.key != "P-4":
            for column, value in zip(table.columns, row):
                extra = COLUMN_DRILL.get(column)
                if extra is None or not isinstance(value, int) or value == 0:
                    continue
                query = {k: ("true" if v is True else "false" if v is False else v) for k, v in drill.items()}
                for k, v in extra.items():
                    if k == "month":
                        query["month_start"] = _month_start(report.start, v)
                    else:
                        query[k] = v
                if report.department:
                    query.setdefault("department", report.department)
                links[column] = url_for("reports.cases", key=report.key, period=report.period, **query)
        out.append(links)
    return out


def _chart(report):
    table_key, label, value = CHART[report.key]
    table = report.table(table_key)
    li, vi = table.columns.index(label), table.columns.index(value)
    links = [row_links.get(value) for row_links in _links(report, table)]
    titles = {"P-1": _("Complaints by channel"), "P-2": _("Complaints by department"),
              "P-3": _("Complaints by department this quarter"), "P-4": _("Cases with deductions")}
    return charts.bar_chart(titles[report.key], [str(_named(label, r[li])) for r in table.rows],
                            [r[vi] for r in table.rows], links)


def _cell(value):
    return amount_text(value) if hasattr(value, "quantize") else ("" if value is None else value)


# Code columns: on the page a person reads names (the exports keep the codes for the process owner's tools).
# A code with a name column beside it (P-2's department and name) gives way to that column.
CODES = ("kind", "channel", "category", "department", "grid", "picked_by")


def _channel(value: str) -> str:
    """Return a channel's name from the intake form (camunda:value name) in the reader's language; the form is
    read once per request."""
    if "channel_names" not in g:
        lb = labels()
        field = next((f for f in engine().reads.intake_page(INTAKE_PROCESS).fields if f["id"] == "channel"), {})
        g.channel_names = {o["id"]: lb.option_name(o) for o in field.get("options") or ()}
    return g.channel_names.get(value, value)


def _named(column: str, value):
    """Return a report cell as a person reads it: a code column by its name."""
    if column not in CODES or value in (None, "", "-"):
        return _cell(value)
    lb = labels()
    return {"kind": lb.kind, "channel": _channel, "category": lb.category, "department": lb.unit,
            "grid": lb.unit, "picked_by": lb.person}[column](value)


def _page_table(report, table) -> dict:
    """Return a report table for the page: code columns by name, a code beside its name column left out."""
    shown = [i for i, c in enumerate(table.columns) if not (c in CODES and "name" in table.columns)]
    return {"key": table.key, "columns": [table.columns[i] for i in shown],
            "rows": [[_named(table.columns[i], row[i]) for i in shown] for row in table.rows],
            "links": _links(report, table)}


@bp.get("/reports")
@permission_required("see_reports")
def index():
    key = request.args.get("key", "P-1")
    key = key if key in KEYS else "P-1"
    reports = engine().reports
    period = request.args.get("period") or reports.default_period(key)
    department = request.args.get("department") or None
    try:
        report = reports.report(key, period, current_user.actor, department)
    except InvalidRequest as exc:
        if exc.code != "invalid_period":
            raise
        # Another report was chosen with the period of the last one: open the new one on its default period.
        flash(_("%(period)s is not a period of report %(report)s.", period=period, report=key), "error")
        report = reports.report(key, reports.default_period(key), current_user.actor, department)
    tables = [_page_table(report, t) for t in report.tables]
    return render_template("reports.html", report=plain(report), tables=tables, chart=_chart(report),
                           keys=KEYS, key=key, period=report.period, department=department or "")


@bp.post("/reports/typical")
@permission_required("pick_typical_cases")
def pick_typical():
    form = request.form
    period = form.get("period", "")
    try:
        case_id = int(form.get("case_id", ""))
    except ValueError:
        flash(_("Give the number of a case."), "error")
        return redirect(url_for("reports.index", key="P-1", period=period))
    if engine().reports.pick_typical(period, case_id, form.get("note", ""), current_user.actor):
        flash(_("Case %(id)s is a typical case of %(period)s.", id=case_id, period=period), "ok")
    return redirect(url_for("reports.index", key="P-1", period=period))


@bp.get("/reports/<key>/cases")
@permission_required("see_reports")
def cases(key):
    args = request.args
    found = engine().reports.cases(key, args.get("period", ""), current_user.actor, drill_args(args),
                                   args.get("department"))
    filters = {k: v for k, v in args.items() if k != "period"}
    yes_no = {"true": _("Yes"), "false": _("No")}
    shown = {k: yes_no.get(v) or _named(k, v) for k, v in filters.items()}
    return render_template("report_cases.html", key=key, period=args.get("period", ""), filters=filters,
                           shown_filters=shown, cases=plain(found))


@bp.get("/reports/<key>/export.<fmt>")
@permission_required("see_reports")
def export(key, fmt):
    args = request.args
    data = engine().reports.export(key, args.get("period", ""), current_user.actor, fmt, args.get("department"))
    name = file_name(key, args.get("period", ""), args.get("department"), fmt)
    return Response(data, mimetype=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/crisis")
@permission_required("see_crisis_monitor")
def crisis():
    crises = engine().reports.crisis_monitor(current_user.actor)
    # The hours come in the calendar's time zone (Beijing), as the crisis group reads them.
    views = [{"crisis": plain(c), "hours": [(h.start.strftime("%m-%d %H:00"), h.count, h.change_ratio)
                                             for h in c.hours],
              "chart": charts.line_chart(_("Complaints per hour (C-6)"), [h.start.strftime("%H:00") for h in c.hours],
                                         [h.count for h in c.hours])} for c in crises]
    return render_template("crisis.html", crises=views)


@bp.get("/admin/mail")
@permission_required("administer_mail")
def mail():
    state = request.args.get("state") or None
    state = state if state in ("pending", "sent", "dead") else None
    return render_template("mail.html", messages=plain(engine().reports.outbox(current_user.actor, state)),
                           state=state or "")


@bp.post("/admin/mail/<int:mail_id>/resend")
@permission_required("administer_mail")
def resend(mail_id):
    engine().reports.resend(mail_id, current_user.actor)
    flash(_("Message %(id)s is queued again.", id=mail_id), "ok")
    return redirect(url_for("reports.mail", state="dead"))


@bp.app_context_processor
def report_words():
    """Give the templates the words of the reports' keys (column and table keys come from the engine)."""
    return {
        "report_names": {"P-1": _("Weekly volume and transfer rate"), "P-2": _("Monthly statistics and deductions"),
                         "P-3": _("Quarterly analysis and summary"), "P-4": _("Rectification")},
        "table_names": {
            "summary": _("Summary"), "by_kind": _("By kind"), "by_channel": _("By channel"),
            "by_category": _("By category"), "typical_cases": _("Typical cases"),
            "by_department": _("By department"), "by_grid": _("By grid"),
            "deductions_person": _("Deductions per person"), "deductions_department": _("Deductions per department"),
            "deductions_kpi": _("Deductions of the company KPI"),
            "expectation": _("Customer expectation analysis (客户期望分析报告)"),
            "rectification": _("Departments in rectification")},
        "column_names": {
            "contacts": _("Contacts"), "complaints": _("Complaints"), "transferred": _("Dispatched"),
            "transfer_rate": _("Transfer rate"), "kind": _("Kind"), "channel": _("Channel"),
            "category": _("Category"), "name": _("Name"), "case_id": _("Case"), "department": _("Department"),
            "note": _("Note"), "picked_by": _("Picked by"), "completed": _("Completed"), "upheld": _("Upheld"),
            "overdue": _("Overdue"), "escalated": _("Escalated"), "grid": _("Grid"), "key": _("Key"),
            "unit": _("Unit"), "booked": _("Booked"), "reversed": _("Reversed"), "net": _("Net"),
            "entries": _("Entries"), "demands": _("Demands and suggestions"), "consultations": _("Consultations"),
            "top_category": _("Most frequent category"), "month_1": _("Month 1"), "month_2": _("Month 2"),
            "month_3": _("Month 3"), "total": _("Total"), "cases": _("Cases with deductions"),
            "points": _("Points"), "rectification_case": _("Rectification case"), "month_start": _("Month")},
        "deadline_words": {"report": _("Report within 1 hour (C-3)"),
                           "solution": _("Solution within 2 hours (C-4)"),
                           "explanation": _("Unified explanation within 2 hours (C-4)"),
                           "summary": _("Special report within 3 working days of closing (C-7)")},
        "state_names": {"pending": _("pending"), "open": _("open"), "overdue": _("overdue"), "done": _("done"),
                        "late": _("done late"), "sent": _("sent"), "dead": _("dead")},
    }
