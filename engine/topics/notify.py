"""``notify``: queue a message to a group, a person or the customer in the notification outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from ..bpmn import json_safe
from ..services import TopicContext
from ..store.models import Notification


def notify(ctx: TopicContext, to: str, template: str, **extra: Any) -> dict[str, Any]:
    """Queue one notification for ``to`` with the message ``template`` and the case facts."""
    if not to or not template:
        raise ValueError("notify needs 'to' and 'template'")
    ctx.session.execute(insert(Notification), [{
        "case_id": ctx.case_id, "element_id": ctx.element_id, "recipient": to, "template": template,
        "data": json_safe(extra), "created_at": ctx.now, "sent_at": None,
    }])
    return {"last_notified": to}
