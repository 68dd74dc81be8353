"""Rewrite calls of the old flat ProcessEngine API (before issue 14) to the audience services.

``python tools/facade_codemod.py FILE...`` rewrites the files in place, e.g.
``engine.start_case(k, d)`` -> ``engine.cases.start(k, d)``,
``engine.inbox(a)`` -> ``engine.reads.inbox(a).tasks``,
``engine.case(c)`` -> ``engine.reads.case_page(c, SYSTEM)``. Calls on receivers
named like the engine fixtures only (``engine``, ``web_engine``, ``self.engine``...).
Review the diff: a rewritten ``case``/``task`` read needs ``SYSTEM`` imported, and
views are frozen dataclasses (``v.key``, not ``v["key"]``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

RECEIVERS = r"engine|deployed|web_engine|shipped_engine|second|sweeper|eng|week_ago|self\.engine|runner\.engine|walk\.engine"
# old method -> (new call prefix, suffix after the closing parenthesis, extra last argument)
RENAMES = {
    "start_case": ("cases.start", "", None), "complete": ("cases.complete", "", None),
    "claim": ("cases.claim", "", None), "unclaim": ("cases.unclaim", "", None),
    "retry_incident": ("cases.retry", ".status", None),
    "pause": ("deadlines.pause", "", None), "resume": ("deadlines.resume", "", None),
    "extend": ("deadlines.extend", "", None), "fire_due_timers": ("deadlines.fire_due_timers", "", None),
    "detect_crises": ("deadlines.detect_crises", "", None), "calendar_overrides": ("deadlines.overrides", "", None),
    "set_calendar_override": ("deadlines.set_override", "", None),
    "remove_calendar_override": ("deadlines.remove_override", "", None),
    "business_calendar": ("deadlines.calendar", "", None), "holiday_coverage": ("deadlines.holiday_coverage", "", None),
    "deploy": ("admin.deploy", "", None), "versions": ("admin.versions", "", None),
    "load_organisation": ("admin.load_organisation", "", None), "organisation": ("admin.organisation", "", None),
    "add_person": ("admin.add_person", "", None), "set_groups": ("admin.set_groups", "", None),
    "known_groups": ("admin.known_groups", "", None), "version_xml": ("admin.version_xml", "", None),
    "add_user": ("accounts.add_user", "", None), "actor": ("accounts.actor", "", None),
    "account": ("accounts.account", "", None), "set_locale": ("accounts.set_locale", "", None),
    "ledger_entries": ("ledger.entries", "", None), "ledger_totals": ("ledger.totals", "", None),
    "export_ledger_csv": ("ledger.export_csv", "", None), "reverse_entry": ("ledger.reverse", "", None),
    "inbox": ("reads.inbox", ".tasks", None), "case": ("reads.case_page", "", "SYSTEM"),
    "task": ("reads.task_page", ".task", "SYSTEM"), "executed_path": ("reads.case_page", ".path", "SYSTEM"),
    "my_cases": ("reads.case_list", "", None), "case_for": ("reads.case_page", "", None),
    "task_for": ("reads.task_page", ".task", None), "start_form": ("reads.intake_page", ".fields", None),
}
CALL = re.compile(rf"(?<![\w.])({RECEIVERS})\.({'|'.join(RENAMES)})\(")


def _close(text: str, start: int) -> int:
    """Return the index of the parenthesis closing the one before ``start``."""
    depth = 1
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise ValueError("unbalanced parentheses")


def rewrite(text: str) -> str:
    """Return ``text`` with every old facade call rewritten (nested calls too)."""
    while True:
        found = CALL.search(text)
        if found is None:
            return text
        receiver, method = found.groups()
        new, suffix, extra = RENAMES[method]
        end = _close(text, found.end())
        args = text[found.end():end]
        if extra:
            args = f"{args}, {extra}" if args.strip() else extra
        text = f"{text[:found.start()]}{receiver}.{new}({args}){suffix}{text[end + 1:]}"


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        before = path.read_text(encoding="utf-8")
        after = rewrite(before)
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"rewrote {path}")
