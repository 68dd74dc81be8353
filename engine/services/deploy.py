"""Deploy BPMN files as numbered versions of their process keys."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..bpmn import BpmnFileError, inspect_file
from ..store import rows
from ..store.models import ProcessVersion
from .core import Actor, Core, calendar_functions
from .errors import ConcurrentUpdate, DeploymentRefused

__all__ = ["DeployedVersion", "deploy_file"]


@dataclass(frozen=True)
class DeployedVersion:
    key: str
    version: int
    version_id: int
    sha256: str
    created: bool           # False: identical content was already the latest version


def deploy_file(core: Core, session: Session, content: bytes, file_name: str, actor: Actor,
                now: datetime) -> list[DeployedVersion]:
    """Validate a BPMN file and store each process in it as a new version; identical content is a no-op."""
    core.policy.require(actor, "deploy", "deploy processes")
    if not file_name or len(file_name) > 200 or any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in file_name):
        raise DeploymentRefused("the file name must be 1 to 200 characters of text", file_name[:200].replace(
            "\x00", "?"), None, None)
    sha = hashlib.sha256(content).hexdigest()
    latest = rows.latest_versions(session)

    def deployed_xml(key: str) -> bytes | None:
        return session.scalar(select(ProcessVersion.xml).where(ProcessVersion.id == latest[key].id)) \
            if key in latest else None

    try:
        info = inspect_file(content, file_name, deployed_xml, core.topics.has,
                            calendar_functions(core.calendar(session), now), core.topics.sets)
    except BpmnFileError as exc:
        raise DeploymentRefused(str(exc), exc.file_name, exc.line, exc.element_id) from exc
    existing = [latest.get(key) for key in info.process_ids]
    if all(row is not None and row.sha256 == sha for row in existing):
        return [DeployedVersion(r.key, r.version, r.id, sha, False) for r in existing]
    result = []
    for key in info.process_ids:
        version = latest[key].version + 1 if key in latest else 1
        try:
            with session.begin_nested():
                vid = session.execute(insert(ProcessVersion).returning(ProcessVersion.id), {
                    "key": key, "version": version, "name": info.names[key], "file_name": file_name,
                    "xml": content, "sha256": sha, "calls": sorted(info.calls), "deployed_by": actor.username,
                    "deployed_at": now,
                }).scalar_one()
        except IntegrityError as exc:
            raise ConcurrentUpdate(f"process {key!r} version {version} was deployed at the same time",
                                   process_key=key, version=version) from exc
        result.append(DeployedVersion(key, version, vid, sha, True))
    return result

