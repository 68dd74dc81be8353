"""The case search's conditions on ``case_search`` (migration 0012): substrings of the customer, the contact and
the facts, and the last four digits of a phone, each one indexed where the database can.

A substring of 3 characters or more goes through the trigram index (SQLite: FTS5 ``case_search_fts``;
PostgreSQL: ``ILIKE`` answered by the GIN index of pg_trgm). A shorter one (a two-character name, 退费) has
no trigram: it scans the narrow ``case_search`` table, never the cases' data. Matches ignore case.
"""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from .models import Case, CaseSearch

__all__ = ["TRIGRAM", "contact_condition", "custom_plans", "text_condition"]

TRIGRAM = 3                                 # the shortest substring a trigram index can answer
SEPARATORS = re.compile(r"[\s\-+().\/]")    # what migration 0012 strips from a contact for ``contact_key``
DIGITS = re.compile(r"[0-9]+")
_FTS = table("case_search_fts", column("rowid"))


def _contains(column, wanted: str, sqlite: bool) -> ColumnElement[bool]:
    """``case_instance.id`` is a case whose ``column`` of ``case_search`` contains ``wanted``."""
    if sqlite and len(wanted) >= TRIGRAM:
        phrase = f'{column.key} : "{wanted.replace(chr(34), chr(34) * 2)}"'
        return Case.id.in_(select(_FTS.c.rowid).where(literal_column(_FTS.name).op("MATCH")(phrase)))
    # Chinese and digits have no case: matching them exactly spares folding the case of every row scanned.
    caseless = wanted.lower() == wanted.upper()
    if sqlite:
        found = func.instr(column if caseless else func.lower(column), wanted.lower()) > 0
    else:                           # a backslash is PostgreSQL's escape character of LIKE by default
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", wanted) + "%"
        found = column.like(pattern) if caseless else column.ilike(pattern)
    return Case.id.in_(select(CaseSearch.case_id).where(found))


def custom_plans(session: Session) -> None:
    """Plan this transaction's searches for their own pattern (PostgreSQL): a prepared statement's generic plan
    does not know the pattern and scans instead of using the trigram index."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def text_condition(field: str, wanted: str, sqlite: bool) -> ColumnElement[bool]:
    """Cases whose ``field`` (``customer`` or ``facts``) contains ``wanted``."""
    return _contains(getattr(CaseSearch, field).expression, wanted, sqlite)


def contact_condition(wanted: str, sqlite: bool) -> ColumnElement[bool]:
    """Cases whose contact matches ``wanted``: four digits are the last four of the number; more digits (with or
    without separators: ``138-0013-8000``) are a part of the number; anything else a part of the contact."""
    key = SEPARATORS.sub("", wanted)
    if DIGITS.fullmatch(key) and len(key) == 4:
        return Case.id.in_(select(CaseSearch.case_id).where(CaseSearch.contact_last4 == key))
    if DIGITS.fullmatch(key):
        return _contains(CaseSearch.contact_key.expression, key, sqlite)
    return _contains(CaseSearch.contact.expression, wanted, sqlite)
