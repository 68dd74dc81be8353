"""Flask web app: the staff UI (inbox, tasks, intake, cases, admin) and the JSON API on the engine's services."""

from __future__ import annotations

import os
import secrets

from flask import Flask, jsonify
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import text

from engine.app import build_engine

from . import admin, api, auth, cases, errors, i18n, tasks

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Flask app on the engine configured by the environment (or ``test_config``)."""
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=None,
        SECRET_KEY=os.environ.get("COMPLAINTS_SECRET_KEY") or secrets.token_hex(32),
        API_TOKEN_MAX_AGE=int(os.environ.get("COMPLAINTS_API_TOKEN_MAX_AGE", 8 * 3600)),
        BABEL_DEFAULT_LOCALE="zh_CN",
        FRONTEND_DIR=os.path.join(os.path.dirname(__file__), "frontend", "node_modules"),
    )
    if test_config:
        app.config.update(test_config)
    engine = app.config.get("ENGINE") or build_engine(app.config["DATABASE_URL"])
    app.extensions["engine"] = engine
    csrf.init_app(app)
    csrf.exempt(api.bp)        # the API checks the CSRF token itself when a browser session is its credential
    auth.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    for blueprint in (auth.bp, tasks.bp, cases.bp, admin.bp, api.bp):
        app.register_blueprint(blueprint)

    @app.get("/health")
    def health():
        with engine.db.transaction(write=False) as session:
            session.execute(text("select 1"))
        versions = engine.versions()
        holidays = engine.holiday_coverage()
        warnings = [f"statutory holidays are known until {holidays.statutory_until}; no override is entered for "
                    f"{holidays.next_year}: enter the State Council's notice at /admin/calendar"] if holidays.due else []
        return jsonify(status="ok", processes=sorted({v["key"] for v in versions}), versions=len(versions),
                       holidays_known_until=holidays.statutory_until.isoformat(),
                       overrides_next_year=holidays.overrides_next_year, warnings=warnings)

    return app
