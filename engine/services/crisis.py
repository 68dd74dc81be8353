"""C-2: the crisis watch. Count complaints per category per day and escalations per category per month;
start the crisis process once per category and day when a threshold of ``data/crisis.toml`` is reached."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, or_, select, text

from ..rules.crisis import CrisisRules, load_crisis_rules
from ..store.models import AuditEvent, Case
from . import cases
from .core import SYSTEM, Core
from .errors import NotFound

__all__ = ["WARNING_LEVEL", "CrisisRules", "detect_crises", "load_crisis_rules"]

# C-1 b (003 二): both thresholds the watch counts are warning level 3.
WARNING_LEVEL = 3


_WATCH_LOCK = 715_002_003      # advisory lock id: one crisis watch at a time on PostgreSQL


def detect_crises(core: Core, rules: CrisisRules, now: datetime) -> list[int]:
    """Start a crisis case for each category over a threshold; return the new case ids.

    C-1 b, C-2 (003 预警级别 三级): the daily count counts complaints only (categories under a kind of
    ``counted_kinds``) and starts a crisis once per category and day; the monthly count of escalations starts
    one once per category and month (a category over it stays over it for the rest of the month).

    One transaction, serialised between schedulers (BEGIN IMMEDIATE on SQLite, an
    advisory lock on PostgreSQL), so a category gets one crisis a day however many
    schedulers run.
    """
    tz = core.base_calendar.tz
    local = now.astimezone(tz)
    day_start = datetime.combine(local.date(), time(0), tz)
    month_start = datetime.combine(local.date().replace(day=1), time(0), tz)
    started: list[int] = []
    with core.db.transaction() as session:
        if not core.db.is_sqlite:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WATCH_LOCK})
        daily = dict(session.execute(
            select(Case.category, func.count()).where(
                Case.process_key != rules.process, Case.category.is_not(None),
                or_(*[Case.category.like(f"{kind}.%") for kind in rules.counted_kinds]),
                Case.started_at >= day_start, Case.started_at < now)
            .group_by(Case.category).having(func.count() >= rules.daily_complaints)).all())
        escalated = func.count(func.distinct(AuditEvent.case_id))
        monthly = dict(session.execute(
            select(Case.category, escalated).join(Case, Case.id == AuditEvent.case_id)
            .where(AuditEvent.element_id == rules.escalation_marker, AuditEvent.lifecycle == "ready",
                   AuditEvent.at >= month_start, AuditEvent.at < now, Case.category.is_not(None))
            .group_by(Case.category).having(escalated >= rules.monthly_escalations)).all())
        this_month = session.execute(select(Case.category, Case.started_at, Case.data).where(
            Case.process_key == rules.process, Case.started_at >= month_start,
            Case.started_at < day_start + timedelta(days=1))).all()
        already = {c for c, started_at, _ in this_month if started_at >= day_start}
        monthly_done = {c for c, _, data in this_month if (data or {}).get("trigger") == "monthly_escalations"}
        monthly = {c: n for c, n in monthly.items() if c not in monthly_done}
        for category in sorted((set(daily) | set(monthly)) - already):
            data = {"category": category, "crisis_category": category,
                    "trigger": "daily_complaints" if category in daily else "monthly_escalations",
                    "complaint_count": daily.get(category, 0), "escalation_count": monthly.get(category, 0),
                    "issue_description": f"C-2 automatic warning: {category}",
                    "warning_level": WARNING_LEVEL, "level3_recipients": list(rules.level3_recipients)}
            try:
                started.append(cases.start_case(core, session, rules.process, data, SYSTEM, now).id)
            except NotFound:
                break   # the crisis process is not deployed: nothing to start
    return started
