"""Flask web app: the staff UI comes with its own issue; for now the health page and process list."""

from __future__ import annotations

from flask import Flask, jsonify
from sqlalchemy import text

from engine.app import build_engine


def create_app(test_config: dict | None = None) -> Flask:
    """Create the Flask app on the engine configured by the environment (or ``test_config``)."""
    app = Flask(__name__)
    app.config.from_mapping(DATABASE_URL=None)
    if test_config:
        app.config.update(test_config)
    engine = app.config.get("ENGINE") or build_engine(app.config["DATABASE_URL"])
    app.extensions["engine"] = engine

    @app.get("/health")
    def health():
        with engine.db.transaction(write=False) as session:
            session.execute(text("select 1"))
        versions = engine.versions()
        return jsonify(status="ok", processes=sorted({v["key"] for v in versions}), versions=len(versions))

    @app.get("/")
    def index():
        rows = "".join(f"<li>{v['key']} v{v['version']} — {v['name']}</li>" for v in engine.versions())
        return (f"<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>投诉处理 Complaints</title>"
                f"<h1>投诉处理系统 Complaint handling</h1><p>已部署流程 Deployed processes:</p><ul>{rows}</ul>")

    return app
