"""Person fields (I-5, S-6): a value names a person of the organisation, stored as the username."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..bpmn.forms import FieldError
from ..store.models import Account
from . import organisation
from .core import Actor, Core
from .errors import FormInvalid

__all__ = ["named_people", "people_errors"]


def people_errors(core: Core, session: Session, values: dict[str, Any], actor: Actor) -> dict[str, FieldError]:
    """Refuse person fields (``data/fields.toml`` kind ``person``) naming nobody of the organisation: the
    deductions later look these people up (S-6), so a typo must not pass. The actor may name themself (the
    first-ask owner of a case the system starts is the system)."""
    labels = core.field_labels
    named = {key: value for key, value in values.items() if value not in (None, "", actor.username)
             and key in labels and labels[key].kind == "person"}
    if not named:
        return {}
    known = set(session.scalars(select(Account.username).where(Account.username.in_(
        sorted({str(v) for v in named.values()})))))
    return {key: FieldError("unknown_person", {"value": str(value)}) for key, value in named.items()
            if str(value) not in known}


def named_people(session: Session, form: list[dict[str, Any]], clean: dict[str, Any]) -> dict[str, Any]:
    """Check the form's person fields (I-5, S-6): each value names a person of the organisation; store the username.

    Raises FormInvalid naming every field whose value is nobody (or several people) of the organisation.
    """
    fields = [f["id"] for f in form if f.get("kind") == "person" and clean.get(f["id"])]
    if not fields:
        return clean
    org = organisation.read(session)
    found = {fid: org.find_person(clean[fid]) for fid in fields}
    errors = {fid: FieldError("not_a_person") for fid, person in found.items() if person is None}
    if errors:
        raise FormInvalid(errors)
    return {**clean, **{fid: person.username for fid, person in found.items()}}
