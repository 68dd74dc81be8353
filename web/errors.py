"""Domain errors to HTTP codes at the edge: a page for people, JSON for the API; never a bare 500 for them."""

from __future__ import annotations

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine.services import FormInvalid, ServiceError, TaskAlreadyCompleted


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def service_error(exc: ServiceError):
    body = {"error": str(exc), "type": type(exc).__name__}
    if isinstance(exc, FormInvalid):
        body["errors"] = exc.errors
    if isinstance(exc, TaskAlreadyCompleted):
        body.update(task_id=exc.task_id, by=exc.by, state=exc.state)
    if _wants_json():
        return jsonify(body), exc.status
    return render_template("error.html", status=exc.status, error=body), exc.status


def http_error(exc: HTTPException):
    if _wants_json():
        return jsonify(error=exc.description, type=exc.name), exc.code
    return render_template("error.html", status=exc.code, error={"error": exc.description, "type": exc.name}), exc.code


def init_app(app) -> None:
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(HTTPException, http_error)
