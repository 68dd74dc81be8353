"""The organisation as data: units (company, departments, groups, grids, teams, channels), people, who leads whom.

Pure: ``parse_organisation`` checks a plain mapping (a TOML file or database rows) and
answers the questions deduction scoring asks (S-6, S-8): a person's direct leader, their
department and its head, their team, their channel partner. Nothing here does I/O but
``load_organisation``, which reads the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .intake import RuleDataError

KINDS = ("company", "department", "group", "grid", "team", "channel", "external")
# The unit a person's department head is found in (S-1 对应部门主管, S-5 部门或网格).
DEPARTMENT_KINDS = ("department", "grid", "external")


@dataclass(frozen=True)
class Unit:
    """A company, department, group, grid, call-centre team, channel partner or outside body."""

    key: str
    name: str
    kind: str
    parent: str | None = None
    head: str | None = None            # username of the head (部门主管, 组长, 网格负责人, 班长, 渠道老板)
    group: str | None = None           # the BPMN candidate group the unit works as (routing: net_basic, grid_east)
    aliases: tuple[str, ...] = ()      # other names forms use for it (support_department: group_customer)


@dataclass(frozen=True)
class Person:
    """Someone in the organisation: their unit, direct leader and BPMN groups."""

    username: str
    name: str
    unit: str | None = None
    leader: str | None = None
    groups: tuple[str, ...] = ()
    title: str = ""
    password: str | None = None        # only in the file, for demo sign-in; never stored in clear


@dataclass(frozen=True)
class Organisation:
    """Units and people by key, with the walks along the tree scoring needs."""

    units: Mapping[str, Unit]
    people: Mapping[str, Person]

    def company(self) -> Unit:
        """Return the company unit (its KPI is scored, S-1..S-3)."""
        company = next((u for u in self.units.values() if u.kind == "company"), None)
        if company is None:
            raise RuleDataError("the organisation has no unit of kind company (load data/organisation.toml)")
        return company

    def ancestors(self, key: str | None) -> Iterable[Unit]:
        """Yield the unit ``key`` and its parents up to the company."""
        while key is not None:
            unit = self.units[key]
            yield unit
            key = unit.parent

    def nearest(self, key: str | None, kinds: tuple[str, ...]) -> Unit | None:
        return next((u for u in self.ancestors(key) if u.kind in kinds), None)

    def department_of_unit(self, key: str) -> Unit:
        """Return the department, grid or outside body a unit belongs to (the company if none)."""
        return self.nearest(key, DEPARTMENT_KINDS) or self.company()

    def department_of(self, username: str) -> Unit:
        """Return the department, grid or outside body of a person (the company if they have no unit)."""
        person = self.people[username]
        return self.department_of_unit(person.unit) if person.unit else self.company()

    def leader_of(self, username: str) -> str | None:
        """Return the direct leader: the one named, else the head of the person's nearest unit with another head."""
        person = self.people[username]
        if person.leader:
            return person.leader
        return next((u.head for u in self.ancestors(person.unit) if u.head and u.head != username), None)

    def team_of(self, username: str) -> Unit | None:
        """Return the call-centre team of an agent (S-8: the team leader's team)."""
        return self.nearest(self.people[username].unit, ("team",))

    def channel_of(self, username: str) -> Unit | None:
        """Return the channel partner (渠道合作厅) a person works for, if any (S-4)."""
        return self.nearest(self.people[username].unit, ("channel",))

    def unit_for_group(self, group: str | None) -> Unit | None:
        """Return the unit working as a BPMN group (routing's responsible_group, complaint_group)."""
        return next((u for u in self.units.values() if group and u.group == group), None)

    def find_unit(self, text: str | None) -> Unit | None:
        """Return the unit with this key, alias, group or name."""
        if not text:
            return None
        text = str(text).strip()
        for unit in self.units.values():
            if text in (unit.key, unit.name, unit.group) or text in unit.aliases:
                return unit
        return None

    def find_person(self, text: str | None) -> Person | None:
        """Return the person with this username, or the only person with this name."""
        if not text:
            return None
        text = str(text).strip()
        if text in self.people:
            return self.people[text]
        named = [p for p in self.people.values() if p.name == text]
        return named[0] if len(named) == 1 else None


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleDataError(f"{where}: expected a list of names")
    return tuple(value)


def _unit(row: Mapping[str, Any], where: str) -> Unit:
    if not row.get("key") or not row.get("name"):
        raise RuleDataError(f"{where}: a unit needs key and name")
    kind = row.get("kind", "department")
    if kind not in KINDS:
        raise RuleDataError(f"{where}: unit {row['key']} has kind {kind!r}, expected one of {', '.join(KINDS)}")
    return Unit(row["key"], row["name"], kind, row.get("parent") or None, row.get("head") or None,
                row.get("group") or None, _strings(row.get("aliases"), f"{where} aliases"))


def _person(row: Mapping[str, Any], where: str) -> Person:
    if not row.get("username") or not row.get("name"):
        raise RuleDataError(f"{where}: a person needs username and name")
    return Person(row["username"], row["name"], row.get("unit") or None, row.get("leader") or None,
                  _strings(row.get("groups"), f"{where} groups"), row.get("title") or "", row.get("password"))


def parse_organisation(raw: Mapping[str, Any], origin: str = "organisation") -> Organisation:
    """Check units and people (every reference resolves, no cycles, one company at most) and return the model."""
    units: dict[str, Unit] = {}
    for number, row in enumerate(raw.get("unit", []), 1):
        unit = _unit(row, f"{origin}: unit #{number}")
        if unit.key in units:
            raise RuleDataError(f"{origin}: unit {unit.key} is listed twice")
        units[unit.key] = unit
    people: dict[str, Person] = {}
    for number, row in enumerate(raw.get("person", []), 1):
        person = _person(row, f"{origin}: person #{number}")
        if person.username in people:
            raise RuleDataError(f"{origin}: person {person.username} is listed twice")
        people[person.username] = person
    companies = [u.key for u in units.values() if u.kind == "company"]
    if len(companies) > 1:
        raise RuleDataError(f"{origin}: one unit of kind company at most, found {', '.join(companies)}")
    problems = [f"unit {u.key}: parent {u.parent} is not a unit" for u in units.values()
                if u.parent and u.parent not in units]
    problems += [f"unit {u.key}: head {u.head} is not a person" for u in units.values()
                 if u.head and u.head not in people]
    problems += [f"person {p.username}: unit {p.unit} is not a unit" for p in people.values()
                 if p.unit and p.unit not in units]
    problems += [f"person {p.username}: leader {p.leader} is not a person" for p in people.values()
                 if p.leader and p.leader not in people]
    groups = [u.group for u in units.values() if u.group]
    problems += [f"group {g} is the group of more than one unit" for g in sorted(set(groups)) if groups.count(g) > 1]
    if problems:
        raise RuleDataError(f"{origin}: " + "; ".join(problems))
    _refuse_cycles(origin, {u.key: u.parent for u in units.values()}, "unit parents")
    _refuse_cycles(origin, {p.username: p.leader for p in people.values()}, "leaders")
    return Organisation(units, people)


def _refuse_cycles(origin: str, up: Mapping[str, str | None], what: str) -> None:
    for start in up:
        seen, key = set(), start
        while key is not None:
            if key in seen:
                raise RuleDataError(f"{origin}: {what} form a cycle through {key}")
            seen.add(key)
            key = up.get(key)


def read_file(path: Path) -> dict[str, Any]:
    """Return the raw units and people of an organisation file (checked once merged with what is stored)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleDataError(f"{path}: {exc}") from exc


def load_organisation(path: Path) -> Organisation:
    """Read and check a complete organisation file (``data/organisation.toml``)."""
    return parse_organisation(read_file(path), str(path))


def merge(stored: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Return raw units and people of ``stored`` with those of ``changes`` added or replacing them by key."""
    units = {u["key"]: u for u in stored.get("unit", [])}
    units.update({u.get("key"): u for u in changes.get("unit", [])})
    people = {p["username"]: p for p in stored.get("person", [])}
    people.update({p.get("username"): p for p in changes.get("person", [])})
    return {"unit": list(units.values()), "person": list(people.values())}
