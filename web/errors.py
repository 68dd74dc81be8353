"""Domain errors to HTTP codes at the edge: a page for people, JSON for the API; never a bare 500 for them."""

from __future__ import annotations

from flask import jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine.services import ServiceError
from engine.services.serialize import error as error_json

from . import messages


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def service_error(exc: ServiceError):
    """Answer the API with code, params and the English message; a person with the page in their language."""
    body = error_json(exc)
    headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else {}
    if _wants_json():
        return jsonify(body), exc.status, headers
    body["text"] = messages.service_error(exc.code, exc.params, str(exc))
    body["errors"] = {name: messages.field_error(err) for name, err in getattr(exc, "errors", {}).items()}
    return render_template("error.html", status=exc.status, error=body), exc.status, headers


def http_error(exc: HTTPException):
    # Keep what the exception tells beside its page: Allow of a 405, WWW-Authenticate of a 401.
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    if _wants_json():
        return jsonify(error=exc.description, type=exc.name, code=exc.name.lower().replace(" ", "_"),
                       params={}), exc.code, headers
    return (render_template("error.html", status=exc.code, error={"error": exc.description, "type": exc.name}),
            exc.code, headers)


def init_app(app) -> None:
    app.register_error_handler(ServiceError, service_error)
    app.register_error_handler(HTTPException, http_error)
