"""Crisis rules as data (``data/crisis.toml``): the warning thresholds of C-1 b / C-2 and who is told at warning
level 3 (003 二: 通知公司高层分管领导;责任部门领导、主管;运营经理、售后经理、投诉主管).

Loading reads the file and refuses a bad entry; the rest is pure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .intake import RuleDataError

__all__ = ["RECIPIENT_FORMS", "CrisisRules", "Recipient", "load_crisis_rules", "parse_recipient"]

# A recipient spec: "group:<group>" (its active members), "head:<unit>" (the head of an organisation unit),
# "responsible_head" (the head of the department the crisis is routed to, I-4 / 003 二 责任部门主管).
RECIPIENT_FORMS = "group:<group>, head:<unit> or responsible_head"


@dataclass(frozen=True)
class Recipient:
    kind: str           # group | head | responsible_head
    name: str = ""      # the group or unit key ("" for responsible_head)


def parse_recipient(spec: object) -> Recipient:
    """Read one recipient spec; raise ``RuleDataError`` for anything else."""
    if spec == "responsible_head":
        return Recipient("responsible_head")
    if isinstance(spec, str):
        kind, sep, name = spec.partition(":")
        if sep and kind in ("group", "head") and name.strip() == name and name and ":" not in name:
            return Recipient(kind, name)
    raise RuleDataError(f"{spec!r} is not a recipient ({RECIPIENT_FORMS})")


@dataclass(frozen=True)
class CrisisRules:
    process: str
    daily_complaints: int
    monthly_escalations: int
    escalation_marker: str
    every_minutes: int
    counted_kinds: tuple[str, ...] = ("complaint",)     # C-1 b: 投诉 only, not consultations or demands
    level3_recipients: tuple[str, ...] = ()             # 003 二: who is told at warning level 3


def load_crisis_rules(path: Path) -> CrisisRules:
    """Read the crisis thresholds and the level-3 recipients; refuse a recipient that is not one we resolve."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    recipients = raw.get("level3_recipients", [])
    if not isinstance(recipients, list):
        raise RuleDataError(f"{path}: level3_recipients must be a list of recipients ({RECIPIENT_FORMS})")
    for number, spec in enumerate(recipients, 1):
        try:
            parse_recipient(spec)
        except RuleDataError as exc:
            raise RuleDataError(f"{path}: level3_recipients #{number}: {exc}") from None
    return CrisisRules(raw["process"], int(raw["daily_complaints_per_category"]),
                       int(raw["monthly_escalations_per_category"]), raw["escalation_marker_element"],
                       int(raw.get("watch_every_minutes", 10)), tuple(raw.get("counted_kinds", ["complaint"])),
                       tuple(recipients))
