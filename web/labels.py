"""What a person reads instead of codes: labels of fields, values, categories, groups, people, statuses, steps.

One ``Labels`` per request (``labels()``), built on the engine's ``Directory`` and the person's language.
Form fields bring their label and enum names from the BPMN (Chinese; English in ``label_en`` and
``value_en:<id>`` properties); computed data its label from ``data/fields.toml``;
categories and groups their Chinese and English names from the data files; statuses and lifecycle steps are
the UI's own words (translated in the zh catalog). Values are rendered by kind: yes/no, ¥ with two decimals,
dates and times in the person's language (times in Beijing time, labelled), lists as lists.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal
from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as L

from .auth import engine

BEIJING = timezone(timedelta(hours=8))

STATUS = {"running": L("In progress"), "completed": L("Closed"), "incident": L("Incident"),
          "cancelled": L("Cancelled")}
TASK_STATE = {"ready": L("Open"), "completed": L("Done"), "cancelled": L("Cancelled")}
LIFECYCLE = {
    "ready": L("task opened"), "completed": L("done"), "cancelled": L("cancelled"), "timer_fired": L("deadline reached"),
    "incident": L("failed (incident)"), "joined": L("branches joined"), "claimed": L("claimed"),
    "unclaimed": L("given back"), "admin_action": L("administrator action"), "paused": L("deadline clock paused"),
    "resumed": L("deadline clock resumed"), "extended": L("deadline extended"), "reassigned": L("reassigned"),
    "delegated": L("delegated"), "repaired": L("case data corrected"), "case_cancelled": L("case cancelled"),
}
ADMIN_ACTION = {"retry": L("retry"), "reverse_deduction": L("deduction reversed"), "repair": L("data corrected"),
                "cancel": L("case cancelled")}
ELEMENT_TYPE = {
    "exclusiveGateway": L("Decision (gateway)"), "parallelGateway": L("Parallel branches (gateway)"),
    "inclusiveGateway": L("Branches (gateway)"), "eventBasedGateway": L("Waiting for an event (gateway)"),
    "startEvent": L("Start"), "endEvent": L("End"), "intermediateCatchEvent": L("Waiting"),
    "intermediateThrowEvent": L("Event"), "boundaryEvent": L("Deadline"), "serviceTask": L("Automatic step"),
    "scriptTask": L("Automatic step"), "userTask": L("Task"), "callActivity": L("Sub-process"),
    "subProcess": L("Sub-process"), "task": L("Step"), "sendTask": L("Notification"),
}
# Who acts in the audit trail: a person for these; every other step is the system's (gateways, automatic steps,
# timers, the tasks a step opened), whoever's command set it going.
PERSONAL = {"claimed", "unclaimed", "admin_action", "paused", "resumed", "extended", "reassigned", "delegated",
            "repaired", "case_cancelled"}
PERSONAL_ELEMENTS = {"userTask", "startEvent"}


def labels() -> Labels:
    """Return this request's labels (the directory is read once per request)."""
    if "labels" not in g:
        from .i18n import select_locale
        g.labels = Labels(engine().reads.directory(), select_locale())
    return g.labels


def short(name: str | None) -> str:
    """Return an element name on one line (modellers break long names in the diagram)."""
    return " ".join((name or "").split())


class Labels:
    """The names of one directory in one language."""

    def __init__(self, directory, locale: str):
        self.d = directory
        self.locale = locale
        self.zh = locale.startswith("zh")

    def _pick(self, pair: tuple[str, str] | None, fallback: str) -> str:
        return (pair[0] if self.zh else pair[1]) if pair else fallback

    # --- things ---

    def status(self, status: str | None) -> str:
        return str(STATUS.get(status, status or ""))

    @staticmethod
    def override(action: str | None) -> str:
        """Return an administrator's override of a case (retry, repair, cancel, a pause ...) in words."""
        return str(ADMIN_ACTION.get(action or "") or LIFECYCLE.get(action or "", action or ""))

    def task_state(self, state: str | None) -> str:
        return str(TASK_STATE.get(state, state or ""))

    def category(self, code: str | None, path: bool = True) -> str:
        """Return a category's name, under its parents (价格收费 › 流量费用争议) unless ``path`` is false."""
        if not code:
            return "—"
        if code not in self.d.categories:
            return code
        if not path:
            return self._pick(self.d.categories[code], code)
        parts, prefix = [], []
        for part in code.split("."):
            prefix.append(part)
            key = ".".join(prefix)
            if key in self.d.categories and len(prefix) > 1:
                parts.append(self._pick(self.d.categories[key], key))
        return " › ".join(parts) or self._pick(self.d.categories[code], code)

    def kind(self, code: str | None) -> str:
        """Return the kind of a category (its root): 投诉, 咨询..."""
        root = (code or "").split(".", 1)[0]
        return self._pick(self.d.categories.get(root), root) if root else "—"

    def group(self, key: str | None) -> str:
        return self._pick(self.d.groups.get(key), key or "") if key else "—"

    def groups(self, keys: Iterable[str]) -> str:
        return ("、" if self.zh else ", ").join(self.group(k) for k in keys) or "—"

    def person(self, username: str | None) -> str:
        if not username:
            return "—"
        if username in ("system", "scheduler"):
            return _("System")
        found = self.d.people.get(username)
        return found["name"] if found else username

    def unit(self, key: str | None) -> str:
        if not key:
            return "—"
        found = self.d.units.get(key)
        return found["name"] if found else self.group(key) if key in self.d.groups else key

    def process(self, key: str | None) -> str:
        return self.d.processes.get(key, key or "")

    def element(self, element_id: str | None, elements: dict[str, dict], name: str | None = None) -> str:
        """Return a step's name; an unnamed one by its type (a gateway, an automatic step), never its id."""
        found = elements.get(element_id or "", {})
        named = short(name or found.get("name"))
        if named:
            return named
        return str(ELEMENT_TYPE.get(found.get("type", ""), _("Step")))

    @staticmethod
    def incident(text: str | None) -> str:
        """Return an incident's error without the element id the engine puts first (the step is shown by name)."""
        found = re.match(r"\[[^\]\s]+\]\s*", text or "")
        return (text or "")[found.end():] if found else (text or "")

    # --- times ---

    def when(self, value: datetime | str | None, seconds: bool = False) -> str:
        """Return an instant as Beijing wall time in the person's language (the time zone label beside it)."""
        if not value:
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        local = value.astimezone(BEIJING)
        return (f"{format_skeleton('yMMMd', local, locale=self.locale)} "
                f"{format_skeleton('Hms' if seconds else 'Hm', local, tzinfo=BEIJING, locale=self.locale)}")

    def day(self, value: date | str | None) -> str:
        if not value:
            return "—"
        try:
            value = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        except ValueError:
            return str(value)
        return format_date(value, "medium", locale=self.locale)

    @staticmethod
    def tz() -> str:
        return _("Beijing time (UTC+8)")

    # --- values ---

    def money(self, value: Any) -> str:
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return str(value)
        return "¥" + format_decimal(amount, "#,##0.00", locale=self.locale)

    def value(self, kind: str, value: Any, field: dict | None = None, label=None) -> Any:
        """Return a value as a person reads it: text, or a list of texts for list kinds."""
        if kind == "boolean" or isinstance(value, bool):
            return _("Yes") if value else _("No")
        if value is None or value == "" or value == []:
            return "—"
        if kind in ("list", "rules", "enum_list") or isinstance(value, list):
            items = value if isinstance(value, list) else [value]
            item_kind = "enum" if kind == "enum_list" else "text"
            return [self.value(item_kind, v, field, label) for v in items]
        if kind == "enum":
            if field:
                for option in field.get("options", []):
                    if option["id"] == value:
                        return self.option_name(option)
            if label is not None and value in label.values:
                return self._pick(label.values[value], str(value))
            return str(value)
        if kind == "money":
            return self.money(value)
        if kind == "person":
            return self.person(value)
        if kind == "unit":
            return self.unit(value)
        if kind == "group":
            return self.group(value)
        if kind == "category":
            return self.category(value)
        if kind == "date":
            return self.day(value)
        if kind in ("long", "double", "number") and isinstance(value, (int, float)):
            return format_decimal(value, locale=self.locale)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        return str(value)

    def kind_of(self, key: str, field: dict | None) -> str:
        label = self.d.fields.get(key)
        if label is not None and label.kind:
            return label.kind
        if key == "category":
            return "category"
        return field["type"] if field else "text"

    def form_label(self, field: dict) -> str:
        """Return a form field's label in the person's language: the BPMN's label (Chinese) or its label_en
        (camunda:property), the Chinese one where the process owner gave no English."""
        return short(field.get("label") if self.zh else field.get("label_en") or field.get("label"))

    def option_name(self, option: dict) -> str:
        """Return an enum value's name in the person's language (camunda:value name, or its value_en property)."""
        return option["name"] if self.zh else option.get("name_en") or option["name"]

    def field_label(self, key: str, field: dict | None) -> str | None:
        label = self.d.fields.get(key)
        if field is not None:
            return self.form_label(field) or None
        if label is not None and label.name and not label.hidden:
            return label.name if self.zh else label.name_en
        return None

    def facts(self, data: dict[str, Any], fields: Iterable[dict]) -> list[dict[str, Any]]:
        """Return the facts of a case people read, in form order (start form, then the tasks' forms, then the
        computed data of ``data/fields.toml``): each {key, label, value (text or list), kind}."""
        forms = {f["id"]: f for f in fields}
        order = list(forms) + [k for k in self.d.fields if k not in forms]
        shown = []
        for key in order:
            if key not in data:
                continue
            entry = self.d.fields.get(key)
            if entry is not None and entry.hidden:
                continue
            label = self.field_label(key, forms.get(key))
            if label is None:
                continue
            kind = self.kind_of(key, forms.get(key))
            shown.append({"key": key, "label": label, "kind": kind,
                          "value": self.value(kind, data[key], forms.get(key), entry)})
        return shown

    # --- the audit trail ---

    def event(self, e, elements: dict[str, dict]) -> dict[str, Any]:
        """Return an audit event as the timeline shows it: when, what happened, to which step, by whom."""
        personal = e.lifecycle in PERSONAL or (e.lifecycle == "completed" and e.element_type in PERSONAL_ELEMENTS)
        what = str(LIFECYCLE.get(e.lifecycle, e.lifecycle))
        detail = ""
        data = e.data or {}
        if e.lifecycle == "admin_action" and data.get("action"):
            what = f"{what}: {ADMIN_ACTION.get(data['action'], data['action'])}"
        if data.get("reason"):
            detail = str(data["reason"])
        if e.lifecycle in ("reassigned", "delegated") and data.get("to"):
            detail = _("to %(name)s", name=self.person(data["to"])) + (f" · {data['reason']}" if data.get("reason") else "")
        step = self.element(e.element_id, elements, e.element_name) if e.element_id else _("Case")
        return {"id": e.id, "when": self.when(e.at), "what": what, "step": step, "element_id": e.element_id,
                "by": self.person(e.actor) if personal else _("System"), "detail": detail,
                "system": not personal}
