"""The web edge: security headers on every answer, session cookies, the request size limit, safe redirects.

- Content-Security-Policy: scripts, styles, images and fetches from this site only (bpmn-js and the pages'
  scripts are static files: no inline script, style or event handler); no plugins, no <base>, forms post
  here, no framing. bpmn-js draws under it (its styles go through the CSSOM, which CSP allows); the browser
  tests fail on any CSP report.
- X-Content-Type-Options nosniff, X-Frame-Options DENY, Referrer-Policy same-origin; HSTS over HTTPS.
- The session cookie is HttpOnly, SameSite=Lax, and Secure whenever the request came over HTTPS (behind a
  TLS proxy: ``COMPLAINTS_PROXY_HOPS`` trusts that many X-Forwarded-For/-Proto hops).
- ``MAX_CONTENT_LENGTH`` (``COMPLAINTS_MAX_CONTENT_LENGTH``, 4 MiB by default, 40 times the largest shipped
  BPMN file): a longer declared body is refused with 413 before anything reads it; a chunked body is cut
  off at the limit by Werkzeug.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# A downloaded file (a deployed BPMN) never runs anything, even if a browser were made to render it.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "same-origin", "Cross-Origin-Opener-Policy": "same-origin"}
MAX_CONTENT_LENGTH = 4 * 1024 * 1024
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def safe_next(target: str | None, fallback: str) -> str:
    """Return ``target`` when it is a path on this site, else ``fallback`` (no open redirect).

    Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so ``/\\t/evil.example``
    and ``/\\\\evil.example`` lead off-site; any control character, space or backslash refuses the target.
    """
    if not target or not target.startswith("/") or any(ch <= " " or ch in "\\\x7f" for ch in target):
        return fallback
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return fallback
    return target


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_app(app: Flask) -> None:
    """Configure cookies and the size limit, add the headers to every answer, trust the proxy hops configured."""
    app.config.update(SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True)
    app.session_interface = SessionInterface()
    hops = int(os.environ.get("COMPLAINTS_PROXY_HOPS", "0"))
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.before_request
    def refuse_long_bodies_and_nul():
        limit = app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge(f"the body may be at most {limit} bytes")
        # The pages' query strings and forms (the API checks its own against the OpenAPI document).
        if request.blueprint != "api":
            posted = request.form.values() if request.mimetype in FORMS else ()
            if any("\x00" in value for values in (request.args.values(), posted) for value in values):
                raise BadRequest("text may not contain NUL characters")

    @app.after_request
    def headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
