"""The deduction schedule as data (S-1..S-5, 000 二 考核方法) and the Q-3 exemption threshold (001 6.2.1).

Pure: ``load_schedule`` reads ``data/deductions.toml``; the rest is exact decimal
arithmetic on what it returned. Amounts are ``Decimal`` from strings, never floats.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from .intake import RuleDataError

UNITS = ("points", "yuan")
# Whom a schedule line deducts from; the booking topic resolves each to people or units (S-6).
WHO = ("responsible", "direct_leader", "dept_head", "city_kpi", "complaint_group", "channel", "support_unit",
       "late_party", "team_leader")
SCALE = 4                                   # amounts have at most 4 decimal places (the ledger stores 1/10000)
MONTH_ZONE = ZoneInfo("Asia/Shanghai")      # 当月绩效: the month is the local month of the booking


class UnknownRule(RuleDataError):
    """A process asked to book a rule id the schedule does not list."""


@dataclass(frozen=True)
class Line:
    """One deduction of a rule: from whom, recorded as which role, how much, in points or yuan."""

    who: str
    role: str
    amount: Decimal | None      # None: unpriced, the process owner has not set the amount yet (books nothing)
    unit: str


@dataclass(frozen=True)
class Rule:
    id: str
    event: str
    source: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Schedule:
    rules: Mapping[str, Rule]
    team_monthly_limit: int                 # exempt while the team's count this month is at most this

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise UnknownRule(f"deduction rule {rule_id!r} is not in the schedule "
                              f"(known: {', '.join(sorted(self.rules))})") from None


def exact_amount(value: Any, where: str = "amount") -> Decimal:
    """Return ``value`` as an exact Decimal with at most 4 places; floats are refused."""
    if isinstance(value, (float, bool)) or not isinstance(value, (str, int, Decimal)):
        raise RuleDataError(f"{where}: write the amount as a string such as \"0.05\", not {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise RuleDataError(f"{where}: {value!r} is not a decimal number") from None
    if not amount.is_finite() or amount.as_tuple().exponent < -SCALE:
        raise RuleDataError(f"{where}: {value!r} needs at most {SCALE} decimal places")
    return amount


def _line(row: Mapping[str, Any], where: str) -> Line:
    who = row.get("who")
    if who not in WHO:
        raise RuleDataError(f"{where}: who = {who!r}, expected one of {', '.join(WHO)}")
    unit = row.get("unit", "points")
    if unit not in UNITS:
        raise RuleDataError(f"{where}: unit = {unit!r}, expected one of {', '.join(UNITS)}")
    if row.get("amount") in (None, ""):
        return Line(who, str(row.get("role") or who), None, unit)     # unpriced: the owner fills it in
    amount = exact_amount(row.get("amount"), where)
    if amount <= 0:
        raise RuleDataError(f"{where}: a deduction is positive, got {amount}")
    return Line(who, str(row.get("role") or who), amount, unit)


def parse_schedule(raw: Mapping[str, Any], origin: str = "schedule") -> Schedule:
    """Check a schedule mapping and return it; every problem names the rule and line."""
    rules: dict[str, Rule] = {}
    for number, row in enumerate(raw.get("rule", []), 1):
        rule_id = row.get("id")
        if not rule_id or rule_id in rules:
            raise RuleDataError(f"{origin}: rule #{number} needs an id of its own, got {rule_id!r}")
        lines = tuple(_line(line, f"{origin}: {rule_id} line {i}") for i, line in enumerate(row.get("deduct", []), 1))
        if not lines:
            raise RuleDataError(f"{origin}: {rule_id} deducts nothing")
        roles = [(line.who, line.role) for line in lines]
        if len(set(roles)) != len(roles):
            raise RuleDataError(f"{origin}: {rule_id} lists the same who/role twice")
        rules[rule_id] = Rule(rule_id, str(row.get("event", "")), str(row.get("source", "")), lines)
    limit = raw.get("exemption", {}).get("team_monthly_limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise RuleDataError(f"{origin}: [exemption] team_monthly_limit must be a whole number, got {limit!r}")
    return Schedule(rules, limit)


def load_schedule(path: Path) -> Schedule:
    """Read and check the schedule file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleDataError(f"{path}: {exc}") from exc
    return parse_schedule(raw, str(path))


def month_of(moment: datetime) -> str:
    """Return the scoring month ``YYYY-MM`` of an instant, in Beijing time."""
    if moment.tzinfo is None:
        raise ValueError("month_of needs an aware datetime")
    return moment.astimezone(MONTH_ZONE).strftime("%Y-%m")


def exempt(ordinal: int, schedule: Schedule) -> bool:
    """Q-3 (001 6.2.1(3)): the team's n-th complaint this month is exempt while n <= the limit (9th on: scored)."""
    return ordinal <= schedule.team_monthly_limit
