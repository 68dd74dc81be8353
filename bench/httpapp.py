"""The web app ``bench.http`` serves with gunicorn: the product's ``create_app`` plus the bench's ``bench_noop`` topic."""

from __future__ import annotations

from engine.app import build_engine
from engine.settings import Settings
from engine.topics import default_registry
from web import create_app

from .workload import bench_noop


def create():
    """Return the product's Flask app on ``$DATABASE_URL`` with the shipped topics and ``bench_noop``."""
    settings = Settings.from_env()
    topics = default_registry(settings)
    topics.add("bench_noop", bench_noop)
    return create_app({"ENGINE": build_engine(settings, topics=topics)})
