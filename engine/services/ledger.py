"""The deduction ledger (S-7): append bookings once, reverse an entry, monthly totals and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any, Iterable

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..store.models import AuditEvent, Case, DeductionEntry, OrgUnit
from .convert import deduction_view
from .core import Actor, Core, audit_row
from .errors import Conflict, InvalidRequest, NotFound
from .serialize import amount_text
from .views import DeductionView

__all__ = ["BY", "LedgerService", "amount_text", "append", "insert_once"]

BY = ("person", "department", "kpi")


def insert_once(session: Session, model: type, row: dict[str, Any]) -> int | None:
    """Insert a row unless it breaks a unique constraint; return its id, or None when it was there already."""
    table = model.__table__
    make = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    return session.execute(make(table).on_conflict_do_nothing().returning(table.c.id), row).scalar()


def append(session: Session, rows: Iterable[dict[str, Any]]) -> list[int]:
    """Insert bookings; a row already booked (same case, rule, subject, role) is skipped. Return the new ids."""
    # uq_deduction_entry_booking: a retried or repeated service task books once.
    ids = [insert_once(session, DeductionEntry, {("amount_e4" if k == "amount" else k): v for k, v in row.items()})
           for row in rows]
    return [i for i in ids if i is not None]


def reverse(core: Core, session: Session, entry_id: int, actor: Actor, reason: str, now: datetime) -> DeductionEntry:
    """Append the negative of a booking, referencing it, in the booking's month; the booking stays as it was."""
    core.policy.require(actor, "reverse_deductions", "reverse deductions")
    if not (reason or "").strip():
        raise InvalidRequest("a reversal needs a reason", code="reason_required")
    entry = session.get(DeductionEntry, entry_id)
    if entry is None:
        raise NotFound(f"ledger entry {entry_id} does not exist", code="entry_not_found", entry_id=entry_id)
    if entry.kind != "booking":
        raise InvalidRequest(f"ledger entry {entry_id} is itself a reversal", code="reversal_of_reversal",
                             entry_id=entry_id)
    if session.scalar(select(DeductionEntry.id).where(DeductionEntry.reverses == entry_id)) is not None:
        raise Conflict(f"ledger entry {entry_id} is already reversed", code="already_reversed", entry_id=entry_id)
    reversal = DeductionEntry(
        kind="reversal", case_id=entry.case_id, rule_id=entry.rule_id, subject=entry.subject,
        subject_kind=entry.subject_kind, subject_name=entry.subject_name, role=entry.role,
        department=entry.department, amount=-entry.amount, unit=entry.unit, month=entry.month,
        element_id=entry.element_id, booked_by=actor.username, booked_at=now, reverses=entry.id,
        reason=reason.strip())
    try:
        with session.begin_nested():
            session.add(reversal)
            session.flush()
    except IntegrityError:
        raise Conflict(f"ledger entry {entry_id} is already reversed", code="already_reversed",
                       entry_id=entry_id) from None
    case = session.get(Case, entry.case_id)
    session.execute(insert(AuditEvent), [audit_row(
        case, "admin_action", actor, now, element_id=entry.element_id,
        data={"action": "reverse_deduction", "entry": entry.id, "reversal": reversal.id, "reason": reversal.reason})])
    return reversal


def entries(session: Session, month: str | None = None, case_id: int | None = None) -> list[DeductionEntry]:
    """Return ledger entries of a month and/or a case, oldest first."""
    query = select(DeductionEntry).order_by(DeductionEntry.id)
    if month:
        query = query.where(DeductionEntry.month == month)
    if case_id is not None:
        query = query.where(DeductionEntry.case_id == case_id)
    return list(session.scalars(query))


def totals(session: Session, month: str, by: str = "person") -> list[dict[str, Any]]:
    """Return the month's sums per person, department (people and units in it) or KPI, one row per unit of measure."""
    e = DeductionEntry
    amount, count = func.sum(e.amount).label("amount"), func.count().label("entries")
    if by == "person":
        query = (select(e.subject.label("key"), e.subject_name.label("name"), e.unit, amount, count)
                 .where(e.subject_kind == "person").group_by(e.subject, e.subject_name, e.unit))
    elif by == "department":
        query = (select(e.department.label("key"), func.coalesce(OrgUnit.name, e.department).label("name"),
                        e.unit, amount, count)
                 .outerjoin(OrgUnit, OrgUnit.key == e.department)
                 .where(e.subject_kind != "kpi").group_by(e.department, OrgUnit.name, e.unit))
    elif by == "kpi":
        query = (select(e.subject.label("key"), e.subject_name.label("name"), e.unit, amount, count)
                 .where(e.subject_kind == "kpi").group_by(e.subject, e.subject_name, e.unit))
    else:
        raise InvalidRequest(f"totals by {by!r}: expected one of {', '.join(BY)}", code="unknown_level", by=by)
    rows = session.execute(query.where(e.month == month).order_by("key", e.unit))
    return [{"month": month, "by": by, "key": r.key, "name": r.name, "unit": r.unit,
             "amount": Decimal(r.amount), "entries": r.entries} for r in rows]


def export_csv(session: Session, month: str, by: str | None = None) -> str:
    """Return the month's totals (all three levels, or one) or, with ``by='entry'``, its entries as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if by == "entry":
        writer.writerow(["id", "kind", "month", "case_id", "rule_id", "subject", "subject_kind", "name", "role",
                         "department", "amount", "unit", "element_id", "booked_by", "booked_at", "reverses", "reason"])
        for x in entries(session, month):
            writer.writerow([x.id, x.kind, x.month, x.case_id, x.rule_id, x.subject, x.subject_kind, x.subject_name,
                             x.role, x.department, amount_text(x.amount), x.unit, x.element_id, x.booked_by,
                             x.booked_at.isoformat(), x.reverses or "", x.reason or ""])
        return out.getvalue()
    writer.writerow(["month", "by", "key", "name", "unit", "amount", "entries"])
    for level in ([by] if by else BY):
        for row in totals(session, month, level):
            writer.writerow([row["month"], row["by"], row["key"], row["name"], row["unit"],
                             amount_text(row["amount"]), row["entries"]])
    return out.getvalue()


class LedgerService:
    """The deduction ledger for the complaint group and the owners: entries, monthly totals, CSV, reversals."""

    def __init__(self, core: Core):
        self._core = core

    def entries(self, month: str | None = None, case_id: int | None = None) -> list[DeductionView]:
        """Return the entries of a month and/or a case, oldest first."""
        with self._core.db.transaction(write=False) as session:
            return [deduction_view(e) for e in entries(session, month, case_id)]

    def totals(self, month: str, by: str = "person") -> list[dict[str, Any]]:
        """Return the month's deductions summed per person, department or KPI (exact decimals)."""
        with self._core.db.transaction(write=False) as session:
            return totals(session, month, by)

    def export_csv(self, month: str, by: str | None = None) -> str:
        """Return the month's totals (or, with ``by='entry'``, its entries) as CSV."""
        with self._core.db.transaction(write=False) as session:
            return export_csv(session, month, by)

    def reverse(self, entry_id: int, actor: Actor, reason: str) -> DeductionView:
        """Append a reversal of a booking (a correction is never an edit, S-7); return the reversal."""
        with self._core.db.transaction() as session:
            return deduction_view(reverse(self._core, session, entry_id, actor, reason, self._core.clock()))
