"""Command line: the operator's and the integrator's way into the engine; every answer is JSON on stdout.

Errors are JSON on stderr with exit codes 2 (bad input), 3 (forbidden), 4 (not found), 5 (conflict).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import app
from .services import SYSTEM, DeploymentRefused, FixedClock, ServiceError
from .services.serialize import error as error_json, plain
from .settings import Settings

EXIT = {400: 2, 403: 3, 404: 4, 409: 5}
STILL_IN_INCIDENT = 6          # retry (or repair with retry) ran and the case is in incident again


def _out(value: Any) -> None:
    json.dump(plain(value), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _json_arg(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    if text.startswith("@"):
        text = Path(text[1:]).read_text(encoding="utf-8")
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("--data must be a JSON object")
    return value


def _actor(engine, args):
    return engine.accounts.actor(args.user) if args.user else SYSTEM


def cmd_db(engine, args) -> Any:
    return engine.admin.upgrade_schema()


def cmd_deploy(engine, args) -> Any:
    actor = _actor(engine, args)
    deployed, pending = [], [Path(p) for p in args.files]
    while pending:
        # A file calling a process of a later file is refused; it is tried again once that one is deployed.
        refused = []
        for path in pending:
            try:
                versions = engine.admin.deploy(path.read_bytes(), path.name, actor)
                deployed += [dict(plain(v), file=str(path)) for v in versions]
            except DeploymentRefused as exc:
                refused.append((path, exc))
        if len(refused) == len(pending):
            raise refused[0][1]
        pending = [path for path, _ in refused]
    return deployed


def cmd_versions(engine, args) -> Any:
    return engine.admin.versions(args.key)


def cmd_start(engine, args) -> Any:
    return engine.cases.start(args.key, _json_arg(args.data), _actor(engine, args))


def cmd_tasks(engine, args) -> Any:
    return engine.reads.inbox(engine.accounts.actor(args.user), process_key=args.process, cursor=args.cursor,
                              page_size=args.page_size)


def cmd_claim(engine, args) -> Any:
    return engine.cases.claim(args.task, engine.accounts.actor(args.user))


def cmd_unclaim(engine, args) -> Any:
    return engine.cases.unclaim(args.task, engine.accounts.actor(args.user))


def cmd_complete(engine, args) -> Any:
    return engine.cases.complete(args.task, _json_arg(args.data), engine.accounts.actor(args.user))


def cmd_retry(engine, args) -> Any:
    return engine.cases.retry(args.case, engine.accounts.actor(args.user))


def cmd_repair(engine, args) -> Any:
    return engine.cases.repair(args.case, engine.accounts.actor(args.user), reason=args.reason,
                               data=_json_arg(args.data) if args.data else None, version=args.version,
                               retry=not args.no_retry)


def cmd_cancel(engine, args) -> Any:
    return engine.cases.cancel(args.case, engine.accounts.actor(args.user), reason=args.reason)


def cmd_fire(engine, args) -> Any:
    return engine.deadlines.fire_due_timers()


def cmd_case(engine, args) -> Any:
    return engine.reads.case_page(args.case, SYSTEM)


def cmd_audit(engine, args) -> Any:
    page = engine.reads.case_page(args.case, SYSTEM)
    return {"case": args.case, "events": page.events, "path": page.path}


def cmd_pause(engine, args) -> Any:
    ref = engine.deadlines.pause(args.case, args.reason, engine.accounts.actor(args.user))
    return _with_timers(engine, ref)


def cmd_resume(engine, args) -> Any:
    return _with_timers(engine, engine.deadlines.resume(args.case, engine.accounts.actor(args.user)))


def cmd_extend(engine, args) -> Any:
    ref = engine.deadlines.extend(args.case, args.days, args.reason, engine.accounts.actor(args.user), args.element)
    return _with_timers(engine, ref)


def _with_timers(engine, ref) -> dict[str, Any]:
    """Return a command's case with the deadlines it now waits on (what pause, resume and extend change)."""
    return dict(plain(ref), timers=plain(engine.reads.case_page(ref.id, SYSTEM).timers))


def cmd_calendar(engine, args) -> Any:
    from .rules import calendar as cal

    deadlines = engine.deadlines
    if args.action == "list":
        return deadlines.overrides()
    if args.action in ("add", "remove"):
        if not args.date:
            raise ValueError(f"calendar {args.action} needs --date YYYY-MM-DD")
        day, actor = date.fromisoformat(args.date), engine.accounts.actor(args.user or "")
        if args.action == "remove":
            deadlines.remove_override(day, actor)
        else:
            deadlines.set_override(day, not args.day_off, args.note or "", actor)
        return deadlines.overrides()
    calendar = deadlines.calendar()
    start = datetime.fromisoformat(args.start) if args.start else engine.clock()
    if (args.days is None) == (args.hours is None):
        raise ValueError("calendar due needs exactly one of --days N (working days) or --hours H (working hours)")
    due = (cal.due_in_working_days(calendar, start, args.days) if args.days is not None
           else cal.working_hours(calendar, start, args.hours))
    return {"start": start.isoformat(), "working_days": args.days, "working_hours": args.hours,
            "due": due.isoformat(), "workday": calendar.is_workday(due.date())}


def cmd_users(engine, args) -> Any:
    return app.load_users(engine, Path(args.file))


def cmd_org(engine, args) -> Any:
    from .rules.organisation import read_file

    if args.action == "show":
        return engine.admin.organisation()
    if not args.file:
        raise ValueError("org load needs FILE (e.g. data/organisation.toml)")
    return engine.admin.load_organisation(read_file(Path(args.file)))


def cmd_demo(engine, args) -> Any:
    from .demo import create_demo_cases

    return create_demo_cases(engine)


def cmd_ledger(engine, args) -> Any:
    ledger = engine.ledger
    if args.action == "reverse":
        if args.entry is None or not args.user:
            raise ValueError("ledger reverse needs ENTRY and --user")
        return ledger.reverse(args.entry, engine.accounts.actor(args.user), args.reason or "")
    if not args.month and not (args.action == "list" and args.case):
        raise ValueError(f"ledger {args.action} needs --month YYYY-MM")
    if args.action == "export":
        sys.stdout.write(ledger.export_csv(args.month, args.by))
        return None
    if args.action == "totals":
        return ledger.totals(args.month, args.by or "person")
    return ledger.entries(args.month, args.case)


def cmd_conformance(engine, args) -> Any:
    if args.case is not None:
        return engine.compliance.case(args.case, _actor(engine, args))
    return engine.compliance.summary(_actor(engine, args), _selection(args))


def _selection(args):
    from .services import Selection

    return Selection.parse({"process": args.process, "version": args.version, "category": args.category,
                            "department": args.department, "status": args.status, "from": args.start,
                            "to": args.end})


def cmd_adherence(engine, args) -> Any:
    return engine.compliance.adherence(_actor(engine, args), _selection(args))


def cmd_export_xes(engine, args) -> Any:
    content = engine.compliance.export(_actor(engine, args), _selection(args), args.format)
    if args.output:
        Path(args.output).write_bytes(content)
        return {"written": args.output, "bytes": len(content)}
    sys.stdout.buffer.write(content)
    return None


def cmd_import_log(engine, args) -> Any:
    mapping = {"case": args.case_column, "activity": args.activity_column, "timestamp": args.time_column,
               "resource": args.resource_column, "transition": args.transition_column}
    fmt = args.format or ("xes" if args.file.lower().endswith(".xes") else "csv")
    return engine.compliance.check_log(_actor(engine, args), Path(args.file).read_bytes(), fmt, args.key,
                                       args.version, mapping, args.match, args.closed)


def _drill(pairs: list[str] | None) -> dict[str, Any]:
    drill: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--filter takes KEY=VALUE, not {pair!r}")
        drill[key] = {"true": True, "false": False}.get(value, value)
    return drill


def cmd_report(engine, args) -> Any:
    reports, actor = engine.reports, _actor(engine, args)
    if args.action == "deliver":
        from .scheduler import deliver_reports

        return deliver_reports(engine)
    if args.action in ("pick", "unpick"):
        if args.case is None or not args.period or not args.user:
            raise ValueError(f"report {args.action} needs --period YYYY-Www, --case N and --user")
        if args.action == "pick":
            return {"picked": reports.pick_typical(args.period, args.case, args.note or "", actor)}
        return {"unpicked": reports.unpick_typical(args.period, args.case, actor)}
    if not args.key or not args.period:
        raise ValueError(f"report {args.action} needs a report (P-1..P-4) and --period")
    if args.action == "cases":
        return reports.cases(args.key, args.period, actor, _drill(args.filter), args.department)
    if args.format == "json":
        return reports.report(args.key, args.period, actor, args.department)
    data = reports.export(args.key, args.period, actor, args.format, args.department)
    if args.output:
        Path(args.output).write_bytes(data)
        return {"written": args.output, "bytes": len(data)}
    if args.format == "xlsx":
        raise ValueError("an XLSX export needs --output FILE")
    sys.stdout.write(data.decode("utf-8-sig"))
    return None


def cmd_mail(engine, args) -> Any:
    from .services.mail import SmtpSettings

    reports = engine.reports
    if args.action == "outbox":
        return reports.outbox(_actor(engine, args), args.state)
    if args.action == "resend":
        if args.mail is None or not args.user:
            raise ValueError("mail resend needs MAIL_ID and --user")
        return reports.resend(args.mail, _actor(engine, args))
    smtp = SmtpSettings.from_env()
    if smtp is None:
        raise ValueError("mail send needs COMPLAINTS_SMTP_HOST (and _PORT, _USER, _PASSWORD, _FROM, _STARTTLS)")
    return {"queued": reports.queue_notifications(), **reports.send_mail(smtp)}


def cmd_serve(engine, args) -> Any:
    app.serve(args.host, args.port, args.workers, args.schedulers, args.interval)


def cmd_scheduler(engine, args) -> Any:
    from .scheduler import run_scheduler

    run_scheduler(engine, args.interval)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="complaints", description=__doc__)
    p.add_argument("--database", help="SQLAlchemy URL (default: $DATABASE_URL or sqlite:///var/complaints.db)")
    p.add_argument("--now", help="run as if the time were this ISO 8601 instant (with offset)")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name, fn, help_text, *arguments):
        sp = sub.add_parser(name, help=help_text)
        for flags, kwargs in arguments:
            sp.add_argument(*flags, **kwargs)
        sp.set_defaults(fn=fn)
        return sp

    user = (("--user",), {"required": True, "help": "username acting"})
    add("db", cmd_db, "create or upgrade the schema (Alembic)", (("action",), {"choices": ["upgrade"]}))
    add("deploy", cmd_deploy, "deploy BPMN files as new versions", (("files",), {"nargs": "+"}),
        (("--user",), {"help": "who deploys (default: system)"}))
    add("versions", cmd_versions, "list deployed versions", (("--key",), {}))
    add("start", cmd_start, "start a case of a process key", (("key",), {}),
        (("--data",), {"help": "JSON object or @file"}), (("--user",), {}))
    add("tasks", cmd_tasks, "list a page of a user's tasks (assigned and claimable) by due time", user,
        (("--process",), {}), (("--cursor",), {"help": "next_cursor of the previous page"}),
        (("--page-size",), {"type": int, "default": 50}))
    add("claim", cmd_claim, "claim a task", (("task",), {}), user)
    add("unclaim", cmd_unclaim, "give a claimed task back", (("task",), {}), user)
    add("complete", cmd_complete, "complete a task with form data", (("task",), {}), user,
        (("--data",), {"help": "JSON object or @file"}))
    add("retry", cmd_retry, "retry a case in incident (admin)", (("case",), {"type": int}), user)
    add("repair", cmd_repair, "repair a case (admin, audited): set start-form data, move it to another version "
        "of its process, retry its failed steps", (("case",), {"type": int}), user,
        (("--reason",), {"required": True}), (("--data",), {"help": "JSON object or @file: start-form fields"}),
        (("--version",), {"type": int, "help": "version number of the case's process to move it to"}),
        (("--no-retry",), {"action": "store_true", "help": "set data or version only; keep the incident"}))
    add("cancel", cmd_cancel, "cancel a case (admin, audited): its open tasks and timers end, status cancelled",
        (("case",), {"type": int}), user, (("--reason",), {"required": True}))
    add("fire-timers", cmd_fire, "fire the timers due at --now (default: the current time)")
    add("case", cmd_case, "show a case", (("case",), {"type": int}))
    add("audit", cmd_audit, "show a case's audit trail and executed path", (("case",), {"type": int}))
    add("pause", cmd_pause, "stop a case's deadline clock while it waits on the customer (N-4)",
        (("case",), {"type": int}), user, (("--reason",), {"required": True}))
    add("resume", cmd_resume, "restart a paused case's deadline clock", (("case",), {"type": int}), user)
    add("extend", cmd_extend, "move a case's deadlines by working days (N-4)", (("case",), {"type": int}), user,
        (("--days",), {"type": int, "required": True}), (("--reason",), {"required": True}),
        (("--element",), {"help": "only the timer of this BPMN element"}))
    add("calendar", cmd_calendar, "working-day calendar: compute a due time; list, add or remove overrides",
        (("action",), {"choices": ["due", "list", "add", "remove"]}),
        (("--start",), {"help": "ISO instant (default: now)"}), (("--days",), {"type": int}),
        (("--hours",), {"type": float}), (("--date",), {}), (("--day-off",), {"action": "store_true"}),
        (("--note",), {}), (("--user",), {}))
    add("users", cmd_users, "load people and groups from a JSON file", (("action",), {"choices": ["load"]}),
        (("file",), {}))
    add("org", cmd_org, "organisation: load units and people from a TOML file, or show them",
        (("action",), {"choices": ["load", "show"]}), (("file",), {"nargs": "?"}))
    add("demo", cmd_demo, "start the demo cases in different states (once; run again it finds them)",
        (("action",), {"choices": ["cases"]}))
    add("ledger", cmd_ledger, "deduction ledger: monthly totals, CSV export, entries, reversal (S-7)",
        (("action",), {"choices": ["totals", "export", "list", "reverse"]}),
        (("entry",), {"nargs": "?", "type": int, "help": "ledger entry to reverse"}),
        (("--month",), {"help": "YYYY-MM"}), (("--by",), {"choices": ["person", "department", "kpi", "entry"]}),
        (("--case",), {"type": int}), (("--user",), {}), (("--reason",), {}))
    selection = ((("--process",), {"help": "process key"}), (("--version",), {"help": "version number"}),
                 (("--category",), {}), (("--department",), {}),
                 (("--status",), {"choices": ["running", "completed", "incident", "cancelled"]}),
                 (("--from",), {"dest": "start", "help": "cases started on or after YYYY-MM-DD (Beijing)"}),
                 (("--to",), {"dest": "end", "help": "... and on or before YYYY-MM-DD"}),
                 (("--user",), {"help": "who asks (default: system)"}))
    add("conformance", cmd_conformance, "A-2: replay cases against their process versions: one case or a selection",
        (("--case",), {"type": int}), *selection)
    add("adherence", cmd_adherence, "A-2: deadline adherence (及时率) per rule, version, department and month",
        *selection)
    add("export-xes", cmd_export_xes, "A-3: the event log of a selection as XES (IEEE 1849) or CSV", *selection,
        (("--format",), {"choices": ["xes", "csv"], "default": "xes"}), (("--output", "-o"), {"help": "file"}))
    add("import-log", cmd_import_log, "A-2: check another system's event log (CSV or XES) against a version",
        (("file",), {}), (("--key",), {"required": True, "help": "process key"}),
        (("--version",), {"type": int, "required": True}), (("--format",), {"choices": ["csv", "xes"]}),
        (("--case-column",), {"default": "case_id"}), (("--activity-column",), {"default": "activity"}),
        (("--time-column",), {"default": "timestamp"}), (("--resource-column",), {"default": "resource"}),
        (("--transition-column",), {"help": "XES lifecycle column: rows other than complete are left out"}),
        (("--match",), {"choices": ["id", "name", "either"], "default": "either"}),
        (("--closed",), {"action": "store_true", "help": "the log's cases are finished"}),
        (("--user",), {"help": "who asks (default: system)"}))
    add("report", cmd_report, "periodic reports (P-1 week, P-2 month, P-3 quarter, P-4 rectification): show as "
        "JSON, CSV or XLSX, list the cases behind a figure, pick a week's typical cases",
        (("action",), {"choices": ["show", "cases", "pick", "unpick", "deliver"]}),
        (("key",), {"nargs": "?", "choices": ["P-1", "P-2", "P-3", "P-4"]}),
        (("--period",), {"help": "YYYY-Www (P-1), YYYY-MM (P-2, P-4), YYYY-Qn (P-3)"}),
        (("--department",), {"help": "one department's report"}),
        (("--format",), {"choices": ["json", "csv", "xlsx"], "default": "json"}),
        (("--output",), {"help": "write the export to this file"}),
        (("--filter",), {"action": "append", "help": "cases: KEY=VALUE, e.g. overdue=true, department=network"}),
        (("--case",), {"type": int}), (("--note",), {}), (("--user",), {"help": "who asks (default: system)"}))
    add("mail", cmd_mail, "mail outbox: send what is due (SMTP from COMPLAINTS_SMTP_*), list it, resend a dead one",
        (("action",), {"choices": ["send", "outbox", "resend"]}), (("mail",), {"nargs": "?", "type": int}),
        (("--state",), {"choices": ["pending", "sent", "dead"]}), (("--user",), {"help": "who asks (default: system)"}))
    add("serve", cmd_serve, "run the web app and the schedulers (several workers: gunicorn, PostgreSQL)",
        (("--host",), {"default": "127.0.0.1"}), (("--port",), {"type": int, "default": 5000}),
        (("--workers",), {"type": int, "default": 1, "help": "web worker processes (gunicorn when > 1)"}),
        (("--schedulers",), {"type": int, "default": 1, "help": "scheduler processes (more are safe)"}),
        (("--interval",), {"type": float, "default": 5.0, "help": "seconds between timer sweeps"}))
    add("scheduler", cmd_scheduler, "run the timer scheduler (one per installation is enough; more are safe)",
        (("--interval",), {"type": float, "default": 5.0}))
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        clock = FixedClock(datetime.fromisoformat(args.now)) if args.now else None
        engine = app.build_engine(Settings.from_env(), args.database, clock)
        result = args.fn(engine, args)
    except ServiceError as exc:
        json.dump(error_json(exc), sys.stderr, ensure_ascii=False, default=str)
        sys.stderr.write("\n")
        return EXIT.get(exc.status, 2)
    except (ValueError, OSError) as exc:
        json.dump({"error": str(exc), "type": type(exc).__name__}, sys.stderr, ensure_ascii=False)
        sys.stderr.write("\n")
        return 2
    if result is not None:
        _out(result)
    retried = args.command == "retry" or (args.command == "repair" and not args.no_retry)
    if retried and getattr(result, "status", None) == "incident":
        # The step failed again: the command did not do what was asked; say so and fail (exit 6).
        json.dump({"error": f"case {result.id} is still in incident after the {args.command}",
                   "code": "still_in_incident"}, sys.stderr)
        sys.stderr.write("\n")
        return STILL_IN_INCIDENT
    return 0


if __name__ == "__main__":
    sys.exit(main())
