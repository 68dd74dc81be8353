"""Intake of a complaint, demand, consultation or suggestion, and the case page with its diagram."""

from __future__ import annotations

import io
import secrets
from datetime import date, datetime, time, timedelta

from flask import (Blueprint, current_app, flash, redirect, render_template, request, send_file, send_from_directory,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user

from engine.services import FormInvalid, InvalidRequest

from . import formdata, present
from .auth import allowed, engine, login_required
from .labels import BEIJING, labels
from .security import DOWNLOAD_CSP

bp = Blueprint("cases", __name__)
INTAKE_PROCESS = "normal"


def render_intake(page, values, errors, status=200, token=None):
    # A fresh form token per form shown; a refused form keeps its token, so its corrected submit is still one case.
    return render_template("intake.html", fields=[f for f in page.fields if f["id"] != "category"], values=values,
                           errors=errors, categories=page.categories,
                           token=token or secrets.token_urlsafe(24)), status


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
    token = request.form.get("form_token") or None
    try:
        ref = engine().cases.start(INTAKE_PROCESS, values, current_user.actor, token=token)
    except FormInvalid as exc:
        flash(_("The complaint was not registered: please correct the fields marked below."), "error")
        return render_intake(page, values, exc.errors, 400, token)
    if ref.replayed:
        flash(_("This form was already registered as case %(id)s; no second case was made.", id=ref.id), "ok")
    else:
        flash(_("Case %(id)s registered.", id=ref.id), "ok")
    return redirect(url_for("cases.case", case_id=ref.id))


SEARCH_FIELDS = ("number", "customer", "contact", "text", "category", "status", "department", "since", "until",
                 "sort", "page_size")


def search_filters(args) -> dict:
    """Parse the case search's query string; a bad number or date is a 400 naming it."""
    found: dict = {k: args[k].strip() for k in ("customer", "contact", "text", "category", "status", "department",
                                                "sort") if args.get(k, "").strip()}
    if args.get("number", "").strip():
        try:
            found["number"] = int(args["number"].strip().lstrip("#"))
        except ValueError:
            raise InvalidRequest(f"not a case number: {args['number']!r}", code="invalid_number") from None
    for name, shift in (("since", 0), ("until", 1)):        # until: the whole day is in
        if args.get(name):
            try:
                day = date.fromisoformat(args[name])
            except ValueError:
                raise InvalidRequest(f"{name} is not a date (YYYY-MM-DD): {args[name]!r}", code="invalid_date",
                                     field=name) from None
            found[name] = datetime.combine(day + timedelta(days=shift), time(), BEIJING)
    if args.get("page_size"):
        try:
            found["page_size"] = int(args["page_size"])
        except ValueError:
            raise InvalidRequest("page_size is not a whole number", code="invalid_page_size") from None
    return found


@bp.get("/cases")
@login_required
def cases():
    """The case search: number, customer, contact, text in the facts, category, status, department, dates;
    sorted and paged by keyset on the server; saved searches per person."""
    page = engine().reads.search_cases(current_user.actor, **search_filters(request.args),
                                       cursor=request.args.get("cursor") or None)
    query = {k: v for k, v in request.args.items() if k in SEARCH_FIELDS and v}
    departments = {k: u for k, u in labels().d.units.items() if u["kind"] in ("department", "grid")}
    return render_template("cases.html", cases=[present.case_summary(c) for c in page.cases], args=request.args,
                           departments=departments, sort=page.sort, query=query,
                           saved=engine().accounts.saved_filters(current_user.id, "cases"),
                           next_page=url_for("cases.cases", **query, cursor=page.next_cursor)
                           if page.next_cursor else None,
                           first_page=url_for("cases.cases", **query) if request.args.get("cursor") else None)


@bp.post("/filters/<screen>")
@login_required
def save_filter(screen):
    query = {k: v for k, v in request.form.items() if k not in ("csrf_token", "filter_name", "cursor")}
    engine().accounts.save_filter(current_user.id, screen, request.form.get("filter_name", ""), query)
    flash(_("Filter %(name)s saved.", name=request.form.get("filter_name", "").strip()), "ok")
    return redirect(url_for("cases.cases" if screen == "cases" else "tasks.inbox", **query))


@bp.post("/filters/<int:filter_id>/delete")
@login_required
def delete_filter(filter_id):
    engine().accounts.delete_filter(current_user.id, filter_id)
    flash(_("Filter deleted."), "ok")
    return redirect(request.form.get("next") or url_for("tasks.inbox"))


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
    """The deployed file as a plain-text download under its file name: a browser never renders it (an
    <html:script> in it stays text); the diagrams fetch it as text, the modeller saves it."""
    found = [v for v in engine().admin.versions() if v.id == version_id]
    answer = send_file(io.BytesIO(engine().admin.version_xml(version_id)), mimetype="text/plain", as_attachment=True,
                       download_name=found[0].file_name if found else f"version-{version_id}.bpmn", max_age=0)
    answer.headers.update({"Content-Security-Policy": DOWNLOAD_CSP, "X-Content-Type-Options": "nosniff"})
    return answer


@bp.get("/vendor/bpmn-js/<path:name>")
def bpmn_js(name):
    """Serve the bpmn-js viewer installed by `npm ci` (never a CDN)."""
    return send_from_directory(f"{current_app.config['FRONTEND_DIR']}/bpmn-js/dist", name, max_age=3600)
