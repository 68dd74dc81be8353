"""The inbox and the task page: claim, give back and complete the tasks of one's groups."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.services import FormInvalid

from . import formdata, present
from .auth import engine, login_required
from .present import BEIJING

bp = Blueprint("tasks", __name__)


def inbox_filters(args) -> dict:
    """Parse the inbox filters of a query string: process, category, due (a date) and overdue."""
    filters = {"process_key": args.get("process") or None, "category": args.get("category") or None}
    if args.get("due"):
        day = datetime.fromisoformat(args["due"]).date()
        filters["due_before"] = datetime.combine(day + timedelta(days=1), time(), BEIJING)
    if args.get("overdue"):
        filters["overdue_at"] = engine().clock()
    return filters


@bp.get("/")
@login_required
def inbox():
    now = engine().clock()
    rows = engine().inbox(current_user.actor, **inbox_filters(request.args))
    tasks = [present.task(t, now) for t in rows]
    mine = [t for t in tasks if t["assignee"] == current_user.id]
    claimable = [t for t in tasks if t["assignee"] is None]
    return render_template("inbox.html", mine=mine, claimable=claimable, args=request.args,
                           counts=present.group_counts(tasks, current_user.groups),
                           processes=sorted({v["key"] for v in engine().versions()}))


@bp.get("/tasks/<task_id>")
@login_required
def task(task_id):
    found = engine().task_for(task_id, current_user.actor)
    return render_page(found, formdata.defaults(found.form), {})


def render_page(found, values: dict, errors: dict, status: int = 200):
    """Render a task beside its case's facts, with the values and per-field errors of the last try."""
    now = engine().clock()
    detail = engine().case_for(found.case_id, current_user.actor)
    return render_template("task.html", task=present.task(found, now), values=values, errors=errors,
                           case=present.case_summary(detail.case), facts=detail.case.data), status


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id):
    engine().claim(task_id, current_user.actor)
    flash(_("Task claimed."), "ok")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id):
    engine().unclaim(task_id, current_user.actor)
    flash(_("Task given back to its groups."), "ok")
    return redirect(url_for("tasks.inbox"))


@bp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id):
    found = engine().task_for(task_id, current_user.actor)
    values = formdata.read(found.form, request.form)
    try:
        ref = engine().complete(task_id, values, current_user.actor)
    except FormInvalid as exc:
        flash(_("Please correct the fields marked below."), "error")
        return render_page(found, values, exc.errors, 400)
    flash(_("Task completed; case %(id)s is %(status)s.", id=ref.id, status=ref.status), "ok")
    return redirect(url_for("tasks.inbox"))
