"""Fixtures of the web tests: the app on a migrated database with the shipped processes and demo organisation."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from engine.services import ProcessEngine
from engine.settings import Settings
from engine.topics import default_registry
from web import create_app

ROOT = Path(__file__).parents[2]
ORGANISATION = tomllib.loads((ROOT / "data" / "organisation.toml").read_text(encoding="utf-8"))
# Called processes first: a deployment refuses a call activity whose process is not deployed yet.
DEPLOY_ORDER = ("crisis", "demand", "escalation", "service_quality", "normal", "rectification")


def fast_hash(password: str) -> str:
    """Hash demo passwords with few rounds: the sign-in check is the real one, only cheaper."""
    return generate_password_hash(password, "pbkdf2:sha256:1000")


def shipped(db, clock) -> ProcessEngine:
    """Return an engine with the shipped topics, processes and demo organisation (real password hashes)."""
    engine = ProcessEngine(db, clock, default_registry(Settings()), cache_instances=False)
    engine.admin.load_organisation(ORGANISATION, hash_password=fast_hash)
    for name in DEPLOY_ORDER:
        engine.admin.deploy((ROOT / "processes" / f"{name}.bpmn").read_bytes(), f"{name}.bpmn")
    return engine


@pytest.fixture
def web_engine(db, clock):
    return shipped(db, clock)


@pytest.fixture
def app(web_engine):
    return create_app({"ENGINE": web_engine, "TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


class AuthActions:
    """Sign in and out of the test client as a demo person."""

    def __init__(self, client):
        self._client = client

    def login(self, username="zhang.intake", password="demo"):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def token(client):
    """Return a function that signs a demo person in and gives their Authorization header."""
    def sign_in(username, password="demo"):
        answer = client.post("/api/token", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.get_json()
        return {"Authorization": f"Bearer {answer.get_json()['token']}"}
    return sign_in
