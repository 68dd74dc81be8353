"""The organisation in the database: load units and people (accounts, memberships, places) and read them back."""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..rules.organisation import Organisation, Person, merge, parse_organisation
from ..store.models import Account, Membership, OrgPerson, OrgUnit
from ..bpmn.forms import FieldError
from .core import Actor
from .errors import FormInvalid, NotFound
from .policy import Policy

log = logging.getLogger(__name__)


def stored_raw(session: Session) -> dict[str, Any]:
    """Return the stored units and people in the shape of an organisation file (without passwords)."""
    places = {p.username: p for p in session.scalars(select(OrgPerson))}
    groups: dict[str, list[str]] = {}
    for username, group in session.execute(select(Membership.username, Membership.group_key)):
        groups.setdefault(username, []).append(group)
    people = []
    for account in session.scalars(select(Account).order_by(Account.username)):
        place = places.get(account.username)
        people.append({"username": account.username, "name": account.display_name,
                       "unit": place.unit if place else None, "leader": place.leader if place else None,
                       "title": place.title if place else "", "groups": sorted(groups.get(account.username, []))})
    units = [{"key": u.key, "name": u.name, "kind": u.kind, "parent": u.parent, "head": u.head,
              "group": u.group_key, "aliases": list(u.aliases or [])}
             for u in session.scalars(select(OrgUnit).order_by(OrgUnit.key))]
    return {"unit": units, "person": people}


def read(session: Session) -> Organisation:
    """Return the organisation as stored now (edits since the last load included)."""
    return parse_organisation(stored_raw(session), "stored organisation")


def load(session: Session, changes: Mapping[str, Any], hash_password: Callable[[str], str]) -> dict[str, Any]:
    """Add or replace the units and people of ``changes``; what they do not name is kept.

    The merged organisation is checked as a whole (references, cycles, one company)
    before anything is written; a person's groups become exactly the listed ones.
    """
    org = parse_organisation(merge(stored_raw(session), changes), "organisation after loading")
    unit_keys = [u.get("key") for u in changes.get("unit", [])]
    usernames = [p.get("username") for p in changes.get("person", [])]
    for username in usernames:
        _save_account(session, org.people[username], hash_password)
    # Parents and heads are set once every unit and account exists (foreign keys on both databases).
    for key in unit_keys:
        unit = org.units[key]
        row = session.get(OrgUnit, key) or OrgUnit(key=key)
        row.name, row.kind, row.group_key, row.aliases = unit.name, unit.kind, unit.group, list(unit.aliases)
        row.parent = row.head = None
        session.add(row)
    session.flush()
    for key in unit_keys:
        row, unit = session.get(OrgUnit, key), org.units[key]
        row.parent, row.head = unit.parent, unit.head
    for username in usernames:
        person = org.people[username]
        row = session.get(OrgPerson, username) or OrgPerson(username=username)
        row.unit, row.leader, row.title = person.unit, person.leader, person.title
        session.add(row)
    session.flush()
    return {"units": len(org.units), "people": len(org.people),
            "loaded_units": sorted(unit_keys), "loaded_people": sorted(usernames)}


def _save_account(session: Session, person: Person, hash_password: Callable[[str], str]) -> None:
    password_hash = hash_password(person.password) if person.password else None
    save_account(session, person.username, person.name, person.groups, password_hash)


def save_account(session: Session, username: str, name: str, groups: Iterable[str],
                 password_hash: str | None = None, locale: str | None = None) -> None:
    """Create or update an account (kept password unless a new hash is given) and set its groups."""
    account = session.get(Account, username)
    if account is None:
        session.add(Account(username=username, display_name=name, password_hash=password_hash,
                            locale=locale or "zh_CN", active=True))
    else:
        account.display_name, account.active = name, True
        account.locale = locale or account.locale
        if password_hash:
            account.password_hash = password_hash
    session.flush()
    replace_groups(session, username, groups)


def replace_groups(session: Session, username: str, groups: Iterable[str]) -> None:
    """Make ``username``'s memberships exactly ``groups``."""
    session.execute(delete(Membership).where(Membership.username == username))
    session.add_all(Membership(username=username, group_key=g) for g in sorted(set(groups)))


def known_groups(session: Session) -> set[str]:
    """Return the groups someone holds or a unit names (a new group comes with data/organisation.toml)."""
    held = set(session.scalars(select(Membership.group_key)))
    return held | {g for g in session.scalars(select(OrgUnit.group_key)) if g}


def _group_errors(session: Session, groups: Iterable[str]) -> dict[str, FieldError]:
    unknown = sorted(set(groups) - known_groups(session))
    return {"groups": FieldError("unknown_group", {"groups": ", ".join(unknown)})} if unknown else {}


def add_person(session: Session, policy: Policy, person: Mapping[str, Any], actor: Actor,
               hash_password: Callable[[str], str]) -> None:
    """Add a person (username, name, unit, groups, password) for an administrator; refuse every bad field at once."""
    policy.require(actor, "administer_people", "edit the organisation")
    username, groups = (person.get("username") or "").strip(), list(person.get("groups") or [])
    errors = {key: FieldError("required") for key in ("username", "name", "unit", "password") if not person.get(key)}
    if username and session.get(Account, username) is not None:
        errors["username"] = FieldError("taken")
    if person.get("unit") and session.get(OrgUnit, person["unit"]) is None:
        errors["unit"] = FieldError("not_a_unit")
    errors.update(_group_errors(session, groups))
    if errors:
        raise FormInvalid(errors)
    load(session, {"person": [{"username": username, "name": person["name"], "unit": person["unit"],
                               "groups": groups, "password": person["password"]}]}, hash_password)
    log.info("organisation: %s added person %s (unit %s, groups %s)", actor.username, username, person["unit"],
             ", ".join(sorted(groups)))


def set_groups(session: Session, policy: Policy, username: str, groups: Iterable[str], actor: Actor) -> None:
    """Make a person's groups exactly ``groups`` for an administrator; unknown groups change nothing."""
    policy.require(actor, "administer_people", "edit the organisation")
    groups = sorted(set(groups))
    if session.get(Account, username) is None:
        raise NotFound(f"user {username!r} does not exist", code="user_not_found", username=username)
    errors = _group_errors(session, groups)
    if errors:
        raise FormInvalid(errors)
    before = sorted(session.scalars(select(Membership.group_key).where(Membership.username == username)))
    replace_groups(session, username, groups)
    session.flush()
    log.info("organisation: %s changed the groups of %s from [%s] to [%s]", actor.username, username,
             ", ".join(before), ", ".join(groups))


def describe(org: Organisation) -> dict[str, Any]:
    """Return the organisation as plain data (units with their heads, people with unit, leader, department)."""
    return {
        "units": [{"key": u.key, "name": u.name, "kind": u.kind, "parent": u.parent, "head": u.head,
                   "group": u.group, "aliases": list(u.aliases)} for u in org.units.values()],
        "people": [{"username": p.username, "name": p.name, "unit": p.unit, "leader": org.leader_of(p.username),
                    "department": org.department_of(p.username).key, "groups": list(p.groups), "title": p.title}
                   for p in org.people.values()],
    }


def hash_password(password: str) -> str:
    """Hash a demo password the way the web sign-in checks it."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)
