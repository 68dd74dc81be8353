"""Process, organisation and calendar administration: versions and uploads, people and groups, overrides."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.services import DeploymentRefused, FormInvalid, InvalidRequest
from engine.services.serialize import plain

from . import messages
from .auth import allowed, engine, permission_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


def render_processes(error=None, status=200):
    return render_template("processes.html", versions=plain(engine().admin.versions()), error=error), status


@bp.get("/processes")
@permission_required("deploy")
def processes():
    return render_processes()


@bp.post("/processes")
@permission_required("deploy")
def upload():
    upload = request.files.get("bpmn")
    if upload is None or not upload.filename:
        return render_processes({"message": _("Choose a BPMN file to upload.")}, 400)
    try:
        deployed = engine().admin.deploy(upload.read(), upload.filename, current_user.actor)
    except DeploymentRefused as exc:
        error = {"message": str(exc), "file_name": exc.file_name, "line": exc.line, "element_id": exc.element_id}
        return render_processes(error, 400)
    flash(_("Deployed: %(names)s.", names=", ".join(f"{v.key} v{v.version}" for v in deployed)), "ok")
    return redirect(url_for("admin.processes"))


@bp.get("/versions/<int:version_id>")
@permission_required("deploy", "see_compliance")
def version(version_id):
    """A version's diagram and its BPMN download: for process owners, and for compliance (the documented process)."""
    found = [v for v in plain(engine().admin.versions()) if v["id"] == version_id]
    if not found:
        if not allowed("deploy"):
            abort(404)
        return render_processes({"message": _("No such version.")}, 404)
    return render_template("version.html", version=found[0],
                           back=url_for("admin.processes") if allowed("deploy") else None)


def unit_kinds() -> dict[str, str]:
    """Return the kinds of unit of data/organisation.toml in words."""
    return {"company": _("Company"), "department": _("Department"), "grid": _("Grid"), "group": _("Working group"),
            "team": _("Team"), "channel": _("Channel"), "external": _("External unit")}


def render_organisation(values=None, errors=None, status=200):
    return render_template("organisation.html", org=engine().admin.organisation(), groups=engine().admin.known_groups(),
                           values=values or {}, errors=errors or {}, unit_kinds=unit_kinds()), status


def posted_groups() -> list[str]:
    """Return the groups of the posted form: ticked boxes or one text of names split by commas or spaces."""
    return sorted({g for text in request.form.getlist("groups") for g in text.replace(",", " ").split()})


@bp.get("/organisation")
@permission_required("administer_people")
def organisation():
    return render_organisation()


@bp.post("/organisation/people")
@permission_required("administer_people")
def add_person():
    person = {key: request.form.get(key, "").strip() for key in ("username", "name", "unit")}
    person.update(groups=posted_groups(), password=request.form.get("password", ""))
    try:
        engine().admin.add_person(person, current_user.actor)
    except FormInvalid as exc:
        flash(_("Please correct the fields marked below."), "error")
        return render_organisation(dict(person, password=""), exc.errors, 400)
    flash(_("Person %(username)s added.", username=person["username"]), "ok")
    return redirect(url_for("admin.organisation"))


@bp.post("/organisation/people/<username>/groups")
@permission_required("administer_people")
def set_groups(username):
    try:
        engine().admin.set_groups(username, posted_groups(), current_user.actor)
    except FormInvalid as exc:
        error = messages.field_error(exc.errors["groups"])
        flash(_("Groups of %(username)s not changed: %(error)s", username=username, error=error), "error")
        return render_organisation(status=400)
    flash(_("Groups of %(username)s changed.", username=username), "ok")
    return redirect(url_for("admin.organisation"))


@bp.get("/calendar")
@permission_required("edit_calendar")
def calendar():
    return render_template("calendar.html", overrides=plain(engine().deadlines.overrides()),
                           holidays=engine().deadlines.holiday_coverage())


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(f"not a date (YYYY-MM-DD): {text!r}", code="invalid_date", value=text) from None


@bp.post("/calendar")
@permission_required("edit_calendar")
def set_override():
    day = parse_day(request.form.get("date", ""))
    engine().deadlines.set_override(day, request.form.get("workday") == "true", request.form.get("note", ""),
                                   current_user.actor)
    flash(_("Calendar override saved."), "ok")
    return redirect(url_for("admin.calendar"))


@bp.post("/calendar/<day>/delete")
@permission_required("edit_calendar")
def remove_override(day):
    engine().deadlines.remove_override(parse_day(day), current_user.actor)
    flash(_("Calendar override removed."), "ok")
    return redirect(url_for("admin.calendar"))
