"""JSON API: start cases, list, claim and complete tasks, read cases, deploy; bearer token or session."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized
from wtforms import ValidationError

from engine.services import Actor, InvalidRequest

from . import present
from .auth import check_password, engine
from .openapi import document
from .tasks import inbox_filters

bp = Blueprint("api", __name__, url_prefix="/api")
PUBLIC = {"api.token", "api.openapi"}


def signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


@bp.before_request
def authenticate():
    """Take the actor from a bearer token, else from the browser session (whose writes need the CSRF token)."""
    if request.endpoint in PUBLIC:
        return
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            username = signer().loads(header[7:], max_age=current_app.config["API_TOKEN_MAX_AGE"])
        except BadSignature:
            raise Unauthorized("invalid or expired token") from None
        account = engine().account(username)
        if account is None:
            raise Unauthorized("the token's user is inactive")
        g.actor = Actor(username, frozenset(account["groups"]))
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


def case_json(case_id: int) -> dict:
    detail = engine().case_for(case_id, g.actor)
    return present.case(detail, engine().clock(), engine().executed_path(case_id),
                        engine().ledger_entries(case_id=case_id))


@bp.post("/token")
def token():
    data = body()
    account = check_password(str(data.get("username", "")), str(data.get("password", "")))
    if account is None:
        raise Unauthorized("unknown user or wrong password")
    return jsonify(token=signer().dumps(account["username"]), username=account["username"],
                   groups=account["groups"], expires_in=current_app.config["API_TOKEN_MAX_AGE"])


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())


@bp.get("/tasks")
def tasks():
    now = engine().clock()
    return jsonify([present.task(t, now) for t in engine().inbox(g.actor, **inbox_filters(request.args))])


@bp.get("/tasks/<task_id>")
def task(task_id):
    return jsonify(present.task(engine().task_for(task_id, g.actor), engine().clock()))


@bp.post("/tasks/<task_id>/claim")
def claim(task_id):
    engine().claim(task_id, g.actor)
    return jsonify(present.task(engine().task_for(task_id, g.actor), engine().clock()))


@bp.post("/tasks/<task_id>/unclaim")
def unclaim(task_id):
    engine().unclaim(task_id, g.actor)
    return jsonify(present.task(engine().task_for(task_id, g.actor), engine().clock()))


@bp.post("/tasks/<task_id>/complete")
def complete(task_id):
    data = body().get("data", {})
    if not isinstance(data, dict):
        raise InvalidRequest("data must be a JSON object")
    ref = engine().complete(task_id, data, g.actor)
    return jsonify(case_json(ref.id))


@bp.post("/cases")
def start_case():
    data = body()
    if not isinstance(data.get("process_key"), str) or not isinstance(data.get("data", {}), dict):
        raise InvalidRequest("give process_key (text) and data (an object)")
    ref = engine().start_case(data["process_key"], data.get("data", {}), g.actor)
    return jsonify(case_json(ref.id)), 201


@bp.get("/cases/<int:case_id>")
def case(case_id):
    return jsonify(case_json(case_id))


@bp.get("/processes")
def processes():
    counts = engine().running_counts()
    return jsonify([dict(v, running=counts.get(v["id"], 0)) for v in engine().versions()])


@bp.post("/processes")
def deploy():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InvalidRequest("send the BPMN file as multipart field 'file'")
    deployed = engine().deploy(upload.read(), upload.filename, g.actor)
    return jsonify([v.__dict__ for v in deployed]), 201
