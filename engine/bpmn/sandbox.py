"""Restricted evaluation of the Python expressions and scripts written in BPMN.

Conditions, timer expressions, input parameters and script tasks come from
uploaded BPMN files, so they are code from outside. They are compiled with
RestrictedPython's ``compile_restricted`` (which refuses names and attributes
starting with ``_`` at compile time) and run with its guards: no ``import``,
no ``open``, no ``__import__``, no ``str.format`` attribute walks.

Camunda Modeler habits are accepted: ``${expr}`` is unwrapped, and an ISO 8601
literal written without quotes (``PT2H``, ``R/PT1H``, ``2026-01-01T09:00+08:00``)
is the string itself.

Bounded work (``budget``): ``**``, ``*``, ``+``, ``<<`` and ``%`` go through
``_binop_``, which refuses a result wider than the budget's ``int_bits`` or
longer than its ``sequence`` before computing it; so do ``pow``, ``range``,
the growing string methods (``join``, ``ljust``, ``replace``...) and the few
``math`` functions that can run for minutes. Loops are bounded by the
command's wall-time and memory budget, checked (``_tick_``) on every round of a
``while``, every item a ``for`` or a comprehension takes (``_getiter_``) and every
call of a function or lambda the script defines. Class definitions and bare
``except:`` are refused at compile time, and ``BaseException`` is not among the
builtins, so a script cannot catch the budget's stop.
"""

from __future__ import annotations

import ast
import io
import math
import operator
import re
import tokenize
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from types import CodeType
from types import SimpleNamespace
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    safer_getattr,
)

from . import budget


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


JUEL_LITERALS = {"true": "True", "false": "False", "null": "None"}


def normalize(source: str) -> str:
    """Return the Python source of a BPMN expression (``${...}`` unwrapped, ISO literals quoted, and the
    literals a Camunda modeller writes, ``true``, ``false`` and ``null``, read as True, False and None)."""
    text = source.strip()
    match = _WRAPPED.match(text)
    if match:
        text = match.group(1).strip()
    if _ISO_LITERAL.match(text):
        return repr(text)
    return _juel_literals(text)


def _juel_literals(text: str) -> str:
    """Replace the names true, false and null (never inside a string) by Python's literals."""
    if not any(word in text for word in JUEL_LITERALS):
        return text
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text             # the compiler reports it
    lines = text.splitlines(keepends=True) or [text]
    edits = [(t.start, t.end, JUEL_LITERALS[t.string]) for t in tokens
             if t.type == tokenize.NAME and t.string in JUEL_LITERALS]
    for (row, col), (_, end), word in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:col] + word + line[end:]
    return "".join(lines)


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    ops = {
        "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul,
        "/=": operator.itruediv, "//=": operator.ifloordiv, "%=": operator.imod,
        "**=": operator.ipow, "|=": operator.ior, "&=": operator.iand,
    }
    if op not in ops:
        raise SandboxError(f"operator {op} is not allowed in BPMN scripts")
    if op[:-1] in _GUARDED:
        _check_binop(op[:-1], x, y)
    return ops[op](x, y)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


# --- bounded work: refuse, before computing it, an operation whose result would be huge ---

_GUARDED = {"+", "*", "**", "<<", "%"}
_SEQUENCES = (str, bytes, bytearray, list, tuple)
_OPERATORS = {"+": operator.add, "*": operator.mul, "**": operator.pow, "<<": operator.lshift, "%": operator.mod}


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _check_binop(op: str, x: Any, y: Any) -> None:
    limits = budget.limits()
    if op == "**":
        if isinstance(x, int) and isinstance(y, int) and y > 0 and abs(x) > 1:
            budget.refuse_size(f"{_short(x)} ** {_short(y)}", (abs(x).bit_length() - 1) * y, limits.int_bits, "bits")
    elif op == "<<":
        if isinstance(x, int) and isinstance(y, int) and x:
            budget.refuse_size(f"{_short(x)} << {_short(y)}", _bits(abs(x)) + y, limits.int_bits, "bits")
    elif op == "*":
        if isinstance(x, int) and isinstance(y, int):
            budget.refuse_size("an integer product", _bits(abs(x)) + _bits(abs(y)), limits.int_bits, "bits")
        elif isinstance(x, _SEQUENCES) and isinstance(y, int):
            budget.refuse_size(f"repeating a {type(x).__name__}", len(x) * y, limits.sequence, "items")
        elif isinstance(y, _SEQUENCES) and isinstance(x, int):
            budget.refuse_size(f"repeating a {type(y).__name__}", len(y) * x, limits.sequence, "items")
    elif op == "+":
        if isinstance(x, _SEQUENCES) and isinstance(y, _SEQUENCES):
            budget.refuse_size(f"joining two {type(x).__name__}s", len(x) + len(y), limits.sequence, "items")
    elif op == "%" and isinstance(x, (str, bytes)):
        _check_format(x if isinstance(x, str) else x.decode("latin-1"), y)


_WIDTHS = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_format(template: str, args: Any) -> None:
    """Refuse %-formatting with a ``*`` width or a width over the sequence budget."""
    limit = budget.limits().sequence
    for width, precision in _WIDTHS.findall(template):
        for part in (width, precision):
            if part == "*":
                raise SandboxError("a * width in %-formatting is not allowed in BPMN code")
            if part and int(part) > limit:
                budget.refuse_size("a %-format width", int(part), limit, "characters")


def _short(value: int) -> str:
    text = str(value) if value.bit_length() < 64 else f"<{value.bit_length()}-bit integer>"
    return text


def _binop(op: str, x: Any, y: Any) -> Any:
    _check_binop(op, x, y)
    return _OPERATORS[op](x, y)


def _pow(base: Any, exp: Any, mod: Any = None) -> Any:
    if mod is None:
        _check_binop("**", base, exp)
        return pow(base, exp)
    return pow(base, exp, mod)      # modular: the result is smaller than mod, the work grows with exp's digits


def _range(*args: int) -> range:
    result = range(*args)
    budget.refuse_size("range()", len(result), budget.limits().sequence, "items")
    return result


def _width(name: str, width: Any) -> None:
    if isinstance(width, int):
        budget.refuse_size(f"str.{name}()", width, budget.limits().sequence, "characters")


def _guarded_method(obj: Any, name: str, method: Any) -> Any:
    """Wrap the string methods whose result can be far longer than their input."""
    limit = budget.limits().sequence
    if name in {"ljust", "rjust", "center", "zfill"}:
        def widened(width, *args):
            _width(name, width)
            return method(width, *args)
        return widened
    if name == "expandtabs":
        def expanded(tabsize=8):
            budget.refuse_size("str.expandtabs()", len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t")
                               * max(tabsize, 0), limit, "characters")
            return method(tabsize)
        return expanded
    if name == "replace":
        def replaced(old, new, count=-1):
            hits = obj.count(old) if count < 0 else min(count, obj.count(old))
            budget.refuse_size("str.replace()", len(obj) + hits * max(len(new) - len(old), 0), limit, "characters")
            return method(old, new, count)
        return replaced
    if name == "join":
        def joined(items):
            items = list(items)
            size = sum(len(i) for i in items if isinstance(i, (str, bytes))) + len(obj) * max(len(items) - 1, 0)
            budget.refuse_size("str.join()", size, limit, "characters")
            return method(items)
        return joined
    return method


def _getattr(obj: Any, name: str, default: Any = None) -> Any:
    value = safer_getattr(obj, name, default)
    if isinstance(obj, (str, bytes)) and callable(value):
        return _guarded_method(obj, name, value)
    return value


def _tick() -> None:
    active = budget.current()
    if active is not None:
        active.line()


def _getiter(iterable: Any) -> Any:
    """Iterate for a ``for`` loop or a comprehension, checking the budget on every item."""
    active = budget.current()
    if active is None:
        return iter(iterable)
    return _ticking(iter(iterable), active.line)


def _ticking(items, tick):
    for item in items:
        tick()
        yield item


def _small(fn, what: str, limit: int = 10_000):
    """Return ``fn`` refusing integer arguments over ``limit`` (factorial, comb, perm take minutes on big ones)."""
    def guarded(*args):
        for arg in args:
            if isinstance(arg, int) and abs(arg) > limit:
                budget.refuse_size(what, abs(arg), limit, "as argument")
        return fn(*args)
    return guarded


# ``math`` for BPMN code: the module's functions, with the slow integer ones bounded.
SAFE_MATH = SimpleNamespace(**{name: getattr(math, name) for name in dir(math) if not name.startswith("_")})
SAFE_MATH.factorial = _small(math.factorial, "math.factorial()")
SAFE_MATH.comb = _small(math.comb, "math.comb()")
SAFE_MATH.perm = _small(math.perm, "math.perm()")
SAFE_MATH.lcm = _small(math.lcm, "math.lcm()", 10**9)
del SAFE_MATH.prod          # math.prod(range(...)) is an unbounded integer product


class _Policy(RestrictingNodeTransformer):
    """RestrictedPython's rules, plus: guarded operators (``_binop_``) and no class definitions."""

    _NAMES = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.LShift: "<<", ast.Mod: "%"}

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        node = self.node_contents_visit(node)
        symbol = self._NAMES.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(func=ast.Name("_binop_", ast.Load()), args=[ast.Constant(symbol), node.left, node.right],
                        keywords=[])
        copy_locations(call, node)
        return call

    def _tick_first(self, body: list) -> None:
        tick = ast.Expr(ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[]))
        copy_locations(tick, body[0])
        body.insert(0, tick)

    def visit_While(self, node: ast.While) -> Any:
        # Every round of a loop checks the budget (``for`` and comprehensions do it in ``_getiter_``).
        node = self.node_contents_visit(node)
        self._tick_first(node.body)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        node = super().visit_FunctionDef(node)
        self._tick_first(node.body)         # recursion checks the budget on every call
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        node = super().visit_Lambda(node)
        tick = ast.Call(func=ast.Name("_tick_", ast.Load()), args=[], keywords=[])
        node.body = ast.BoolOp(op=ast.Or(), values=[tick, node.body])     # _tick_() is None: the body's value
        copy_locations(node.body, node)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        if node.type is None:
            self.error(node, "a bare except is not allowed in BPMN scripts; name the exception (except ValueError:)")
        return super().visit_ExceptHandler(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.error(node, "class definitions are not allowed in BPMN scripts (a script sets plain data)")
        return node


def _refused(name: str):
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise SandboxError(f"{name} is not allowed in BPMN expressions")

    return refuse


def _builtins() -> dict[str, Any]:
    # BaseException and its non-Exception children are left out: a script cannot catch the budget's stop.
    allowed = {k: v for k, v in safe_builtins.items() if k not in {
        "__build_class__", "id", "setattr", "delattr", "BaseException", "SystemExit", "KeyboardInterrupt",
        "GeneratorExit"}}
    for fn in (dict, list, tuple, set, frozenset, sum, min, max, sorted, any, all,
               enumerate, zip, map, filter, reversed):
        allowed[fn.__name__] = fn
    allowed["pow"] = _pow
    allowed["range"] = _range
    allowed["__import__"] = _refused("import")
    allowed["open"] = _refused("open()")
    return allowed


BASE_GLOBALS: dict[str, Any] = {
    "__builtins__": _builtins(),
    "_getattr_": _getattr,
    "_binop_": _binop,
    "_tick_": _tick,
    "_getitem_": _getitem,
    "_getiter_": _getiter,
    "_write_": full_write_guard,
    "_inplacevar_": _inplacevar,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "datetime": datetime,
    "date": date,
    "timedelta": timedelta,
    "timezone": timezone,
    "Decimal": Decimal,
    "math": SAFE_MATH,
}


def _raise_compile_errors(errors: tuple[str, ...] | list[str]) -> None:
    if errors:
        first = errors[0]
        match = re.search(r"Line (\d+)", first)
        raise SandboxError("; ".join(errors), int(match.group(1)) if match else None)


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> CodeType:
    """Compile one BPMN expression for ``eval`` under the sandbox rules."""
    result = compile_restricted_eval(normalize(source), budget.SCRIPT_FILE, policy=_Policy)
    _raise_compile_errors(result.errors)
    return result.code


@lru_cache(maxsize=2048)
def compile_script(source: str) -> CodeType:
    """Compile one BPMN script task body for ``exec`` under the sandbox rules."""
    result = compile_restricted_exec(source, budget.SCRIPT_FILE, policy=_Policy)
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


def reserved_names(functions: dict[str, Any]) -> set[str]:
    """Return the names BPMN expressions see besides case data: host functions, globals and builtins."""
    return (set(functions) | {k for k in BASE_GLOBALS if not k.startswith("_")} | set(BASE_GLOBALS["__builtins__"])
            | set(JUEL_LITERALS))


def describe_name(name: str, functions: dict[str, Any]) -> str:
    """Say what a reserved name is, for a refusal."""
    if name in functions:
        return "a deadline function"
    if name in BASE_GLOBALS:
        return "a module or type of the sandbox"
    if name in JUEL_LITERALS:
        return "a literal of Camunda's expression language"
    return "a built-in function"
