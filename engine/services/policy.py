"""Roles and permissions as data (``data/policy.toml``): which groups may deploy, start which process, repair,
oversee cases, see compliance and reports. Every permission check of the services and the web goes through here."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from .errors import PermissionDenied

__all__ = ["ANYONE", "PERMISSIONS", "Policy", "SignInLimits", "load_policy"]

ANYONE = "*"
# The permissions the code asks for; the file must give each of them (an empty list is allowed).
PERMISSIONS = ("deploy", "administer_people", "edit_calendar", "repair_cases", "any_task", "any_deadline",
               "oversee_cases", "reverse_deductions", "see_compliance", "see_reports", "see_all_reports",
               "pick_typical_cases", "administer_mail", "see_crisis_monitor")


@dataclass(frozen=True)
class SignInLimits:
    """How many refused sign-ins a window allows per typed username and per client address (``[sign_in]``)."""

    window_minutes: int = 15
    account_failures: int = 10
    address_failures: int = 50


@dataclass(frozen=True)
class Policy:
    """Groups per permission, groups per process key allowed to start it, and the sign-in throttle."""

    permissions: Mapping[str, frozenset[str]]
    start: Mapping[str, frozenset[str]]
    sign_in: SignInLimits = SignInLimits()

    def allows(self, groups: frozenset[str], permission: str) -> bool:
        """Tell whether someone in ``groups`` holds ``permission``."""
        holders = self.permissions[permission]
        return ANYONE in holders or bool(holders & groups)

    def require(self, actor, permission: str, action: str) -> None:
        """Raise PermissionDenied (code ``forbidden``) unless ``actor`` holds ``permission``."""
        if not self.allows(actor.groups, permission):
            raise PermissionDenied(f"{actor.username} may not {action}", permission=permission)

    def may_start(self, groups: frozenset[str], process_key: str) -> bool:
        """Tell whether someone in ``groups`` may start a case of ``process_key``."""
        holders = self.start.get(process_key, self.start["default"])
        return ANYONE in holders or bool(holders & groups)

    def require_start(self, actor, process_key: str) -> None:
        """Raise PermissionDenied (code ``may_not_start``) unless ``actor`` may start ``process_key``."""
        if not self.may_start(actor.groups, process_key):
            raise PermissionDenied(f"{actor.username} may not start process {process_key!r}", code="may_not_start",
                                   process_key=process_key)


def _groups(path: Path, table: str, name: str, value) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(g, str) and g for g in value):
        raise ValueError(f"{path}: [{table}] {name} must be a list of group names")
    return frozenset(value)


def load_policy(path: Path) -> Policy:
    """Read a policy file; refuse one that lacks a permission the code asks for or names one it does not know."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    given = raw.get("permissions", {})
    missing, unknown = sorted(set(PERMISSIONS) - set(given)), sorted(set(given) - set(PERMISSIONS))
    if missing or unknown:
        raise ValueError(f"{path}: permissions missing: {', '.join(missing) or '-'}; unknown: {', '.join(unknown) or '-'}")
    start = raw.get("start", {})
    if "default" not in start:
        raise ValueError(f"{path}: [start] needs a default")
    return Policy({k: _groups(path, "permissions", k, v) for k, v in given.items()},
                  {k: _groups(path, "start", k, v) for k, v in start.items()},
                  _sign_in(path, raw.get("sign_in", {})))


def _sign_in(path: Path, raw: dict) -> SignInLimits:
    known = {f.name for f in fields(SignInLimits)}
    if set(raw) - known:
        raise ValueError(f"{path}: [sign_in] knows {', '.join(sorted(known))}; not {', '.join(sorted(set(raw) - known))}")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in raw.values()):
        raise ValueError(f"{path}: [sign_in] values must be whole numbers above 0")
    return SignInLimits(**raw)
