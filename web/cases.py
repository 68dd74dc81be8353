"""Intake of a complaint, demand, consultation or suggestion, and the case page with its diagram."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.services import FormInvalid

from . import formdata, present
from .auth import allowed, engine, login_required

bp = Blueprint("cases", __name__)
INTAKE_PROCESS = "normal"


def render_intake(page, values, errors, status=200):
    return render_template("intake.html", fields=[f for f in page.fields if f["id"] != "category"], values=values,
                           errors=errors, categories=page.categories), status


@bp.get("/intake")
@login_required
def intake():
    page = engine().reads.intake_page(INTAKE_PROCESS)
    return render_intake(page, formdata.defaults(page.fields), {})


@bp.post("/intake")
@login_required
def register():
    page = engine().reads.intake_page(INTAKE_PROCESS)
    values = formdata.read(page.fields, request.form)
    try:
        ref = engine().cases.start(INTAKE_PROCESS, values, current_user.actor)
    except FormInvalid as exc:
        flash(_("The complaint was not registered: please correct the fields marked below."), "error")
        return render_intake(page, values, exc.errors, 400)
    flash(_("Case %(id)s registered.", id=ref.id), "ok")
    return redirect(url_for("cases.case", case_id=ref.id))


@bp.get("/cases")
@login_required
def cases():
    return render_template("cases.html",
                           cases=[present.case_summary(c) for c in engine().reads.case_list(current_user.actor)])


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id):
    page = present.case(engine().reads.case_page(case_id, current_user.actor))
    judged = (present.case_conformance(engine().compliance.case(case_id, current_user.actor))
              if allowed("see_compliance") else None)
    return render_template("case.html", case=page, judged=judged)


@bp.get("/versions/<int:version_id>.bpmn")
@login_required
def version_xml(version_id):
    return Response(engine().admin.version_xml(version_id), mimetype="application/xml")


@bp.get("/vendor/bpmn-js/<path:name>")
def bpmn_js(name):
    """Serve the bpmn-js viewer installed by `npm ci` (never a CDN)."""
    return send_from_directory(f"{current_app.config['FRONTEND_DIR']}/bpmn-js/dist", name, max_age=3600)
