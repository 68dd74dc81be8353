"""``notify``: queue a message to a group, a person or the customer in the notification outbox;
``notify_warning``: queue one to each person the crisis's level-3 recipients name (003 二)."""

from __future__ import annotations

from typing import Any, Callable

from sqlalchemy import insert, select

from ..bpmn import json_safe
from ..rules.crisis import RECIPIENT_FORMS, CrisisRules, Recipient, parse_recipient
from ..services import TopicContext
from ..store.models import Account, Membership, Notification, OrgUnit


def notify(ctx: TopicContext, to: str, template: str, **extra: Any) -> dict[str, Any]:
    """Queue one notification for ``to`` with the message ``template`` and the case facts."""
    if not to or not template:
        raise ValueError("notify needs 'to' and 'template'")
    ctx.session.execute(insert(Notification), [{
        "case_id": ctx.case_id, "element_id": ctx.element_id, "recipient": to, "template": template,
        "data": json_safe(extra), "created_at": ctx.now, "sent_at": None,
    }])
    return {"last_notified": to}


def people_of(ctx: TopicContext, recipient: Recipient) -> list[str]:
    """Return the active people a recipient spec names (a group's members, a unit's head, the routed head)."""
    if recipient.kind == "group":
        query = (select(Account.username).join(Membership, Membership.username == Account.username)
                 .where(Membership.group_key == recipient.name, Account.active.is_(True)))
    else:
        head = (ctx.data.get("responsible_head") if recipient.kind == "responsible_head"
                else select(OrgUnit.head).where(OrgUnit.key == recipient.name).scalar_subquery())
        if head is None:
            return []
        query = select(Account.username).where(Account.username == head, Account.active.is_(True))
    return list(ctx.session.scalars(query))


def notify_warning(ctx: TopicContext, template: str, rules: Callable[[], CrisisRules]) -> dict[str, Any]:
    """003 二: queue ``template`` once to each person the case's level-3 recipients name.

    The recipients come with the case (the crisis watch passes those of ``data/crisis.toml``); a crisis
    started by hand without them gets the installation's. A spec that names nobody is returned, not an error:
    the others are still told.
    """
    if not template:
        raise ValueError("notify_warning needs a 'template'")
    specs = ctx.data.get("level3_recipients")
    if specs is None:
        specs = list(rules().level3_recipients)
    if not isinstance(specs, list):
        raise ValueError(f"level3_recipients must be a list of recipients ({RECIPIENT_FORMS})")
    people: list[str] = []
    unreached: list[str] = []
    for spec in specs:
        found = people_of(ctx, parse_recipient(spec))
        if not found:
            unreached.append(spec)
        people += [p for p in found if p not in people]
    facts = {k: ctx.data.get(k) for k in ("warning_level", "crisis_category", "trigger", "complaint_count",
                                          "escalation_count", "issue_description", "responsible_group")}
    for person in people:
        notify(ctx, person, template, **facts)
    return {"warning_notified": people, "warning_unreached": unreached}
