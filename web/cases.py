"""Intake of a complaint, demand, consultation or suggestion, and the case page with its diagram."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.rules.intake import load_categories
from engine.services import FormInvalid
from engine.settings import Settings

from . import formdata, present
from .auth import engine, login_required

bp = Blueprint("cases", __name__)
INTAKE_PROCESS = "normal"


def category_tree() -> list[dict]:
    """Return the active profile's categories in tree order with their depth, for the picker."""
    tree = load_categories(Settings.from_env().path("categories.toml"))
    return [{"code": c.code, "name": c.name, "depth": c.code.count(".")} for c in tree.values()]


def render_intake(fields, values, errors, status=200):
    return render_template("intake.html", fields=[f for f in fields if f["id"] != "category"], values=values,
                           errors=errors, categories=category_tree()), status


@bp.get("/intake")
@login_required
def intake():
    fields = engine().start_form(INTAKE_PROCESS)
    return render_intake(fields, formdata.defaults(fields), {})


@bp.post("/intake")
@login_required
def register():
    fields = engine().start_form(INTAKE_PROCESS)
    values = formdata.read(fields, request.form)
    try:
        ref = engine().start_case(INTAKE_PROCESS, values, current_user.actor)
    except FormInvalid as exc:
        flash(_("The complaint was not registered: please correct the fields marked below."), "error")
        return render_intake(fields, values, exc.errors, 400)
    flash(_("Case %(id)s registered.", id=ref.id), "ok")
    return redirect(url_for("cases.case", case_id=ref.id))


@bp.get("/cases")
@login_required
def cases():
    return render_template("cases.html", cases=[present.case_summary(c) for c in engine().my_cases(current_user.actor)])


@bp.get("/cases/<int:case_id>")
@login_required
def case(case_id):
    detail = engine().case_for(case_id, current_user.actor)
    page = present.case(detail, engine().clock(), engine().executed_path(case_id),
                        engine().ledger_entries(case_id=case_id))
    return render_template("case.html", case=page)


@bp.get("/versions/<int:version_id>.bpmn")
@login_required
def version_xml(version_id):
    return Response(engine().version_xml(version_id), mimetype="application/xml")


@bp.get("/vendor/bpmn-js/<path:name>")
def bpmn_js(name):
    """Serve the bpmn-js viewer installed by `npm ci` (never a CDN)."""
    return send_from_directory(f"{current_app.config['FRONTEND_DIR']}/bpmn-js/dist", name, max_age=3600)
