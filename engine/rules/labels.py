"""What people read for codes: group names (``data/groups.toml``) and the kinds and labels of case data
(``data/fields.toml``). Pure loaders of tables a process owner edits; see the files for their format."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .intake import RuleDataError, _read

KINDS = {"person", "unit", "money", "group", "category", "list", "rules", "enum", "enum_list", "text", "number",
         "boolean", "date"}


@dataclass(frozen=True)
class FieldLabel:
    """How one data key is shown: its kind, and for computed data its label and value names (zh, en)."""

    key: str
    kind: str | None = None
    name: str | None = None
    name_en: str | None = None
    values: dict[str, tuple[str, str]] = field(default_factory=dict)
    hidden: bool = False
    # A start-form field only one profile's intake asks (telecom's customer segment, tobacco's county bureau):
    # the other profiles' intake forms leave it out. Empty: every profile.
    profiles: tuple[str, ...] = ()


def load_groups(path: Path) -> dict[str, tuple[str, str]]:
    """Return group key -> (Chinese name, English name)."""
    groups: dict[str, tuple[str, str]] = {}
    for number, row in enumerate(_read(path).get("group", []), 1):
        if not row.get("key") or not row.get("name"):
            raise RuleDataError(f"{path}: group #{number} needs key and name")
        groups[row["key"]] = (row["name"], row.get("name_en") or row["name"])
    return groups


def load_fields(path: Path) -> dict[str, FieldLabel]:
    """Return data key -> FieldLabel, in the file's order."""
    fields: dict[str, FieldLabel] = {}
    for number, row in enumerate(_read(path).get("field", []), 1):
        key, kind = row.get("key"), row.get("kind")
        if not key:
            raise RuleDataError(f"{path}: field #{number} needs a key")
        if kind is not None and kind not in KINDS:
            raise RuleDataError(f"{path}: field {key} has unknown kind {kind!r} (one of {', '.join(sorted(KINDS))})")
        values: dict[str, Any] = {}
        for value, names in (row.get("values") or {}).items():
            if not isinstance(names, list) or len(names) != 2:
                raise RuleDataError(f"{path}: value {value} of field {key} needs [Chinese name, English name]")
            values[value] = (names[0], names[1])
        profiles = row.get("profiles", [])
        if not isinstance(profiles, list) or not all(isinstance(p, str) and p for p in profiles):
            raise RuleDataError(f"{path}: profiles of field {key} must be a list of profile names")
        fields[key] = FieldLabel(key, kind, row.get("name"), row.get("name_en") or row.get("name"), values,
                                 bool(row.get("hidden")), tuple(profiles))
    return fields
