"""JSON API: start cases, page through and work on tasks, read cases, deploy; bearer token or browser session.

A call costs at most two transactions. The bearer token is signed with the
username and the groups and lives ``API_TOKEN_MAX_AGE`` seconds (15 minutes by
default), so it is checked without a query; a change of groups or a
deactivation applies when the token runs out. Commands answer with the case
and its open tasks from the command's own result; ``?detail=full`` adds the
whole case page (one more read).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized
from wtforms import ValidationError

from engine.services import Actor, InvalidRequest, Selection
from engine.services.report_export import MEDIA_TYPES, file_name
from engine.services.report_queries import DRILL_KEYS
from engine.services.serialize import plain

from .auth import engine
from .openapi import REPORT_KEYS, document, openapi_path, request_check
from .tasks import inbox_filters

bp = Blueprint("api", __name__, url_prefix="/api")
PUBLIC = {"api.token", "api.openapi"}
# The report keys are part of the route, so /api/reports/typical is the typical cases' and nothing else's.
REPORT_ROUTE = "any(" + ", ".join(f'"{key}"' for key in REPORT_KEYS) + ")"


def signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token-v2")


@bp.before_request
def authenticate():
    """Take the actor from a bearer token, else from the browser session (whose writes need the CSRF token)."""
    if request.endpoint in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            claims = signer().loads(header[7:], max_age=current_app.config["API_TOKEN_MAX_AGE"])
            g.actor = Actor(str(claims["u"]), frozenset(str(group) for group in claims["g"]))
        except (BadSignature, KeyError, TypeError):
            raise Unauthorized("invalid or expired token") from None
    elif current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except ValidationError:
                raise Forbidden("a session write needs the X-CSRFToken header") from None
        g.actor = current_user.actor
    else:
        raise Unauthorized("sign in or send Authorization: Bearer <token> (POST /api/token)")


@bp.before_request
def check_request():
    """Check parameters and body against the operation in the OpenAPI document (400 naming what is wrong)."""
    if request.url_rule is not None:
        g.body = request_check().check(openapi_path(request.url_rule.rule), request.method, request.view_args or {},
                                       request.args, request.get_data)


def body() -> dict:
    """The request's JSON object, as the document's check parsed it."""
    data = g.get("body")
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return data


def answer(ref):
    """Return a command's case and open tasks, with the whole case page when asked (``?detail=full``)."""
    found = plain(ref)
    if request.args.get("detail") == "full":
        found["case"] = plain(engine().reads.case_page(ref.id, g.actor))
    return found


@bp.post("/token")
def token():
    data = body()
    account = engine().accounts.sign_in(str(data.get("username", "")), str(data.get("password", "")),
                                        request.remote_addr or "")
    if account is None:
        raise Unauthorized("unknown user or wrong password")
    claims = {"u": account.username, "g": sorted(account.groups)}
    return jsonify(token=signer().dumps(claims), username=account.username, groups=claims["g"],
                   expires_in=current_app.config["API_TOKEN_MAX_AGE"])


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/tasks")
def tasks():
    return jsonify(plain(engine().reads.inbox(g.actor, **inbox_filters(request.args))))


@bp.get("/tasks/<task_id>")
def task(task_id):
    return jsonify(plain(engine().reads.task_page(task_id, g.actor).task))


@bp.post("/tasks/<task_id>/claim")
def claim(task_id):
    return jsonify(plain(engine().cases.claim(task_id, g.actor)))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id):
    return jsonify(plain(engine().cases.unclaim(task_id, g.actor)))


@bp.post("/tasks/<task_id>/complete")
def complete(task_id):
    data = body().get("data", {})
    if not isinstance(data, dict):
        raise InvalidRequest("data must be a JSON object", code="bad_body")
    return jsonify(answer(engine().cases.complete(task_id, data, g.actor)))


@bp.get("/cases")
def search_cases():
    """One page of the case search, the filters of the /cases page (web/cases.search_filters)."""
    from .cases import search_filters

    page = engine().reads.search_cases(g.actor, **search_filters(request.args), cursor=request.args.get("cursor") or None)
    return jsonify(plain(page))


@bp.post("/cases")
def start_case():
    data = body()
    if not isinstance(data.get("process_key"), str) or not isinstance(data.get("data", {}), dict):
        raise InvalidRequest("give process_key (text) and data (an object)", code="bad_body")
    # The same token again (a client's retry) answers the case it started, 200 instead of 201.
    token = data.get("token") or request.headers.get("Idempotency-Key")
    ref = engine().cases.start(data["process_key"], data.get("data", {}), g.actor, token=token)
    return jsonify(answer(ref)), 200 if ref.replayed else 201


@bp.get("/cases/<int:case_id>")
def case(case_id):
    return jsonify(plain(engine().reads.case_page(case_id, g.actor)))


def still_in_incident(ref):
    """Answer a retry (or a repair's retry): when the step failed again, say so with the error, beside the status."""
    found = answer(ref)
    if ref.status == "incident":
        found["incident"] = engine().reads.case_page(ref.id, g.actor).case.incident
    return found


@bp.post("/cases/<int:case_id>/retry")
def retry_case(case_id):
    """Run a case's failed steps again (administrators); a step failing again answers status incident and why."""
    return jsonify(still_in_incident(engine().cases.retry(case_id, g.actor)))


@bp.post("/cases/<int:case_id>/repair")
def repair_case(case_id):
    """Repair a case (administrators, audited): start-form data, another version, retry."""
    data = body()
    ref = engine().cases.repair(case_id, g.actor, reason=data.get("reason", ""), data=data.get("data") or None,
                                version=data.get("version"), retry=data.get("retry", True))
    return jsonify(still_in_incident(ref))


@bp.post("/cases/<int:case_id>/cancel")
def cancel_case(case_id):
    """Cancel a case with a reason (administrators, audited)."""
    return jsonify(answer(engine().cases.cancel(case_id, g.actor, reason=body().get("reason", ""))))


@bp.get("/processes")
def processes():
    return jsonify(plain(engine().admin.versions()))


@bp.post("/processes")
def deploy():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidRequest("send the BPMN file as multipart field 'file'", code="no_file")
    return jsonify(plain(engine().admin.deploy(upload.read(), upload.filename, g.actor))), 201


@bp.get("/compliance/conformance")
def conformance():
    """A-2: the conformance of the cases of a selection (fitness per version and month, deviations)."""
    return jsonify(plain(engine().compliance.summary(g.actor, Selection.parse(request.args))))


@bp.get("/compliance/cases/<int:case_id>")
def case_conformance(case_id):
    """A-2: one case against the versions it ran on: fits, deviations with time and actor, overrides."""
    return jsonify(plain(engine().compliance.case(case_id, g.actor)))


@bp.get("/compliance/adherence")
def adherence():
    """A-2: deadline adherence (及时率) per rule, process version, department and month; the missed deadlines."""
    return jsonify(plain(engine().compliance.adherence(g.actor, Selection.parse(request.args))))


@bp.get("/compliance/export.<fmt>")
def export_log(fmt):
    """A-3: the event log of a selection as XES or CSV, as a download."""
    content = engine().compliance.export(g.actor, Selection.parse(request.args), fmt)
    kind = {"xes": "application/xml", "csv": "text/csv"}[fmt]
    return current_app.response_class(content, mimetype=kind, headers={
        "Content-Disposition": f"attachment; filename=complaints.{fmt}"})


@bp.post("/compliance/logs")
def check_log():
    """A-2: check another system's event log (multipart file; CSV column mapping in the form) against a version."""
    upload, form = request.files.get("file"), request.form
    if upload is None or not upload.filename:
        raise InvalidRequest("send the log as multipart field 'file'", code="no_file")
    try:
        version = int(form.get("version", ""))
    except ValueError:
        raise InvalidRequest("version must be a whole number", code="invalid_version") from None
    fmt = form.get("format") or ("xes" if upload.filename.lower().endswith(".xes") else "csv")
    mapping = {f: form.get(f"{f}_column", default) for f, default in (
        ("case", "case_id"), ("activity", "activity"), ("timestamp", "timestamp"), ("resource", "resource"),
        ("transition", None))}
    return jsonify(plain(engine().compliance.check_log(
        g.actor, upload.read(), fmt, form.get("process_key", ""), version, mapping, form.get("match", "either"),
        form.get("closed") in ("1", "true", "on"))))
def drill_args(args) -> dict:
    """Return the drill-down filter of a query string: the known keys, 'true'/'false' as booleans."""
    return {k: {"true": True, "false": False}.get(v, v) for k, v in args.items() if k in DRILL_KEYS}


@bp.get(f"/reports/<{REPORT_ROUTE}:key>")
def report(key):
    args = request.args
    return jsonify(plain(engine().reports.report(key, args.get("period", ""), g.actor, args.get("department"))))


@bp.get(f"/reports/<{REPORT_ROUTE}:key>/cases")
def report_cases(key):
    args = request.args
    found = engine().reports.cases(key, args.get("period", ""), g.actor, drill_args(args), args.get("department"))
    return jsonify(plain(found))


@bp.get(f"/reports/<{REPORT_ROUTE}:key>/export/<fmt>")
def report_export(key, fmt):
    args = request.args
    data = engine().reports.export(key, args.get("period", ""), g.actor, fmt, args.get("department"))
    name = file_name(key, args.get("period", ""), args.get("department"), fmt)
    # A name beyond ASCII (a unit key in Chinese) goes as filename*= (RFC 6266): a raw header cannot carry it.
    disposition = f'attachment; filename="{name}"' if name.isascii() else f"attachment; filename*=UTF-8''{quote(name)}"
    return Response(data, mimetype=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


@bp.post("/reports/typical")
def pick_typical():
    data = body()
    if not isinstance(data.get("case_id"), int) or not isinstance(data.get("period"), str):
        raise InvalidRequest("give period (YYYY-Www) and case_id (a number)", code="bad_body")
    picked = engine().reports.pick_typical(data["period"], data["case_id"], str(data.get("note", "")), g.actor)
    return jsonify(picked=picked), 201 if picked else 200


@bp.delete("/reports/typical/<period>/<int:case_id>")
def unpick_typical(period, case_id):
    return jsonify(unpicked=engine().reports.unpick_typical(period, case_id, g.actor))


@bp.get("/mail")
def mail_outbox():
    state = request.args.get("state")
    if state not in (None, "pending", "sent", "dead"):
        raise InvalidRequest("state is pending, sent or dead", code="bad_state")
    return jsonify(plain(engine().reports.outbox(g.actor, state)))


@bp.post("/mail/<int:mail_id>/resend")
def mail_resend(mail_id):
    return jsonify(plain(engine().reports.resend(mail_id, g.actor)))
