"""Read a posted HTML form as the values of a form drawn in the BPMN."""

from __future__ import annotations

import re
from typing import Any, Callable

from flask_babel import gettext as _

# The engine's field errors (engine/bpmn/forms.py, engine/services/organisation.py) stay English for API
# clients; the UI translates them here, numbers and names carried over as parameters.
PARAMETERISED: list[tuple[re.Pattern, Callable[..., str]]] = [
    (re.compile(r"must be at least (?P<n>\S+) characters"), lambda n: _("must be at least %(n)s characters", n=n)),
    (re.compile(r"must be at most (?P<n>\S+) characters"), lambda n: _("must be at most %(n)s characters", n=n)),
    (re.compile(r"must be at least (?P<n>\S+)"), lambda n: _("must be at least %(n)s", n=n)),
    (re.compile(r"must be at most (?P<n>\S+)"), lambda n: _("must be at most %(n)s", n=n)),
    (re.compile(r"must match (?P<pattern>.+)"), lambda pattern: _("must match %(pattern)s", pattern=pattern)),
    (re.compile(r"must be one of (?P<options>.+)"), lambda options: _("must be one of %(options)s", options=options)),
    (re.compile(r"unknown group: (?P<groups>.+)"), lambda groups: _("unknown group: %(groups)s", groups=groups)),
]


def read(fields: list[dict[str, Any]], posted) -> dict[str, Any]:
    """Return the posted values of ``fields``: an unticked box is false, read-only fields are left out."""
    values: dict[str, Any] = {}
    for field in fields:
        fid = field["id"]
        if field["constraints"].get("readonly"):
            continue
        if field["type"] == "boolean":
            values[fid] = "true" if posted.get(fid) in ("true", "on", "1") else "false"
        elif fid in posted:
            values[fid] = posted.get(fid, "")
    return values


def defaults(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the default value of every field that has one, as the widgets show them."""
    return {f["id"]: f["default"] for f in fields if f.get("default") is not None}


def error_text(message: str) -> str:
    """Return an engine field error in the UI's language (unknown messages as they are)."""
    for pattern, translate in PARAMETERISED:
        found = pattern.fullmatch(message)
        if found:
            return translate(**found.groupdict())
    return _(message)
