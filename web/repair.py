"""The administrator's repair of a case (issue 18): see the failed step and its error, correct the case's
start-form data, move it to another version, retry; or cancel the case with a reason. Every action is audited
by the engine (``admin_action`` with actor and reason)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from engine.services import FormInvalid, InvalidRequest

from . import formdata, messages, present
from .auth import engine, permission_required
from .labels import labels

bp = Blueprint("repair", __name__)


def _shown(value: Any) -> str:
    """Return a case value as its form widget posts it back (so that an untouched field is no change)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def changed_fields(fields: list[dict[str, Any]], posted: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Return the posted start-form values that differ from the case's data: a repair sets what it changes.

    An unticked box posts false: it changes nothing where the case has no value for it.
    """
    booleans = {f["id"] for f in fields if f["type"] == "boolean"}
    return {key: value for key, value in posted.items()
            if (key in booleans and (value == "true") != bool(data.get(key)))
            or (key not in booleans and _shown(value) != _shown(data.get(key)))}


def render_page(case_id: int, values: dict[str, Any] | None = None, errors: dict | None = None,
                reason: str = "", status: int = 200, reason_error: str | None = None):
    page = engine().oversight.repair_page(case_id, current_user.actor)
    lb = labels()
    failed = None
    if page.failed_element:
        failed = lb.element(page.failed_element, {page.failed_element: {"name": page.failed_name,
                                                                         "type": page.failed_type}})
    return render_template(
        "repair.html", page=page, case=present.case_summary(page.case), fields=list(page.fields),
        values=values if values is not None else page.case.data, errors=errors or {}, reason=reason, failed=failed,
        reason_error=reason_error, facts=lb.facts(page.case.data, page.fields),
        categories=[(code, lb.category(code, path=False), code.count(".")) for code in lb.d.categories],
        closed=page.case.status in ("completed", "cancelled")), status


@bp.get("/operations/cases/<int:case_id>/repair")
@permission_required("repair_cases")
def repair_page(case_id):
    return render_page(case_id)


@bp.post("/operations/cases/<int:case_id>/repair")
@permission_required("repair_cases")
def repair(case_id):
    """Save the corrected data (and version) and retry; refused data changes nothing and is shown per field."""
    page = engine().oversight.repair_page(case_id, current_user.actor)
    posted = formdata.read(list(page.fields), request.form)
    reason = request.form.get("reason", "")
    version = request.form.get("version") or None
    moved = int(version) if version and version.isdigit() and int(version) != page.version else None
    try:
        ref = engine().cases.repair(case_id, current_user.actor, reason=reason,
                                    data=changed_fields(list(page.fields), posted, page.case.data) or None,
                                    version=moved, retry=True)
    except FormInvalid as exc:
        flash(_("Nothing was changed: please correct the fields marked below."), "error")
        return render_page(case_id, posted, exc.errors, reason, 400)
    except InvalidRequest as exc:
        text = messages.service_error(exc.code, exc.params, str(exc))
        flash(_("Nothing was changed: %(error)s", error=text), "error")
        return render_page(case_id, posted, {}, reason, 400, text if exc.code == "reason_required" else None)
    if ref.status == "incident":
        incident = labels().incident(engine().oversight.repair_page(case_id, current_user.actor).case.incident)
        flash(_("Case %(id)s was repaired but its step failed again: it stays in incident. %(error)s",
                id=case_id, error=incident), "error")
        return redirect(url_for("repair.repair_page", case_id=case_id))
    flash(_("Case %(id)s repaired: %(status)s.", id=case_id, status=labels().status(ref.status)), "ok")
    return redirect(url_for("cases.case", case_id=case_id))


@bp.post("/operations/cases/<int:case_id>/cancel")
@permission_required("repair_cases")
def cancel(case_id):
    """Cancel the case with a reason; without one nothing happens and the page says so."""
    try:
        engine().cases.cancel(case_id, current_user.actor, reason=request.form.get("cancel_reason", ""))
    except InvalidRequest as exc:
        flash(_("The case was not cancelled: %(error)s",
                error=messages.service_error(exc.code, exc.params, str(exc))), "error")
        return redirect(url_for("repair.repair_page", case_id=case_id))
    flash(_("Case %(id)s cancelled.", id=case_id), "ok")
    return redirect(url_for("cases.case", case_id=case_id))
