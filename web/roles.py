"""Each role's start page (issue 18): the handler's inbox, the complaint group's overview, a department head's
department, the administrator's operations page (incidents with retry, late timers, scheduler heartbeats,
deployments) and the compliance officer's page. ``/home`` opens the signed-in person's own."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from . import present
from .auth import allowed, engine, login_required, permission_required
from .labels import BEIJING, labels

bp = Blueprint("roles", __name__)


def start_page() -> str:
    """Return the start page of the signed-in person's main role."""
    groups = current_user.actor.groups
    if allowed("repair_cases"):
        return url_for("roles.operations")
    if "compliance" in groups and allowed("see_compliance"):
        return url_for("roles.compliance")
    if "complaint_group" in groups:
        return url_for("roles.overview")
    if "dept_head" in groups:
        return url_for("roles.department")
    return url_for("tasks.inbox")


@bp.get("/home")
@login_required
def home():
    return redirect(start_page())


@bp.get("/overview")
@permission_required("oversee_cases")
def overview():
    page = engine().oversight.overview(current_user.actor)
    today = engine().clock().astimezone(BEIJING).date().isoformat()
    return render_template("overview.html", page=page, today=[present.case_summary(c) for c in page.today],
                           today_iso=today,
                           overdue=[present.task(t) for t in page.overdue],
                           callbacks=[present.task(t) for t in page.callbacks])


@bp.get("/department")
@login_required
def department():
    page = engine().oversight.department(current_user.actor)
    return render_template("department.html", page=page, cases=[present.case_summary(c) for c in page.open_cases],
                           tasks=[present.task(t) for t in page.open_tasks])


@bp.get("/operations")
@permission_required("repair_cases")
def operations():
    page = engine().oversight.operations(current_user.actor)
    return render_template("operations.html", page=page, incidents=[present.case_summary(c) for c in page.incidents])


@bp.post("/operations/cases/<int:case_id>/retry")
@permission_required("repair_cases")
def retry(case_id):
    """Run a case's failed step again; if it fails again the case stays in incident and the page says why."""
    ref = engine().cases.retry(case_id, current_user.actor)
    if ref.status == "incident":
        page = engine().reads.case_page(case_id, current_user.actor)
        flash(_("Case %(id)s failed again and stays in incident: %(error)s", id=case_id,
                error=labels().incident(page.case.incident)), "error")
    else:
        flash(_("Case %(id)s runs again: %(status)s.", id=case_id, status=labels().status(ref.status)), "ok")
    return redirect(url_for("roles.operations"))


@bp.get("/compliance-start")
@permission_required("see_compliance")
def compliance():
    return render_template("compliance_start.html", versions=engine().admin.versions())
