"""The mail outbox: scheduled reports and the ``notify`` topic's notifications go out by SMTP, once, with retries
and a dead-letter state administrators see.

A row is sent inside the transaction that locks it (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's writers queue), so two schedulers never send the same row.
A failed attempt is counted and tried again later (``backoff_minutes``); after
``max_attempts`` the row is dead: kept with its last error, never deleted, and
an administrator may send it again.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..store.models import Account, MailOutbox, Membership, Notification
from .core import Actor, Core
from .errors import Conflict, NotFound
from .report_config import MailRules
from .views import MailView

__all__ = ["SmtpSettings", "addresses_of", "enqueue", "enqueue_notifications", "outbox", "resend", "send_due"]


@dataclass(frozen=True)
class SmtpSettings:
    """Where mail goes: ``COMPLAINTS_SMTP_HOST``, ``_PORT``, ``_USER``, ``_PASSWORD``, ``_FROM``, ``_STARTTLS``."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    sender: str = "complaints@localhost"
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """Return the SMTP settings of the environment, or None when ``COMPLAINTS_SMTP_HOST`` is not set."""
        host = os.environ.get("COMPLAINTS_SMTP_HOST")
        if not host:
            return None
        return cls(host, int(os.environ.get("COMPLAINTS_SMTP_PORT", "25")), os.environ.get("COMPLAINTS_SMTP_USER"),
                   os.environ.get("COMPLAINTS_SMTP_PASSWORD"),
                   os.environ.get("COMPLAINTS_SMTP_FROM", "complaints@localhost"),
                   os.environ.get("COMPLAINTS_SMTP_STARTTLS", "") in ("1", "true", "yes"))


def addresses_of(session: Session, rules: MailRules, recipient: str) -> list[str]:
    """Return the addresses of a notification's recipient: a group's active members, else the person named."""
    members = session.scalars(select(Account.username).join(Membership, Membership.username == Account.username)
                              .where(Membership.group_key == recipient, Account.active.is_(True))
                              .order_by(Account.username)).all()
    if not members and session.get(Account, recipient) is not None:
        members = [recipient]
    return [f"{m}@{rules.domain}" for m in members]


def enqueue(session: Session, now: datetime, to: list[str], subject: str, body: str, *,
            attachment: bytes | None = None, attachment_name: str | None = None, source: str = "report",
            notification_id: int | None = None) -> int:
    """Add one message to the outbox (in the caller's transaction); return its id."""
    return session.execute(insert(MailOutbox).returning(MailOutbox.id), [{
        "source": source, "notification_id": notification_id, "recipients": list(to), "subject": subject,
        "body": body, "attachment": attachment, "attachment_name": attachment_name, "state": "pending",
        "attempts": 0, "next_attempt_at": now, "last_error": None, "created_at": now, "sent_at": None}]).scalar_one()


def enqueue_notifications(core: Core, rules: MailRules, now: datetime, since: datetime, limit: int = 500) -> int:
    """Put the ``notify`` topic's notifications since ``since`` that have no outbox row yet into the outbox.

    Older ones (written before mail was configured) are left alone rather than mailed late in a burst.
    """
    with core.db.transaction() as session:
        queued = select(MailOutbox.notification_id).where(MailOutbox.notification_id.is_not(None))
        query = (select(Notification).where(Notification.sent_at.is_(None), Notification.created_at >= since,
                                            Notification.id.not_in(queued))
                 .order_by(Notification.id).limit(limit))
        if not core.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        count = 0
        for n in session.scalars(query):
            to = addresses_of(session, rules, n.recipient)
            facts = "\n".join(f"{k}: {v}" for k, v in sorted((n.data or {}).items()))
            mail_id = enqueue(session, now, to, f"[投诉 #{n.case_id}] {n.template}",
                              f"{n.template}\n\ncase {n.case_id}, {n.element_id}, to {n.recipient}\n{facts}\n",
                              source="notification", notification_id=n.id)
            if not to:      # nobody to mail: dead at once, with the reason, never silently dropped
                session.execute(update(MailOutbox).where(MailOutbox.id == mail_id).values(
                    state="dead", last_error=f"no address for recipient {n.recipient!r}"))
            count += 1
        return count


def _message(row: MailOutbox, smtp: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, ", ".join(row.recipients), row.subject
    message["Message-ID"] = f"<outbox-{row.id}@{smtp.sender.rsplit('@', 1)[-1]}>"
    message.set_content(row.body)
    if row.attachment is not None:
        message.add_attachment(row.attachment, maintype="application",
                               subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               filename=row.attachment_name or "report.xlsx")
    return message


def _send(message: EmailMessage, smtp: SmtpSettings) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        if smtp.starttls:
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(message)


def send_due(core: Core, rules: MailRules, smtp: SmtpSettings, now: datetime, limit: int = 100) -> dict[str, int]:
    """Send the pending messages due now, one locked row per transaction; count sent, retried, dead."""
    counts = {"sent": 0, "retried": 0, "dead": 0}
    for _ in range(limit):
        with core.db.transaction() as session:
            query = (select(MailOutbox).where(MailOutbox.state == "pending", MailOutbox.next_attempt_at <= now)
                     .order_by(MailOutbox.next_attempt_at, MailOutbox.id).limit(1))
            if not core.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            row = session.scalars(query).first()
            if row is None:
                break
            row.attempts += 1
            try:
                _send(_message(row, smtp), smtp)
            except (OSError, smtplib.SMTPException) as exc:
                row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if row.attempts >= rules.max_attempts:
                    row.state = "dead"
                    counts["dead"] += 1
                else:
                    wait = rules.backoff_minutes[min(row.attempts, len(rules.backoff_minutes)) - 1]
                    row.next_attempt_at = now + timedelta(minutes=wait)
                    counts["retried"] += 1
                continue
            row.state, row.sent_at, row.last_error = "sent", now, None
            if row.notification_id is not None:
                session.execute(update(Notification).where(Notification.id == row.notification_id)
                                .values(sent_at=now))
            counts["sent"] += 1
    return counts


def _view(row: MailOutbox) -> MailView:
    return MailView(row.id, row.source, row.notification_id, tuple(row.recipients), row.subject, row.state,
                    row.attempts, row.next_attempt_at, row.last_error, row.created_at, row.sent_at,
                    row.attachment_name)


def outbox(core: Core, actor: Actor, state: str | None = None, limit: int = 200) -> list[MailView]:
    """Return the newest outbox rows (of one state) for administrators."""
    core.policy.require(actor, "administer_mail", "see the mail outbox")
    query = select(MailOutbox).order_by(MailOutbox.id.desc()).limit(limit)
    if state:
        query = query.where(MailOutbox.state == state)
    with core.db.transaction(write=False) as session:
        return [_view(r) for r in session.scalars(query)]


def resend(core: Core, actor: Actor, mail_id: int) -> MailView:
    """Put a dead message back in the queue (an administrator's decision once the cause is fixed)."""
    core.policy.require(actor, "administer_mail", "resend mail")
    with core.db.transaction() as session:
        row = session.get(MailOutbox, mail_id)
        if row is None:
            raise NotFound(f"mail {mail_id} does not exist", code="mail_not_found", mail_id=mail_id)
        if row.state != "dead":
            raise Conflict(f"mail {mail_id} is {row.state}, not dead", code="mail_not_dead", mail_id=mail_id,
                           state=row.state)
        row.state, row.attempts, row.next_attempt_at = "pending", 0, core.clock()
        return _view(row)

