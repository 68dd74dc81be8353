"""The reports' settings as data (``data/reports.toml``): what counts as transferred, overdue, upheld; schedules,
recipients (organisation roles) and the P-4 rectification threshold."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..rules.periods import EVERY

__all__ = ["REPORTS", "MailRules", "Rectification", "ReportConfig", "Schedule", "load_report_config"]

# Report key -> the period it covers.
REPORTS = {"P-1": "week", "P-2": "month", "P-3": "quarter", "P-4": "month"}


@dataclass(frozen=True)
class Schedule:
    report: str
    every: str
    due: str
    at: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Rectification:
    min_cases: int
    rules: tuple[str, ...]
    process: str
    months: int
    due: str
    at: str


@dataclass(frozen=True)
class MailRules:
    domain: str
    max_attempts: int
    backoff_minutes: tuple[int, ...]


@dataclass(frozen=True)
class ReportConfig:
    intake_processes: tuple[str, ...]
    transfer_elements: tuple[str, ...]
    escalation_element: str
    overdue_rules: tuple[str, ...]
    upheld_outcomes: tuple[str, ...]
    mail: MailRules
    catch_up_days: int
    schedules: tuple[Schedule, ...]
    rectification: Rectification
    crisis_process: str = "crisis"
    crisis_deadlines: dict[str, str] | None = None


def _strings(path: Path, raw: dict, key: str) -> tuple[str, ...]:
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{path}: {key} must be a non-empty list of names")
    return tuple(value)


def load_report_config(path: Path) -> ReportConfig:
    """Read the reports file; refuse an unknown report, period or due rule."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    schedules = []
    for number, row in enumerate(raw.get("schedule", []), 1):
        report, every, due = row.get("report"), row.get("every"), str(row.get("due", ""))
        if report not in REPORTS or every != REPORTS[report] or every not in EVERY:
            raise ValueError(f"{path}: schedule #{number}: report {report!r} every {every!r} is not one we produce")
        if due != "next_working_day" and not (due.startswith("working_day_by:") and due.split(":")[1].isdigit()):
            raise ValueError(f"{path}: schedule #{number}: unknown due rule {due!r}")
        schedules.append(Schedule(report, every, due, str(row.get("at", "09:00")),
                                  _strings(path, row, "recipients")))
    rect = raw.get("rectification", {})
    try:
        rectification = Rectification(int(rect["min_cases"]), _strings(path, rect, "rules"), str(rect["process"]),
                                      int(rect.get("months", 1)), str(rect.get("due", "next_working_day")),
                                      str(rect.get("at", "10:00")))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: [rectification] is incomplete: {exc}") from exc
    m = raw.get("mail", {})
    try:
        mail = MailRules(str(m.get("domain", "localhost")), int(m.get("max_attempts", 5)),
                         tuple(int(x) for x in m.get("backoff_minutes", [1, 5, 15, 60])))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: [mail] is invalid: {exc}") from exc
    if mail.max_attempts < 1 or not mail.backoff_minutes:
        raise ValueError(f"{path}: [mail] needs max_attempts >= 1 and backoff_minutes")
    return ReportConfig(_strings(path, raw, "intake_processes"), _strings(path, raw, "transfer_elements"),
                        str(raw["escalation_element"]), _strings(path, raw, "overdue_rules"),
                        _strings(path, raw, "upheld_outcomes"), mail, int(raw.get("catch_up_days", 7)),
                        tuple(schedules), rectification, str(raw.get("crisis_monitor", {}).get("process", "crisis")),
                        dict(raw.get("crisis_monitor", {}).get("deadlines", {})))
