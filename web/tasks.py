"""The inbox and the task page: claim, give back and complete the tasks of one's groups."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.services import FormInvalid, InvalidRequest

from . import formdata, messages, present
from .auth import engine, login_required
from .labels import labels
from .present import BEIJING

bp = Blueprint("tasks", __name__)


def inbox_filters(args) -> dict:
    """Parse the inbox's query string: process, category, due (a date), overdue, page size and cursor."""
    filters = {"process_key": args.get("process") or None, "category": args.get("category") or None,
               "overdue": bool(args.get("overdue")), "cursor": args.get("cursor") or None}
    if args.get("due"):
        try:
            day = date.fromisoformat(args["due"])
        except ValueError:
            raise InvalidRequest(f"due is not a date (YYYY-MM-DD): {args['due']!r}", code="invalid_date",
                                 field="due") from None
        # Due on or before the last day there is: every due task.
        filters["due_before"] = (datetime.combine(day + timedelta(days=1), time(), BEIJING) if day < date.max
                                 else datetime.max.replace(tzinfo=BEIJING))
    if args.get("page_size"):
        try:
            filters["page_size"] = int(args["page_size"])
        except ValueError:
            raise InvalidRequest("page_size is not a whole number", code="invalid_page_size") from None
    return filters


@bp.get("/")
@login_required
def inbox():
    page = engine().reads.inbox(current_user.actor, **inbox_filters(request.args))
    lb = labels()
    tasks = [{**present.task(t), "case_line": " · ".join(x for x in (
        page.cases[t.case_id].complainant or "", lb.category(page.cases[t.case_id].category, path=False)) if x)
        if t.case_id in page.cases else ""} for t in page.tasks]
    filters = {k: v for k, v in request.args.items() if k != "cursor"}
    return render_template("inbox.html", mine=[t for t in tasks if t["assignee"] == current_user.id],
                           claimable=[t for t in tasks if t["assignee"] is None], args=request.args,
                           saved=engine().accounts.saved_filters(current_user.id, "inbox"),
                           query={k: v for k, v in filters.items() if v},
                           assigned=page.assigned, counts=page.claimable, processes=page.processes,
                           next_page=url_for("tasks.inbox", **filters, cursor=page.next_cursor)
                           if page.next_cursor else None,
                           first_page=url_for("tasks.inbox", **filters) if request.args.get("cursor") else None)


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id):
    page = engine().reads.task_page(task_id, current_user.actor)
    return render_page(page, formdata.defaults(page.task.form), {})


def render_page(page, values: dict, errors: dict, status: int = 200):
    """Render a task beside its case's facts, with the values and per-field errors of the last try."""
    return render_template("task.html", task=present.task(page.task), values=values, errors=errors,
                           case=present.case_summary(page.case), facts=labels().facts(page.case.data, page.fields)), status


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id):
    engine().cases.claim(task_id, current_user.actor)
    flash(_("Task claimed."), "ok")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id):
    engine().cases.unclaim(task_id, current_user.actor)
    flash(_("Task given back to its groups."), "ok")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id):
    """Give a claimed task to another candidate or, delegating, to anyone with a reason (audited)."""
    to = (request.form.get("assignee") or "").strip()
    reason = request.form.get("reason") or ""
    try:
        if request.form.get("mode") == "delegate":
            engine().cases.delegate(task_id, to, current_user.actor, reason)
        else:
            engine().cases.reassign(task_id, to, current_user.actor, reason)
    except FormInvalid as exc:
        flash(_("The task was not handed over: %(name)s %(error)s", name=to,
                error=messages.field_error(exc.errors["assignee"])), "error")
        return redirect(url_for("tasks.task", task_id=task_id))
    flash(_("Task handed over to %(name)s.", name=labels().person(to)), "ok")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id):
    page = engine().reads.task_page(task_id, current_user.actor)
    values = formdata.read(page.task.form, request.form)
    try:
        ref = engine().cases.complete(task_id, values, current_user.actor)
    except FormInvalid as exc:
        flash(_("Please correct the fields marked below."), "error")
        return render_page(page, values, exc.errors, 400)
    flash(_("Task completed; case %(id)s is %(status)s.", id=ref.id, status=labels().status(ref.status)), "ok")
    return redirect(url_for("tasks.inbox"))
