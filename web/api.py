"""JSON API: start cases, page through and work on tasks, read cases, deploy; bearer token or browser session.

A call costs at most two transactions. The bearer token is signed with the
username and the groups and lives ``API_TOKEN_MAX_AGE`` seconds (15 minutes by
default), so it is checked without a query; a change of groups or a
deactivation applies when the token runs out. Commands answer with the case
and its open tasks from the command's own result; ``?detail=full`` adds the
whole case page (one more read).
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized
from wtforms import ValidationError

from engine.services import Actor, InvalidRequest
from engine.services.serialize import plain

from .auth import engine
from .openapi import document
from .tasks import inbox_filters

bp = Blueprint("api", __name__, url_prefix="/api")
PUBLIC = {"api.token", "api.openapi"}


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


def body() -> dict:
    data = request.get_json(silent=True)
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


@bp.post("/cases")
def start_case():
    data = body()
    if not isinstance(data.get("process_key"), str) or not isinstance(data.get("data", {}), dict):
        raise InvalidRequest("give process_key (text) and data (an object)", code="bad_body")
    return jsonify(answer(engine().cases.start(data["process_key"], data.get("data", {}), g.actor))), 201


@bp.get("/cases/<int:case_id>")
def case(case_id):
    return jsonify(plain(engine().reads.case_page(case_id, g.actor)))


@bp.get("/processes")
def processes():
    return jsonify(plain(engine().admin.versions()))


@bp.post("/processes")
def deploy():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidRequest("send the BPMN file as multipart field 'file'", code="no_file")
    return jsonify(plain(engine().admin.deploy(upload.read(), upload.filename, g.actor))), 201
