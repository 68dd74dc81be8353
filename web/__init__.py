"""Flask web app: the staff UI (inbox, tasks, intake, cases, admin) and the JSON API on the engine's services."""

from __future__ import annotations

import os
import secrets

from flask import Flask, g, jsonify
from flask_wtf.csrf import CSRFProtect

from engine.app import build_engine
from engine.settings import Settings

from werkzeug.local import LocalProxy

from . import admin, api, auth, cases, compliance, errors, i18n, repair, reports, roles, security, tasks
from .labels import labels

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Flask app on the engine configured by the environment (or ``test_config``)."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=None,
        SECRET_KEY=os.environ.get("COMPLAINTS_SECRET_KEY") or secrets.token_hex(32),
        # Bearer tokens carry the groups they were issued with: short-lived, so a change of groups soon applies.
        API_TOKEN_MAX_AGE=int(os.environ.get("COMPLAINTS_API_TOKEN_MAX_AGE", 15 * 60)),
        SQL_COUNTS=os.environ.get("COMPLAINTS_SQL_COUNTS") == "1",
        BABEL_DEFAULT_LOCALE="zh_CN",
        FRONTEND_DIR=os.path.join(os.path.dirname(__file__), "frontend", "node_modules"),
        MAX_CONTENT_LENGTH=int(os.environ.get("COMPLAINTS_MAX_CONTENT_LENGTH", security.MAX_CONTENT_LENGTH)),
        # A browser session ends at sign-out or after this many hours, whichever comes first (web_session).
        SESSION_HOURS=float(os.environ.get("COMPLAINTS_SESSION_HOURS", 12)),
    )
    if test_config:
        app.config.update(test_config)
    engine = app.config.get("ENGINE") or build_engine(Settings.from_env(), app.config["DATABASE_URL"])
    app.extensions["engine"] = engine
    security.init_app(app)
    csrf.init_app(app)
    csrf.exempt(api.bp)        # the API checks the CSRF token itself when a browser session is its credential
    auth.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    for blueprint in (auth.bp, tasks.bp, cases.bp, admin.bp, compliance.bp, roles.bp, repair.bp, reports.bp, api.bp):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["lb"] = LocalProxy(labels)     # the labels of this request (web/labels.py)
    if app.config["SQL_COUNTS"]:
        count_sql(app, engine)

    @app.get("/health")
    def health():
        found = engine.reads.health()
        holidays = found["holidays"]
        warnings = [f"statutory holidays are known until {holidays.statutory_until}; no override is entered for "
                    f"{holidays.next_year}: enter the State Council's notice at /admin/calendar"] if holidays.due else []
        return jsonify(status="ok", processes=found["processes"], versions=found["versions"],
                       holidays_known_until=holidays.statutory_until.isoformat(),
                       overrides_next_year=holidays.overrides_next_year, warnings=warnings)

    return app


def count_sql(app: Flask, engine) -> None:
    """Tell in each response what answering it sent to the database (X-SQL-Statements, -Transactions, -Commits)."""
    counter = engine.sql_counter()

    @app.before_request
    def _start():
        g.sql_counting = counter.counting()
        g.sql_tally = g.sql_counting.__enter__()

    @app.after_request
    def _report(response):
        tally = g.pop("sql_tally", None)
        if tally is not None:
            g.pop("sql_counting").__exit__(None, None, None)
            response.headers["X-SQL-Statements"] = str(tally.statements)
            response.headers["X-SQL-Transactions"] = str(tally.transactions)
            response.headers["X-SQL-Commits"] = str(tally.commits)
        return response
