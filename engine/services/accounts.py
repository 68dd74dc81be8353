"""Accounts, for sign-in at every edge: check a password (throttled), keep browser sessions, read a person's
groups, keep their language.

Refused sign-ins and browser sessions live in the database, so every web worker
counts the same failures and honours the same sign-out.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..store.models import Account, Membership, SavedFilter, SignInFailure, WebSession
from . import organisation
from .core import Actor, Core
from .errors import Conflict, InvalidRequest, NotFound, SignInThrottled
from .views import AccountView

__all__ = ["FILTER_SCREENS", "LOCALES", "AccountService"]

LOCALES = ("zh_CN", "en")
FILTER_SCREENS = ("inbox", "cases")


def _account(session: Session, username: str) -> tuple[Account, AccountView] | None:
    row = session.get(Account, username)
    if row is None or not row.active:
        return None
    groups = frozenset(session.scalars(select(Membership.group_key).where(Membership.username == username)))
    return row, AccountView(row.username, row.display_name, groups, row.locale or "zh_CN")


def _storable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class AccountService:
    """Who someone is and which groups they act with; one transaction per call."""

    def __init__(self, core: Core):
        self._core = core

    def sign_in(self, username: str, password: str, address: str = "") -> AccountView | None:
        """Return the active account whose password this is, else None (unknown user or wrong password).

        Raise SignInThrottled, without checking the password, when the typed username or the client ``address``
        has had more refused sign-ins within the window than ``[sign_in]`` of policy.toml allows.
        """
        from werkzeug.security import check_password_hash

        # What a database stores: a NUL or a lone surrogate in a name or an address is no one's (and counted).
        typed, username, address = username, _storable(username)[:100], _storable(address)[:64]
        limits, now = self._core.policy.sign_in, self._core.clock()
        window = timedelta(minutes=limits.window_minutes)
        with self._core.db.transaction(write=False) as session:
            for scope, column, value, limit in (("account", SignInFailure.username, username, limits.account_failures),
                                                ("address", SignInFailure.address, address, limits.address_failures)):
                count, oldest = session.execute(select(func.count(), func.min(SignInFailure.at)).where(
                    column == value, SignInFailure.at > now - window)).one()
                if count >= limit:
                    raise SignInThrottled(scope, max(1, math.ceil((oldest + window - now).total_seconds())))
            found = _account(session, username) if username == typed else None
        if found is not None and found[0].password_hash and check_password_hash(found[0].password_hash, password):
            with self._core.db.transaction() as session:
                session.execute(delete(SignInFailure).where(SignInFailure.username == username))
            return found[1]
        with self._core.db.transaction() as session:
            session.execute(delete(SignInFailure).where(SignInFailure.at <= now - window))
            session.execute(insert(SignInFailure), {"username": username, "address": address, "at": now})
        return None

    def open_session(self, username: str, hours: float) -> str:
        """Start a browser session of ``hours`` for a signed-in person; return its token (for the signed cookie)."""
        token, now = secrets.token_urlsafe(32), self._core.clock()
        with self._core.db.transaction() as session:
            session.execute(delete(WebSession).where(WebSession.expires_at <= now))
            session.execute(insert(WebSession), {"token_sha256": _digest(token), "username": username,
                                                 "created_at": now, "expires_at": now + timedelta(hours=hours)})
        return token

    def session_account(self, token: str) -> AccountView | None:
        """Return the active account of an open, unexpired browser session, else None."""
        now = self._core.clock()
        with self._core.db.transaction(write=False) as session:
            username = session.scalar(select(WebSession.username).where(
                WebSession.token_sha256 == _digest(token), WebSession.ended_at.is_(None), WebSession.expires_at > now))
            found = _account(session, username) if username else None
        return found[1] if found else None

    def end_session(self, token: str) -> None:
        """Sign a browser session out: its token signs no one in any more, in any worker."""
        with self._core.db.transaction() as session:
            session.execute(update(WebSession).where(WebSession.token_sha256 == _digest(token),
                                                     WebSession.ended_at.is_(None)).values(ended_at=self._core.clock()))

    def account(self, username: str) -> AccountView | None:
        """Return an active account with its groups, or None."""
        with self._core.db.transaction(write=False) as session:
            found = _account(session, username)
        return found[1] if found else None

    def actor(self, username: str) -> Actor:
        """Return the actor for an active account; NotFound otherwise."""
        account = self.account(username)
        if account is None:
            raise NotFound(f"user {username!r} does not exist or is inactive", code="user_not_found",
                           username=username)
        return Actor(account.username, account.groups)

    def set_locale(self, username: str, locale: str) -> None:
        """Remember the language a person works in."""
        if locale not in LOCALES:
            raise InvalidRequest(f"unknown locale {locale!r}; one of {', '.join(LOCALES)}", code="unknown_locale",
                                 locale=locale)
        with self._core.db.transaction() as session:
            row = session.get(Account, username)
            if row is None:
                raise NotFound(f"user {username!r} does not exist", code="user_not_found", username=username)
            row.locale = locale

    def add_user(self, username: str, display_name: str, groups: list[str], password_hash: str | None = None,
                 locale: str = "zh_CN") -> None:
        """Create or update a person and replace their group memberships (``complaints users load``)."""
        with self._core.db.transaction() as session:
            organisation.save_account(session, username, display_name, groups, password_hash, locale)

    # --- saved filters (Tasklist's "filters"): a person's named queries of the inbox and the case search ---

    def saved_filters(self, username: str, screen: str) -> list[dict]:
        """Return a person's saved filters of a screen by name: {id, name, query}."""
        with self._core.db.transaction(write=False) as session:
            return [{"id": f.id, "name": f.name, "query": dict(f.query)} for f in session.scalars(
                select(SavedFilter).where(SavedFilter.username == username, SavedFilter.screen == screen)
                .order_by(SavedFilter.name))]

    def save_filter(self, username: str, screen: str, name: str, query: dict[str, str]) -> int:
        """Save (or replace, by name) a person's filter of ``screen``; return its id."""
        name = (name or "").strip()
        if screen not in FILTER_SCREENS:
            raise InvalidRequest(f"no filters on screen {screen!r}", code="invalid_screen", screen=screen)
        if not 1 <= len(name) <= 100:
            raise InvalidRequest("a filter needs a name of 1 to 100 characters", code="filter_name")
        clean = {str(k): str(v) for k, v in query.items() if v not in (None, "") and k != "cursor"}
        try:
            with self._core.db.transaction() as session:
                row = session.scalars(select(SavedFilter).where(
                    SavedFilter.username == username, SavedFilter.screen == screen, SavedFilter.name == name)).first()
                if row is None:
                    row = SavedFilter(username=username, screen=screen, name=name, query=clean,
                                      created_at=self._core.clock())
                    session.add(row)
                else:
                    row.query = clean
                session.flush()
                return row.id
        except IntegrityError:
            raise Conflict(f"a filter named {name!r} was saved meanwhile", code="filter_exists") from None

    def delete_filter(self, username: str, filter_id: int) -> None:
        """Delete one of a person's own saved filters (another's is not found)."""
        with self._core.db.transaction() as session:
            gone = session.execute(delete(SavedFilter).where(SavedFilter.id == filter_id,
                                                             SavedFilter.username == username)).rowcount
        if not gone:
            raise NotFound(f"no saved filter {filter_id}", code="filter_not_found", filter_id=filter_id)
