"""Administration, for process owners and administrators: deploy versions, the organisation, the schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ..store.migrate import upgrade
from ..store.models import Case, ProcessVersion
from . import deploy, organisation
from .convert import version_view
from .core import CLOSED, SYSTEM, Actor, Core
from .deploy import DeployedVersion
from .errors import NotFound
from .views import VersionView

__all__ = ["AdminService", "DeployedVersion"]


class AdminService:
    """Deploy BPMN files, list versions, load and edit the organisation; one transaction per call."""

    def __init__(self, core: Core):
        self._core = core

    def upgrade_schema(self) -> dict[str, str]:
        """Create or upgrade the database schema (Alembic)."""
        upgrade(self._core.db.write_engine)
        return {"database": self._core.db.name, "schema": "upgraded"}

    def deploy(self, content: bytes, file_name: str, actor: Actor = SYSTEM) -> list[DeployedVersion]:
        """Validate a BPMN file and store each of its processes as a new version (identical content: a no-op)."""
        with self._core.db.transaction() as session:
            return deploy.deploy_file(self._core, session, content, file_name, actor, self._core.clock())

    def versions(self, key: str | None = None) -> list[VersionView]:
        """Return deployed versions by key, newest first, with how many of their cases are open."""
        query = select(ProcessVersion).order_by(ProcessVersion.key, ProcessVersion.version.desc())
        if key:
            query = query.where(ProcessVersion.key == key)
        with self._core.db.transaction(write=False) as session:
            running = dict(session.execute(select(Case.version_id, func.count()).where(Case.status.not_in(CLOSED))
                                           .group_by(Case.version_id)).all())
            return [version_view(v, running.get(v.id, 0)) for v in session.scalars(query)]

    def version_xml(self, version_id: int) -> bytes:
        """Return the BPMN file of one deployed version."""
        with self._core.db.transaction(write=False) as session:
            row = session.get(ProcessVersion, version_id)
            if row is None:
                raise NotFound(f"process version {version_id} does not exist", code="version_not_found",
                               version_id=version_id)
            return row.xml

    def load_organisation(self, changes: dict[str, Any], hash_password=None) -> dict[str, Any]:
        """Add or replace the units and people of an organisation mapping (``data/organisation.toml``)."""
        with self._core.db.transaction() as session:
            return organisation.load(session, changes, hash_password or organisation.hash_password)

    def organisation(self) -> dict[str, Any]:
        """Return the units and people as stored now."""
        with self._core.db.transaction(write=False) as session:
            return organisation.describe(organisation.read(session))

    def known_groups(self) -> list[str]:
        """Return the groups someone holds or a unit names."""
        with self._core.db.transaction(write=False) as session:
            return sorted(organisation.known_groups(session))

    def add_person(self, person: dict[str, Any], actor: Actor, hash_password=None) -> None:
        """Add a person; FormInvalid names each bad field and nothing is stored."""
        with self._core.db.transaction() as session:
            organisation.add_person(session, self._core.policy, person, actor,
                                    hash_password or organisation.hash_password)

    def set_groups(self, username: str, groups: list[str], actor: Actor) -> None:
        """Replace a person's groups; unknown groups are refused."""
        with self._core.db.transaction() as session:
            organisation.set_groups(session, self._core.policy, username, groups, actor)
