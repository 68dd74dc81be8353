"""Forms drawn in the modeller (``camunda:formData``): the field model and its validation.

A form is a list of plain dicts so that it can be stored in a task row as JSON
and rendered by any user interface without touching SpiffWorkflow objects.
"""

from __future__ import annotations

import math
import re

import re2
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date
from functools import lru_cache
from typing import Any

from lxml import etree

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FIELD_TYPES = {"string", "text", "long", "double", "boolean", "date", "enum"}
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
CONSTRAINTS = {"required", "minlength", "maxlength", "min", "max", "pattern", "readonly"}
TODAY = "today"                     # the config of a date field's min or max meaning the day of submission


# English text of each field error code; user interfaces translate the code with its parameters.
MESSAGES = {
    "not_a_field": "is not a field of this form", "read_only": "is read-only", "required": "is required",
    "text": "must be text", "whole_number": "must be a whole number", "number": "must be a number",
    "boolean": "must be true or false", "date": "must be a date (YYYY-MM-DD)", "one_of": "must be one of {options}",
    "min_length": "must be at least {n} characters", "max_length": "must be at most {n} characters",
    "min": "must be at least {n}", "max": "must be at most {n}", "pattern": "must match {pattern}",
    "date_min": "must be on or after {date}", "date_max": "must be on or before {date}",
    "unknown_group": "unknown group: {groups}", "not_a_person": "is not a person of the organisation",
    "taken": "is taken", "not_a_unit": "is not a unit",
    "long_range": "must be a whole number of at most 19 digits (a 64-bit long)",
    "reserved": "is a name the process's expressions use ({name}) and cannot be case data",
    "unknown_person": "is nobody of the organisation: {value}",
    "not_a_candidate": "may not work on this task (not in its groups): {value}",
}


@dataclass(frozen=True)
class FieldError:
    """Why one field's value is refused: a code of ``MESSAGES`` and the parameters its message names."""

    code: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    @property
    def message(self) -> str:
        return MESSAGES.get(self.code, self.code).format(**self.params)

    def __str__(self) -> str:
        return self.message


class _Refused(ValueError):
    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.error = FieldError(code, params)


class FormDefinitionError(ValueError):
    """A form drawn in the BPMN is itself invalid (unknown type, bad constraint)."""


def _c(tag: str) -> str:
    return f"{{{CAMUNDA}}}{tag}"


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str):
    """Compile a form pattern with RE2 (linear time: no catastrophic backtracking, no backreferences)."""
    return re2.compile(pattern, _RE2_OPTIONS)


def parse_form(node: etree._Element) -> list[dict[str, Any]]:
    """Read the ``camunda:formData`` fields of a user task node."""
    fields = []
    for xml_field in node.iterfind(f"{{{BPMN}}}extensionElements/{_c('formData')}/{_c('formField')}"):
        field_id = xml_field.get("id")
        field_type = xml_field.get("type")
        if not field_id:
            raise FormDefinitionError("a form field has no id")
        if not field_type:
            raise FormDefinitionError(f"form field {field_id!r} has no type; choose one of "
                                      f"{', '.join(sorted(FIELD_TYPES))} (docs/bpmn-dialect.md)")
        if field_type not in FIELD_TYPES:
            raise FormDefinitionError(f"form field {field_id!r} has unknown type {field_type!r}; the types are "
                                      f"{', '.join(sorted(FIELD_TYPES))} (docs/bpmn-dialect.md)")
        constraints: dict[str, Any] = {}
        for constraint in xml_field.iterfind(f"{_c('validation')}/{_c('constraint')}"):
            name = constraint.get("name")
            if name not in CONSTRAINTS:
                raise FormDefinitionError(f"form field {field_id!r} has unknown constraint {name!r}")
            constraints[name] = _constraint_value(field_id, field_type, name, constraint.get("config"))
        props = _properties(xml_field)
        field = {
            "id": field_id,
            "label": xml_field.get("label") or field_id,
            **({"label_en": props["label_en"]} if props.get("label_en") else {}),
            "type": field_type,
            "default": xml_field.get("defaultValue"),
            "constraints": constraints,
            # camunda:property kind=person: the value names a person of the organisation (I-5, S-6).
            **({"kind": "person"} if props.get("kind") == "person" else {}),
            "options": [
                {"id": v.get("id"), "name": v.get("name") or v.get("id"),
                 **({"name_en": props[f"value_en:{v.get('id')}"]} if props.get(f"value_en:{v.get('id')}") else {})}
                for v in xml_field.iterfind(_c("value"))
            ],
        }
        strays = {k.removeprefix("value_en:") for k in props if k.startswith("value_en:")} - {
            o["id"] for o in field["options"]}
        if strays:
            raise FormDefinitionError(f"form field {field_id!r} has English names for values it does not have: "
                                      f"{', '.join(sorted(strays))}")
        if field_type == "enum" and (not field["options"] or not all(o["id"] for o in field["options"])):
            raise FormDefinitionError(f"enum field {field_id!r} needs values, each with an id (camunda:value)")
        if field_type != "enum" and field["options"]:
            raise FormDefinitionError(f"field {field_id!r} of type {field_type} has enum values")
        if field["default"] is not None and not _blank(field["default"]):
            try:
                _check_constraints(field, _coerce(field, field["default"]))
            except _Refused as exc:
                raise FormDefinitionError(f"the default {field['default']!r} of field {field_id!r} "
                                          f"{exc.error.message}") from None
        fields.append(field)
    return fields


def _properties(xml_field: etree._Element) -> dict[str, str]:
    """Return a field's ``camunda:property`` values by id (Camunda Modeler's form field properties; name also read).

    ``label_en`` is the field's English label, ``value_en:<value id>`` an enum value's English name,
    ``kind=person`` marks a person field.
    """
    return {key: prop.get("value") or "" for prop in xml_field.iterfind(f"{_c('properties')}/{_c('property')}")
            if (key := prop.get("id") or prop.get("name"))}


def _constraint_value(field_id: str, field_type: str, name: str, config: str | None) -> Any:
    if name in {"required", "readonly"}:
        return True
    if config is None:
        raise FormDefinitionError(f"constraint {name!r} of field {field_id!r} needs a config value")
    if field_type == "date" and name in {"min", "max"}:
        # A date's bound is a date or "today", the business calendar's date when the form is submitted
        # (I-1: a complaint is not received after it is registered).
        if config != TODAY:
            try:
                date.fromisoformat(config)
            except ValueError:
                raise FormDefinitionError(f"constraint {name!r} of date field {field_id!r} is neither a date "
                                          f"(YYYY-MM-DD) nor {TODAY!r}: {config!r}") from None
        return config
    if name == "pattern":
        try:
            compile_pattern(config)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise FormDefinitionError(f"pattern of field {field_id!r} is not an RE2 regular expression "
                                      f"(no backreferences or lookarounds): {reason}") from exc
        return config
    try:
        return float(config) if name in {"min", "max"} else int(config)
    except ValueError as exc:
        raise FormDefinitionError(f"constraint {name!r} of field {field_id!r} is not a number: {config!r}") from exc


def _coerce(field: dict[str, Any], raw: Any) -> Any:
    kind = field["type"]
    if kind in {"string", "text"}:
        if not isinstance(raw, str):
            raise _Refused("text")
        return raw
    if kind == "long":
        if isinstance(raw, bool):
            raise _Refused("whole_number")
        if isinstance(raw, str) and re.fullmatch(r"[+-]?\d+", raw.strip()):
            if len(raw.strip()) > 20:
                raise _Refused("long_range")
            raw = int(raw)
        if isinstance(raw, int):
            if not LONG_MIN <= raw <= LONG_MAX:        # Camunda's long is Java's: 64 bits
                raise _Refused("long_range")
            return raw
        raise _Refused("whole_number")
    if kind == "double":
        if isinstance(raw, bool):
            raise _Refused("number")
        try:
            value = float(raw)
        except (TypeError, ValueError, OverflowError):
            raise _Refused("number") from None
        if not math.isfinite(value):
            raise _Refused("number")
        return value
    if kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in {"true", "false", "on", "off", "1", "0", "yes", "no"}:
            return raw.lower() in {"true", "on", "1", "yes"}
        raise _Refused("boolean")
    if kind == "date":
        try:
            return date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            raise _Refused("date") from None
    if kind == "enum":
        allowed = [o["id"] for o in field["options"]]
        if raw not in allowed:
            raise _Refused("one_of", options=", ".join(allowed))
        return raw
    raise ValueError(f"unknown field type {kind}")


def _check_constraints(field: dict[str, Any], value: Any, today: date | None = None) -> None:
    c = field["constraints"]
    if field["type"] == "date":
        # ISO dates compare as text; "today" without a day of submission (a drawn default) is not checked.
        def bound(name: str) -> str | None:
            if c.get(name) != TODAY:
                return c.get(name)
            return today.isoformat() if today is not None else None

        low, high = bound("min"), bound("max")
        if low is not None and value < low:
            raise _Refused("date_min", date=low)
        if high is not None and value > high:
            raise _Refused("date_max", date=high)
        return
    if isinstance(value, str):
        if "minlength" in c and len(value) < c["minlength"]:
            raise _Refused("min_length", n=c["minlength"])
        if "maxlength" in c and len(value) > c["maxlength"]:
            raise _Refused("max_length", n=c["maxlength"])
        if "pattern" in c and not compile_pattern(c["pattern"]).fullmatch(value):
            raise _Refused("pattern", pattern=c["pattern"])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "min" in c and value < c["min"]:
            raise _Refused("min", n=f"{c['min']:g}")
        if "max" in c and value > c["max"]:
            raise _Refused("max", n=f"{c['max']:g}")


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


def validate(fields: list[dict[str, Any]], submitted: dict[str, Any],
             allow_unknown: bool = False, today: date | None = None) -> tuple[dict[str, Any], dict[str, FieldError]]:
    """Check submitted data against a form; return (clean values, per-field errors).

    ``allow_unknown`` lets keys that are not fields pass unchecked (start data may
    carry more than the intake form shows); they are not in the clean values.
    ``today``: the business calendar's date of submission, for date bounds drawn as "today".
    """
    errors: dict[str, FieldError] = {}
    clean: dict[str, Any] = {}
    known = {f["id"] for f in fields}
    for key in submitted:
        if key not in known and not allow_unknown:
            errors[key] = FieldError("not_a_field")
    for field in fields:
        fid = field["id"]
        if field["constraints"].get("readonly"):
            if fid in submitted:
                errors[fid] = FieldError("read_only")
            continue
        raw = submitted.get(fid)
        if _blank(raw) and not _blank(field.get("default")):
            raw = field["default"]          # an optional field left out takes its drawn default
        if _blank(raw):
            if field["constraints"].get("required") and field["type"] != "boolean":
                errors[fid] = FieldError("required")
            elif field["type"] == "boolean":
                clean[fid] = False
            continue
        try:
            value = _coerce(field, raw)
            _check_constraints(field, value, today)
        except _Refused as exc:
            errors[fid] = exc.error
            continue
        clean[fid] = value
    return (clean, errors) if not errors else ({}, errors)
