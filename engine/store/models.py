"""Tables: process versions, cases with their serialized state, and the rows lists query (tasks, timers, events)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator):
    """Store instants in UTC; hand back aware UTC datetimes on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class ProcessVersion(Base):
    """One deployed version of a process key, with the file it came from."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_process_version_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(200))
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    calls: Mapped[list[Any]]
    deployed_by: Mapped[str] = mapped_column(String(100))
    deployed_at: Mapped[datetime]


class Case(Base):
    """A running or finished case: the serialized workflow plus what lists show."""

    __tablename__ = "case_instance"
    # The reports' population: intake cases of a process registered in a period (P-1..P-3, migration 0007).
    __table_args__ = (Index("ix_case_instance_process_started", "process_key", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(100), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    pinned: Mapped[dict[str, Any]]          # process key -> version id, fixed at start
    status: Mapped[str] = mapped_column(String(20), index=True)   # running | paused | completed | incident | cancelled
    category: Mapped[str | None] = mapped_column(String(200), index=True)   # leaf category code, for counts (C-2, C-6)
    revision: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(Text)
    # JSONB on PostgreSQL: the reports read fields of it per row (P-1..P-3), which json would parse every time.
    data: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"))
    incident: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class CaseSearch(Base):
    """What the case search matches, one row per case, kept by triggers on ``case_instance`` (migration 0012).

    ``contact_key`` is the contact without separators, ``contact_last4`` its last four characters. Substring
    matches of 3+ characters use a trigram index the models do not describe: on SQLite the FTS5 table
    ``case_search_fts``, on PostgreSQL the GIN index ``ix_case_search_trgm`` (``pg_trgm``, when installed).
    """

    __tablename__ = "case_search"

    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), primary_key=True)
    customer: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text)
    contact_key: Mapped[str] = mapped_column(Text)
    contact_last4: Mapped[str] = mapped_column(String(4), index=True)
    facts: Mapped[str] = mapped_column(Text)


class UserTask(Base):
    """A user task that became READY; it stays as history once completed or cancelled."""

    __tablename__ = "user_task"
    __table_args__ = (Index("ix_user_task_state_due", "state", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    lane: Mapped[str | None] = mapped_column(String(200))
    candidate_groups: Mapped[list[Any]]
    candidate_users: Mapped[list[Any]]
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(12))               # ready | completed | cancelled
    form: Mapped[list[Any]]
    documentation: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(100))


class TaskCandidate(Base):
    """The inbox index: who sees a READY task, one row each, kept by triggers on ``user_task`` (migration 0006).

    An assigned task has one row (kind ``assignee``); an unassigned one a row per
    distinct candidate group and user. The rows carry the inbox's sort key, so a
    page of anyone's inbox is a range of ``ix_task_candidate_inbox``.
    """

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_inbox", "kind", "name", "due_sort", "created_at", "task_id"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("user_task.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)     # assignee | group | user
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    due_sort: Mapped[datetime]          # the task's due time, NO_DUE when it has none (such tasks sort last)
    created_at: Mapped[datetime]


# The due time the inbox index gives a task without one: after every real deadline.
NO_DUE = datetime(9999, 12, 31, tzinfo=timezone.utc)


class Timer(Base):
    """A waiting timer event and when it is due (UTC), for the scheduler's sweep."""

    __tablename__ = "timer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """Append-only audit trail: one row per lifecycle change of a BPMN element of a case."""

    __tablename__ = "audit_event"
    # Whether a case reached an element (transferred, escalated: P-1, P-2), one index probe per case.
    __table_args__ = (Index("ix_audit_event_case_element", "case_id", "element_id", "lifecycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(200))
    element_name: Mapped[str | None] = mapped_column(String(200))
    element_type: Mapped[str | None] = mapped_column(String(50))
    flow_id: Mapped[str | None] = mapped_column(String(200))
    lifecycle: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any] | None]


class Account(Base):
    """A person who signs in; groups come from memberships."""

    __tablename__ = "account"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    locale: Mapped[str] = mapped_column(String(10), default="zh_CN")
    active: Mapped[bool] = mapped_column(default=True)


class Membership(Base):
    """A person's membership of a group (the groups BPMN lanes and candidate groups name)."""

    __tablename__ = "membership"

    username: Mapped[str] = mapped_column(ForeignKey("account.username"), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Notification(Base):
    """An outgoing message a process asked for (the ``notify`` topic); a mailer sends and stamps it."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)


class OverdueRecord(Base):
    """A deadline a case missed (N-11, N-12, E-5, Q-2), recorded by the ``record_overdue`` topic for scoring."""

    __tablename__ = "overdue_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(20), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    responsible_group: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class KnowledgeEntry(Base):
    """An effective solution added to the handling knowledge base (E-8, 纳入投诉处理服务规范文件)."""

    __tablename__ = "knowledge_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(200), index=True)
    problem: Mapped[str] = mapped_column(Text)
    solution: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CalendarOverride(Base):
    """An administrator's entry for one date: a workday or a day off (the State Council's yearly notice)."""

    __tablename__ = "calendar_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(200), default="")
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime]


class ExactDecimal(TypeDecorator):
    """Store a Decimal with 4 places exactly as an integer of ten-thousandths (SQLite has no exact decimal)."""

    impl = BigInteger
    cache_ok = True
    SCALE = 4

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.SCALE)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        return None if value is None else Decimal(int(value)).scaleb(-self.SCALE)


class OrgUnit(Base):
    """A unit of the organisation: company, department, group, grid, call-centre team, channel partner (000 一)."""

    __tablename__ = "org_unit"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent: Mapped[str | None] = mapped_column(ForeignKey("org_unit.key"))
    head: Mapped[str | None] = mapped_column(ForeignKey("account.username"))
    group_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    aliases: Mapped[list[Any]]


class OrgPerson(Base):
    """Where a person sits in the organisation: unit and direct leader (S-6 scoring follows them)."""

    __tablename__ = "org_person"

    username: Mapped[str] = mapped_column(ForeignKey("account.username"), primary_key=True)
    unit: Mapped[str | None] = mapped_column(ForeignKey("org_unit.key"), index=True)
    leader: Mapped[str | None] = mapped_column(ForeignKey("account.username"))
    title: Mapped[str] = mapped_column(String(100), default="")


class DeductionEntry(Base):
    """Append-only deduction ledger (S-7): one row per person, unit or KPI, role and rule of a case; reversals too."""

    __tablename__ = "deduction_entry"
    __table_args__ = (
        UniqueConstraint("case_id", "rule_id", "subject", "role", "kind", name="uq_deduction_entry_booking"),
        Index("ix_deduction_entry_month_subject", "month", "subject"),
        Index("ix_deduction_entry_month_department", "month", "department"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))               # booking | reversal
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(100))           # username, unit key or the company key
    subject_kind: Mapped[str] = mapped_column(String(10))       # person | unit | kpi
    subject_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    department: Mapped[str] = mapped_column(String(100), index=True)    # the subject's department when booked
    amount: Mapped[Decimal] = mapped_column("amount_e4", ExactDecimal())   # 0.05 is stored as 500
    unit: Mapped[str] = mapped_column(String(10))               # points | yuan
    month: Mapped[str] = mapped_column(String(7))               # YYYY-MM, Beijing time of the booking
    element_id: Mapped[str] = mapped_column(String(200))        # the booking service task
    booked_by: Mapped[str] = mapped_column(String(100))
    booked_at: Mapped[datetime]
    reverses: Mapped[int | None] = mapped_column(ForeignKey("deduction_entry.id"), unique=True)
    reason: Mapped[str | None] = mapped_column(Text)


class TeamComplaint(Base):
    """A service-quality complaint against a call-centre agent that reached 二解, counted per team and month (Q-3)."""

    __tablename__ = "team_complaint"
    __table_args__ = (Index("ix_team_complaint_team_month", "team", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), unique=True)
    team: Mapped[str] = mapped_column(ForeignKey("org_unit.key"))
    agent: Mapped[str] = mapped_column(ForeignKey("account.username"))
    month: Mapped[str] = mapped_column(String(7))
    registered_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser session: the cookie carries a random token, the table its SHA-256 and its end.

    Signing out ends the row, so a copy of the cookie taken before no longer signs anyone in, in any web worker.
    """

    __tablename__ = "web_session"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("account.username"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class SignInFailure(Base):
    """A refused sign-in (wrong password or unknown user): counted per account and per address to throttle guessing."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_username_at", "username", "at"),
                      Index("ix_sign_in_failure_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))      # as typed: unknown names are counted too
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(index=True)


class IntakeToken(Base):
    """The form token of an intake that started a case: the same form submitted again finds its case (issue 18)."""

    __tablename__ = "intake_token"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"))
    username: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class SavedFilter(Base):
    """A person's saved inbox or case-search filter (Tasklist's "filters"): a name and its query string."""

    __tablename__ = "saved_filter"
    __table_args__ = (Index("ux_saved_filter_owner_name", "username", "screen", "name", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    screen: Mapped[str] = mapped_column(String(20))        # inbox | cases
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class Deadline(Base):
    """A deadline a case ran under: a boundary timer from when it was set until it was met or missed (及时率).

    Written by the command that sets, moves, fires or cancels the timer, so that adherence per rule is a
    query. ``due_at`` is the latest due time (an extension or a resume moves it; a pause keeps it).
    """

    __tablename__ = "deadline"
    __table_args__ = (Index("ix_deadline_rule_due", "rule_id", "due_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)      # the timer's task id
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))               # the boundary timer
    attached_to: Mapped[str] = mapped_column(String(200))              # the activity it watches
    rule_id: Mapped[str | None] = mapped_column(String(20))            # from the timer's documentation (N-4 ...)
    kind: Mapped[str] = mapped_column(String(8))                       # working | clock: how lateness is counted
    interrupting: Mapped[bool]
    department: Mapped[str | None] = mapped_column(String(100), index=True)
    outcome: Mapped[str] = mapped_column(String(10))                   # open | met | missed | cancelled
    set_at: Mapped[datetime]
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]          # when the watched activity completed (or was interrupted)


class TypicalCase(Base):
    """A case the complaint group picked as typical for a week's report and meeting (P-1, 000 一.1.6)."""

    __tablename__ = "typical_case"
    __table_args__ = (UniqueConstraint("period", "case_id", name="uq_typical_case_period_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(10), index=True)      # ISO week, e.g. 2025-W16
    case_id: Mapped[int] = mapped_column(ForeignKey("case_instance.id"))
    note: Mapped[str] = mapped_column(Text)
    picked_by: Mapped[str] = mapped_column(String(100))
    picked_at: Mapped[datetime]


class ReportDelivery(Base):
    """The claim that a scheduled report (or a P-4 rectification) of a period was produced: one row, ever.

    Inserted in the transaction that queues the mail or starts the case, so two
    schedulers produce it once (``uq_report_delivery``).
    """

    __tablename__ = "report_delivery"
    __table_args__ = (UniqueConstraint("report", "period", "variant", name="uq_report_delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report: Mapped[str] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10))
    variant: Mapped[str] = mapped_column(String(150))   # the schedule's due rule, or department:<key> for P-4
    due_at: Mapped[datetime]
    delivered_at: Mapped[datetime]
    result: Mapped[dict[str, Any]]


class MailOutbox(Base):
    """A message to send by SMTP (a report or a notification): pending, sent or dead, with its attempts."""

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))             # report | notification
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"), unique=True)
    recipients: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    attachment: Mapped[bytes | None] = mapped_column(LargeBinary)
    attachment_name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10))              # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class SchedulerBeat(Base):
    """The last sweep of each scheduler process (host:pid): the operations page tells a stopped scheduler."""

    __tablename__ = "scheduler_beat"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    beat_at: Mapped[datetime]
    result: Mapped[dict[str, Any]]
