"""Intake rules as data: the category tree, classification (I-2, I-3) and the routing table (I-4).

Pure functions over tables a process owner edits (``data/classification.toml``,
``data/profiles/<profile>/{categories,routing}.toml``); loading a table reads a
file, applying it does no I/O.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping

ESCALATION_LEVELS = ("local", "provincial", "miit")    # 本地 < 省级 < 工信部 (000 二.2)


class RuleDataError(ValueError):
    """A rules file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str = ""

    @property
    def kind(self) -> str:
        return self.code.split(".", 1)[0]

    @property
    def parent(self) -> str | None:
        return self.code.rsplit(".", 1)[0] if "." in self.code else None


@dataclass(frozen=True)
class Classification:
    kinds: tuple[str, ...]
    default_kind: str
    major_amount: Decimal
    major_flags: tuple[str, ...]
    # E-9 (000 二.2, 002 附件2): the escalation level a channel of receipt implies (local, provincial, miit).
    channel_levels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    categories: tuple[str, ...]
    group: str
    department: str
    # Case data the row needs besides the category: field -> the values it routes (000 四.3: 不知情业务定制 of
    # a government or enterprise customer goes to 政企部, of a consumer to 市场部).
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def applies(self, data: Mapping[str, Any]) -> bool:
        return all(str(data.get(key) or "") in values for key, values in self.when.items())


@dataclass(frozen=True)
class RoutingTable:
    profile: str
    routes: tuple[Route, ...]
    default_group: str
    default_department: str
    per_customer_field: str | None = None
    # 000 一.1.7: complaints from these channels are accepted (归口受理, N-1) by ``special_group``; the routed
    # group still investigates and replies.
    special_channels: tuple[str, ...] = ()
    special_group: str | None = None
    # 000 一.2.1 and 四.4: who pre-processes a complaint and intercepts an invalid one before it is accepted.
    preprocess: tuple[Preprocess, ...] = ()


@dataclass(frozen=True)
class Preprocess:
    """One [[preprocess]] row: complaints from ``channels`` (any, if empty) routed to ``departments`` (any, if
    empty) are pre-processed by ``group``; the first row that applies wins."""

    group: str
    channels: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()

    def applies(self, channel: str, department: str) -> bool:
        return (not self.channels or channel in self.channels) and \
            (not self.departments or department in self.departments)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleDataError(f"{path}: {exc}") from exc


def load_categories(path: Path) -> dict[str, Category]:
    """Read a category tree; every code's parent must be listed before it."""
    tree: dict[str, Category] = {}
    for number, row in enumerate(_read(path).get("category", []), 1):
        code, name = row.get("code"), row.get("name")
        if not code or not name:
            raise RuleDataError(f"{path}: category #{number} needs code and name")
        category = Category(code, name, row.get("name_en") or name)
        if category.parent and category.parent not in tree:
            raise RuleDataError(f"{path}: category {code} comes before its parent {category.parent}")
        tree[code] = category
    return tree


def load_classification(path: Path) -> Classification:
    """Read the classification rules (kinds and the thresholds that make a complaint major)."""
    raw = _read(path)
    try:
        amount = Decimal(str(raw["major"]["amount_at_least"]))
        levels = dict(raw.get("escalation", {}).get("channel_levels", {}))
        wrong = {c: lv for c, lv in levels.items() if lv not in ESCALATION_LEVELS}
        if wrong:
            raise RuleDataError(f"{path}: [escalation] channel_levels {wrong}: levels are {', '.join(ESCALATION_LEVELS)}")
        return Classification(tuple(raw["kinds"]), raw["default_kind"], amount, tuple(raw["major"]["flags"]), levels)
    except (KeyError, InvalidOperation) as exc:
        raise RuleDataError(f"{path}: missing or invalid {exc}") from exc


def load_routing(path: Path) -> RoutingTable:
    """Read a routing table (one profile)."""
    raw = _read(path)
    try:
        routes = tuple(Route(tuple(r["categories"]), r["group"], r["department"], _when(path, r.get("when", {})))
                       for r in raw.get("route", []))
        default = raw["default"]
        special = raw.get("special_channels", {})
        if special and not (special.get("channels") and special.get("group")):
            raise RuleDataError(f"{path}: [special_channels] needs channels and group")
        preprocess = tuple(Preprocess(r["group"], tuple(r.get("channels", ())), tuple(r.get("departments", ())))
                           for r in raw.get("preprocess", []))
        return RoutingTable(raw["profile"], routes, default["group"], default["department"],
                            default.get("per_customer_field"), tuple(special.get("channels", ())),
                            special.get("group"), preprocess)
    except KeyError as exc:
        raise RuleDataError(f"{path}: missing {exc}") from exc


def _when(path: Path, raw: Any) -> dict[str, tuple[str, ...]]:
    """Read a route row's conditions: ``{field = "value"}`` or ``{field = ["value", ...]}``."""
    if not isinstance(raw, dict):
        raise RuleDataError(f"{path}: a route's when must be a table of field = value(s), not {raw!r}")
    when = {}
    for key, values in raw.items():
        values = (values,) if isinstance(values, str) else values
        if not isinstance(values, (list, tuple)) or not values or not all(isinstance(v, str) for v in values):
            raise RuleDataError(f"{path}: route condition {key!r} must name one value or a list of values")
        when[key] = tuple(values)
    return when


@dataclass(frozen=True)
class Support:
    """N-12: one department (or outside body) a handler may ask for support, with its time limit."""

    id: str
    name: str
    unit: str
    groups: tuple[str, ...]
    hours: float
    scored: bool


def load_support(path: Path) -> dict[str, Support]:
    """Read the support routing table (``data/support.toml``)."""
    raw = _read(path)
    table: dict[str, Support] = {}
    try:
        for row in raw.get("support", []):
            hours = float(row["hours"])
            if hours <= 0:
                raise RuleDataError(f"{path}: support {row['id']!r}: hours must be positive")
            table[row["id"]] = Support(row["id"], row.get("name", row["id"]), row["unit"],
                                       tuple(row.get("groups", [])), hours, bool(row.get("scored", True)))
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleDataError(f"{path}: missing or invalid {exc}") from exc
    return table


def route_support(table: Mapping[str, Support], data: Mapping[str, Any]) -> dict[str, Any]:
    """N-12: the group the support task is offered to, the unit scored, the limit as an ISO duration."""
    wanted = data.get("support_department")
    support = table.get(str(wanted))
    if support is None:
        raise RuleDataError(f"N-12: support department {wanted!r} is not in the support table "
                            f"(known: {', '.join(sorted(table))})")
    groups = list(support.groups) or [data.get("responsible_group")]
    minutes = round(support.hours * 60)
    return {"support_group": groups, "support_unit": support.unit, "support_scored": support.scored,
            "support_limit": f"PT{minutes // 60}H{minutes % 60}M" if minutes % 60 else f"PT{minutes // 60}H"}


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def escalation_level(rules: Classification, data: Mapping[str, Any]) -> dict[str, Any]:
    """E-9 (000 二.2): the level is where the customer escalated: the channel of receipt or a later outside fact.

    The higher of the channel's level (``[escalation] channel_levels``) and ``escalated_outside`` (the intake's
    or a later record of where the customer went) wins; an internal hand-over alone is a local escalation.
    """
    found = [rules.channel_levels.get(str(data.get("channel") or ""), "local")]
    if data.get("escalated_outside") in ESCALATION_LEVELS:
        found.append(data["escalated_outside"])
    return {"escalated": True, "escalation_level": max(found, key=ESCALATION_LEVELS.index)}


def classify(rules: Classification, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return kind (I-2) and severity with the reasons that made it major (I-3)."""
    category = str(data.get("category") or "")
    kind = data.get("kind") or category.split(".", 1)[0]
    if kind not in rules.kinds:
        kind = rules.default_kind
    reasons = [flag for flag in rules.major_flags if data.get(flag)]
    if _amount(data.get("amount")) >= rules.major_amount:
        reasons.insert(0, "amount")
    severity = "major" if kind == "complaint" and reasons else "general"
    return {"kind": kind, "severity": severity, "major_reasons": reasons}


def route(table: RoutingTable, data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the responsible group and department for the case's category and the group that accepts it (N-1).

    The longest matching category prefix wins; of two rows with the same prefix, the one with more conditions
    (``when``) that the case meets. ``accept_group`` is the routed group, or for a special channel (000 一.1.7)
    the group that accepts those centrally. ``preprocess_group`` is the group that pre-processes the complaint
    and may intercept it (000 一.2.1, 四.4), or "" when nobody does.
    """
    category = str(data.get("category") or "")
    best: tuple[tuple[int, int], Route] | None = None
    for candidate in table.routes:
        if not candidate.applies(data):
            continue
        for prefix in candidate.categories:
            if category == prefix or category.startswith(prefix + "."):
                rank = (len(prefix), len(candidate.when))
                if best is None or rank > best[0]:
                    best = (rank, candidate)
    if best is not None:
        group, department = best[1].group, best[1].department
    else:
        group, department = table.default_group, table.default_department
        if table.per_customer_field and data.get(table.per_customer_field):
            group = f"{group}_{data[table.per_customer_field]}"
    channel = str(data.get("channel") or "")
    special = table.special_group if channel in table.special_channels else None
    preprocess = next((p.group for p in table.preprocess if p.applies(channel, department)), "")
    return {"responsible_group": group, "responsible_department": department, "routing_profile": table.profile,
            "accept_group": special or group, "preprocess_group": preprocess}
