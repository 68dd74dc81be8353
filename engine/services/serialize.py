"""Views and errors as JSON-ready data: one serializer for the JSON API and the command line."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .errors import FieldError, FormInvalid, ServiceError

__all__ = ["amount_text", "error", "plain"]


def amount_text(amount: Decimal) -> str:
    """Return an exact amount without exponent or trailing zeros: 0.0500 -> '0.05', 100.0000 -> '100'."""
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def plain(value: Any) -> Any:
    """Return a view (or a list, tuple, dict of them) as JSON types: instants as ISO 8601, amounts as exact text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return amount_text(value)
    return value


def field_error(err: FieldError) -> dict[str, Any]:
    return {"code": err.code, "params": plain(err.params), "message": err.message}


def error(exc: ServiceError) -> dict[str, Any]:
    """Return an error as the API and the CLI answer it: English message, type, code, params, per-field errors."""
    body = {"error": str(exc), "type": type(exc).__name__, "code": exc.code, "params": plain(exc.params)}
    if isinstance(exc, FormInvalid):
        body["errors"] = {name: field_error(err) for name, err in exc.errors.items()}
    return body
