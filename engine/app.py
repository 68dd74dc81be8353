"""Assemble the engine for an installation: database from the environment, topics, calendar; load people."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from .services import Clock, ProcessEngine, TopicRegistry, system_clock
from .store.db import Database


def default_topics() -> TopicRegistry:
    """Return the registry of the service-task handlers this installation ships."""
    from .topics import default_registry

    return default_registry()


def build_engine(url: str | None = None, clock: Clock | None = None, topics: TopicRegistry | None = None) -> ProcessEngine:
    """Return a ProcessEngine on ``url`` (or ``$DATABASE_URL``) with the shipped topics."""
    return ProcessEngine(Database(url), clock or system_clock, topics or default_topics())


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
        engine.add_user(person["username"], person["name"], list(person["groups"]),
                        generate_password_hash(password) if password else None, person.get("locale", "zh_CN"))
        loaded.append({"username": person["username"], "groups": sorted(person["groups"])})
    return loaded


def serve(host: str, port: int) -> None:
    """Run the web app and one scheduler process side by side until interrupted."""
    env = dict(os.environ)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)     # `kill` stops the children too, not only this supervisor
    children = [
        subprocess.Popen([sys.executable, "-m", "engine.cli", "scheduler"], env=env),
        subprocess.Popen([sys.executable, "-m", "web", "--host", host, "--port", str(port)], env=env),
    ]
    try:
        while all(child.poll() is None for child in children):
            try:
                children[1].wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            child.wait(timeout=10)
