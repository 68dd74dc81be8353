"""Scheduled reports by real SMTP (aiosmtpd on 127.0.0.1): once per report and period, to the organisation's
roles, with the XLSX; the notification outbox retried and dead-lettered, never lost (SPEC §9, P-1..P-4)."""

from __future__ import annotations

import email
import io
import json
import os
import socket
import subprocess
import sys
from datetime import datetime
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from openpyxl import load_workbook
from sqlalchemy import func, select

from engine.services import SYSTEM, Conflict
from engine.services.mail import SmtpSettings
from engine.store.models import Case, MailOutbox, Notification
from tests.conftest import SHANGHAI
from tests.processes.casewalk import shipped_engine
from tests.reportmonth import Month

ROOT = Path(__file__).parents[2]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts, or refuses them all."""

    def __init__(self, refuse: bool = False):
        self.refuse, self.messages = refuse, []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "550 mailbox unavailable"
        self.messages.append((tuple(envelope.rcpt_tos), email.message_from_bytes(envelope.content,
                                                                                 policy=policy.default)))
        return "250 OK"

    def subjects(self) -> list[str]:
        return sorted(str(m["Subject"]) for _, m in self.messages)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listener():
    """Yield a real SMTP server on 127.0.0.1 and its inbox; ``listener.refuse = True`` makes it refuse mail."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.smtp = SmtpSettings("127.0.0.1", controller.port, sender="complaints@example.com")
    yield inbox
    controller.stop()


@pytest.fixture
def month(db, clock):
    return Month(shipped_engine(db, clock), clock).build()


def xlsx_of(message) -> dict[str, list[list]]:
    part = next(p for p in message.iter_attachments())
    book = load_workbook(io.BytesIO(part.get_content()))
    return {name: [list(r) for r in book[name].iter_rows(values_only=True)] for name in book.sheetnames}


def test_p2_is_mailed_once_with_its_xlsx_to_the_roles_of_the_data(month, listener):
    e, clock = month.engine, month.clock
    clock.set(at("2025-05-06T09:30"))       # 1-5 May are days off: P-2 of April is due Tuesday 6 May 09:00
    queued = e.reports.deliver()
    # Week 18 (28 Apr - 4 May) is due the same morning.
    assert [(d["report"], d["period"]) for d in queued] == [("P-1", "2025-W18"), ("P-2", "2025-04")]
    assert e.reports.deliver() == []                                   # once, however often the job runs
    assert e.reports.send_mail(listener.smtp)["sent"] == sum(len(d["mails"]) for d in queued)
    whole = [m for rcpt, m in listener.messages if "zhao.group@example.com" in rcpt and "P-2" in m["Subject"]]
    assert len(whole) == 1 and str(whole[0]["Subject"]) == "P-2 2025-04"
    assert set(str(whole[0]["To"]).split(", ")) >= {"zhao.group@example.com", "liu.quality@example.com"}
    sheets = xlsx_of(whole[0])
    assert ["market", "市场部", 2, 0, 0, 1, 1] in sheets["by_department"]
    # A department head gets his department's report only (SPEC §9 permissions).
    network = [m for rcpt, m in listener.messages if rcpt == ("ma.network@example.com",) and "P-2" in m["Subject"]]
    assert len(network) == 1 and str(network[0]["Subject"]) == "P-2 2025-04 (network)"
    assert [r[0] for r in xlsx_of(network[0])["by_department"][1:]] == ["network"]
    assert e.reports.send_mail(listener.smtp) == {"sent": 0, "retried": 0, "dead": 0}


def test_p1_and_p3_fall_due_on_working_days(month, listener):
    e, clock = month.engine, month.clock
    clock.set(at("2025-04-21T08:59"))
    assert e.reports.deliver() == []                                   # P-1 of week 16 is due Monday 09:00
    clock.set(at("2025-04-21T09:00"))
    assert [(d["report"], d["period"]) for d in e.reports.deliver()] == [("P-1", "2025-W16")]
    clock.set(at("2025-06-13T09:00"))       # 15 June is a Sunday: the analysis goes out on Friday 13th
    assert [(d["report"], d["variant"]) for d in e.reports.deliver()] == [("P-1", "next_working_day"),
                                                                          ("P-3", "working_day_by:15")]


def test_p4_the_scheduler_starts_one_rectification_cycle_per_department(month, listener):
    e, clock = month.engine, month.clock
    clock.set(at("2025-05-06T10:00"))
    started = e.reports.start_rectifications()
    assert len(started) == 1 and e.reports.start_rectifications() == []
    case = e.reads.case_page(started[0], SYSTEM)
    assert case.case.process_key == "rectification" and case.case.data["department"] == "network"
    assert case.case.data["rectification_due"] == "2025-06-06T18:00:00+08:00"     # 以一个月为整改周期
    head = e.accounts.actor("ma.network")
    task = next(t for t in e.reads.inbox(head).tasks if t.case_id == started[0])
    assert task.element_id == "rectify" and task.due_at == at("2025-06-06T18:00")
    report = e.reports.report("P-4", "2025-04", SYSTEM)
    assert [list(r) for r in report.table("rectification").rows] == [
        ["network", "网络部", 2, report.table("rectification").rows[0][3], started[0]]]
    clock.set(at("2025-06-06T18:01"))
    e.deadlines.fire_due_timers()           # the month ran out: the complaint group is told, the task stays
    with e.store_session() as s:
        assert s.scalar(select(Notification.template).where(Notification.case_id == started[0])) \
            == "p4_rectification_overdue"
    e.cases.complete(task.id, {"rectification_measures": "前台业务培训两次", "training_held": True}, head)
    group = e.accounts.actor("zhao.group")
    verify = next(t for t in e.reads.inbox(group).tasks if t.case_id == started[0])
    e.cases.complete(verify.id, {"verification_opinion": "通过", "rectification_accepted": True}, group)
    assert e.reads.case_page(started[0], SYSTEM).case.status == "completed"


def test_a_refusing_listener_leaves_mail_retried_then_dead_lettered_never_lost(month, listener):
    e, clock = month.engine, month.clock
    clock.set(at("2025-04-18T09:00"))                    # the reminders of the 17th's deadlines are a day old
    assert e.reports.queue_notifications() > 0
    clock.set(at("2025-05-06T09:30"))
    listener.refuse = True
    queued = [i for d in e.reports.deliver() for i in d["mails"]]
    rules = e.reports.config.mail
    for attempt in range(1, rules.max_attempts + 1):
        result = e.reports.send_mail(listener.smtp)
        if attempt < rules.max_attempts:
            assert result["retried"] > 0 and result["dead"] == 0 and result["sent"] == 0
            assert e.reports.send_mail(listener.smtp)["retried"] == 0        # not before its next attempt
            clock.advance(minutes=rules.backoff_minutes[min(attempt, len(rules.backoff_minutes)) - 1])
        else:
            assert result["dead"] > 0
    admin = e.accounts.actor("admin")
    dead = e.reports.outbox(admin, state="dead")
    assert {m.id for m in dead} >= set(queued)
    assert all(m.attempts == rules.max_attempts and "550" in (m.last_error or "") for m in dead
               if m.id in queued)
    assert listener.messages == []
    listener.refuse = False                 # the administrator fixed the server and sends it again
    assert e.reports.resend(queued[0], admin).state == "pending"
    assert e.reports.send_mail(listener.smtp)["sent"] == 1 and len(listener.messages) == 1
    with pytest.raises(Conflict):
        e.reports.resend(queued[0], admin)                             # sent: nothing to resend


def test_notifications_of_the_notify_topic_go_out_by_mail_to_the_group(month, listener):
    e = month.engine
    month.clock.set(at("2025-05-06T09:30"))
    assert e.reports.queue_notifications() == 0          # those of April are too old to be mailed late
    month.clock.set(at("2025-04-18T09:00"))
    assert e.reports.queue_notifications() > 0
    assert e.reports.queue_notifications() == 0
    e.reports.send_mail(listener.smtp)
    with e.store_session() as s:
        queued = s.scalar(select(func.count()).select_from(MailOutbox).where(MailOutbox.source == "notification"))
        sent = s.scalar(select(func.count()).select_from(Notification).where(Notification.sent_at.is_not(None)))
        undeliverable = s.scalar(select(func.count()).select_from(MailOutbox).where(
            MailOutbox.source == "notification", MailOutbox.state == "dead"))
    assert sent + undeliverable == queued and sent > 0
    assert any(rcpt for rcpt, m in listener.messages if str(m["Subject"]).startswith("[投诉 #"))


# PostgreSQL only: two schedulers share one PostgreSQL (README: Running on PostgreSQL with several workers).
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_scheduler_processes_on_postgresql_mail_each_report_exactly_once(db_url, month, listener):
    env = dict(os.environ, PYTHONPATH=str(ROOT), COMPLAINTS_SMTP_HOST="127.0.0.1",
               COMPLAINTS_SMTP_PORT=str(listener.smtp.port), COMPLAINTS_SMTP_FROM="complaints@example.com")
    command = [sys.executable, "-m", "engine.cli", "--database", db_url, "--now", "2025-05-06T10:30:00+08:00",
               "report", "deliver"]
    schedulers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True) for _ in range(2)]
    results = []
    for scheduler in schedulers:
        out, err = scheduler.communicate(timeout=300)
        assert scheduler.returncode == 0, err
        results.append(json.loads(out))
    reports = sorted((d for r in results for d in r["reports"]), key=lambda d: d["report"])
    assert [(d["report"], d["period"]) for d in reports] == [("P-1", "2025-W18"), ("P-2", "2025-04")]   # once each
    assert sum(len(r["rectifications"]) for r in results) == 1
    expected = sum(len(d["mails"]) for d in reports)
    report_mail = [m for _, m in listener.messages if str(m["Subject"]).startswith(("P-1 2025-W18", "P-2 2025-04"))]
    assert len(report_mail) == expected
    assert len({(str(m["Subject"]), str(m["To"])) for m in report_mail}) == expected      # none twice
    with month.engine.store_session() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.process_key == "rectification")) == 1
        assert s.scalar(select(func.count()).select_from(MailOutbox).where(MailOutbox.state == "sent")) \
            == len(listener.messages)
