"""Read a posted HTML form as the values of a form drawn in the BPMN."""

from __future__ import annotations

from typing import Any


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
