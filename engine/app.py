"""Assemble the engine for an installation from its settings, load people, and run the processes of a site.

Two ways to run it: ``make run`` (``complaints serve``: one web process and
one scheduler on SQLite) and ``make serve`` (``complaints serve --workers N
--schedulers M``: gunicorn with N workers and M scheduler processes, on the
PostgreSQL of ``DATABASE_URL``).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .services import Clock, OffsetClock, ProcessEngine, TopicRegistry, system_clock
from .settings import Settings
from .store.db import Database


def build_engine(settings: Settings, url: str | None = None, clock: Clock | None = None,
                 topics: TopicRegistry | None = None) -> ProcessEngine:
    """Return a ProcessEngine on ``url`` (or ``$DATABASE_URL``) with the shipped topics bound to ``settings``."""
    from .topics import default_registry

    if clock is None:
        clock = OffsetClock(settings.clock_file) if settings.clock_file else system_clock
    return ProcessEngine(Database(url), clock, topics or default_registry(settings), settings=settings)


def load_users(engine: ProcessEngine, path: Path) -> list[dict[str, Any]]:
    """Create or update the people of a JSON file: ``[{"username", "name", "groups", "password"?}]``."""
    from werkzeug.security import generate_password_hash

    people = json.loads(path.read_text(encoding="utf-8"))
    loaded = []
    for person in people:
        missing = [k for k in ("username", "name", "groups") if k not in person]
        if missing:
            raise ValueError(f"{path}: person {person!r} lacks {', '.join(missing)}")
        password = person.get("password")
        engine.accounts.add_user(person["username"], person["name"], list(person["groups"]),
                                 generate_password_hash(password) if password else None, person.get("locale", "zh_CN"))
        loaded.append({"username": person["username"], "groups": sorted(person["groups"])})
    return loaded


def serve_commands(host: str, port: int, workers: int, schedulers: int, interval: float) -> list[list[str]]:
    """Return the processes of a site: ``schedulers`` scheduler processes and the web server.

    One worker is Werkzeug's threaded server; several are gunicorn's sync workers
    on ``web:create_app()``, each building its own engine (and connection pool) after the fork.
    """
    scheduler = [sys.executable, "-m", "engine.cli", "scheduler", "--interval", str(interval)]
    if workers <= 1:
        web = [sys.executable, "-m", "web", "--host", host, "--port", str(port)]
    else:
        web = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"{host}:{port}",
               "--access-logfile", "-", "web:create_app()"]
    return [scheduler] * schedulers + [web]


def serve(host: str, port: int, workers: int = 1, schedulers: int = 1, interval: float = 5.0) -> None:
    """Run the web server and the schedulers side by side until interrupted or one of them stops."""
    env = dict(os.environ)
    # Every worker must sign and check tokens and cookies with the same key.
    env.setdefault("COMPLAINTS_SECRET_KEY", secrets.token_hex(32))

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)     # `kill` stops the children too, not only this supervisor
    children = [subprocess.Popen(command, env=env) for command in serve_commands(host, port, workers, schedulers,
                                                                                 interval)]
    try:
        while all(child.poll() is None for child in children):
            try:
                children[-1].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(timeout=30)
