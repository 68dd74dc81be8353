"""Restricted evaluation of the Python expressions and scripts written in BPMN.

Conditions, timer expressions, input parameters and script tasks come from
uploaded BPMN files, so they are code from outside. They are compiled with
RestrictedPython's ``compile_restricted`` (which refuses names and attributes
starting with ``_`` at compile time) and run with its guards: no ``import``,
no ``open``, no ``__import__``, no ``str.format`` attribute walks.

Camunda Modeler habits are accepted: ``${expr}`` is unwrapped, and an ISO 8601
literal written without quotes (``PT2H``, ``R/PT1H``, ``2026-01-01T09:00+08:00``)
is the string itself.
"""

from __future__ import annotations

import math
import operator
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from types import CodeType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)


class SandboxError(Exception):
    """An expression or script broke a sandbox rule or does not compile."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


_WRAPPED = re.compile(r"^\s*\$\{(.*)\}\s*$", re.S)
_DURATION = r"P(?=\d|T\d)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+W)?(\d+(\.\d+)?D)?(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?"
_DATETIME = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"
_ISO_LITERAL = re.compile(
    rf"^(R\d*/)?({_DURATION}|{_DATETIME})(/({_DURATION}|{_DATETIME}))?$", re.I
)


def normalize(source: str) -> str:
    """Return the Python source of a BPMN expression (``${...}`` unwrapped, ISO literals quoted)."""
    text = source.strip()
    match = _WRAPPED.match(text)
    if match:
        text = match.group(1).strip()
    if _ISO_LITERAL.match(text):
        return repr(text)
    return text


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    ops = {
        "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
        "/=": operator.itruediv, "//=": operator.ifloordiv, "%=": operator.imod,
        "**=": operator.ipow, "|=": operator.ior, "&=": operator.iand,
    }
    if op not in ops:
        raise SandboxError(f"operator {op} is not allowed in BPMN scripts")
    return ops[op](x, y)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _refused(name: str):
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise SandboxError(f"{name} is not allowed in BPMN expressions")

    return refuse


def _builtins() -> dict[str, Any]:
    allowed = {k: v for k, v in safe_builtins.items() if k not in {"__build_class__", "id", "setattr", "delattr"}}
    for fn in (dict, list, tuple, set, frozenset, sum, min, max, sorted, any, all,
               enumerate, zip, map, filter, reversed):
        allowed[fn.__name__] = fn
    allowed["__import__"] = _refused("import")
    allowed["open"] = _refused("open()")
    return allowed


BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": _builtins(),
    "_getattr_": safer_getattr,
    "_getitem_": _getitem,
    "_getiter_": iter,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
    "Decimal": Decimal,
    "math": math,
}


def _raise_compile_errors(errors: tuple[str, ...] | list[str]) -> None:
    if errors:
        first = errors[0]
        match = re.search(r"Line (\d+)", first)
        raise SandboxError("; ".join(errors), int(match.group(1)) if match else None)


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> CodeType:
    """Compile one BPMN expression for ``eval`` under the sandbox rules."""
    result = compile_restricted_eval(normalize(source), "<string>")
    _raise_compile_errors(result.errors)
    return result.code


@lru_cache(maxsize=2048)
def compile_script(source: str) -> CodeType:
    """Compile one BPMN script task body for ``exec`` under the sandbox rules."""
    result = compile_restricted_exec(source, "<string>")
    _raise_compile_errors(result.errors)
    return result.code


def evaluate(source: str, data: dict[str, Any], functions: dict[str, Any]) -> Any:
    """Evaluate an expression against case data with the host ``functions`` visible."""
    scope = dict(BASE_GLOBALS)
    scope.update(functions)
    scope.update(data)
    return eval(compile_expression(source), scope)  # noqa: S307 - restricted code object


def execute(source: str, data: dict[str, Any], functions: dict[str, Any]) -> None:
    """Run a script against case data in place; only plain data survives in ``data``."""
    clash = set(functions).intersection(data)
    if clash:
        raise SandboxError(f"case data overwrites host functions: {sorted(clash)}")
    scope = dict(BASE_GLOBALS)
    scope.update(functions)
    scope.update(data)
    exec(compile_script(source), scope)  # noqa: S102 - restricted code object
    for key in list(data):
        if key not in scope:
            del data[key]
    for key, value in scope.items():
        if key in BASE_GLOBALS or key in functions or key.startswith("_"):
            continue
        if callable(value) and not _is_data(value):
            continue        # helper functions a script defines stay in the script
        if not _is_data(value):
            raise SandboxError(f"script left a non-data value in {key!r} ({type(value).__name__})")
        data[key] = value


_SCALARS = (type(None), bool, int, float, str, Decimal, date, datetime, timedelta)


def _is_data(value: Any) -> bool:
    """Return True for plain data: scalars and lists, tuples, sets and dicts of plain data."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _is_data(v) for k, v in value.items())
    return False
