"""Topics that record facts of a case: missed deadlines (N-11, N-12, E-5, Q-2), the knowledge base (E-8), counts (C-6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select

from ..bpmn import json_safe
from ..services import TopicContext
from ..store.models import Case, KnowledgeEntry, OverdueRecord


def record_overdue(ctx: TopicContext, rule_id: str) -> dict[str, Any]:
    """Record that a deadline of ``rule_id`` was missed, with who was responsible, for scoring (S-3, S-5)."""
    if not rule_id:
        raise ValueError("record_overdue needs a rule_id")
    data = ctx.data
    ctx.session.execute(insert(OverdueRecord), [{
        "case_id": ctx.case_id, "rule_id": rule_id, "element_id": ctx.element_id,
        "responsible_group": data.get("support_department") if rule_id == "N-12" else data.get("responsible_group"),
        "at": ctx.now, "data": json_safe({k: data.get(k) for k in ("severity", "category", "support_department")}),
    }])
    return {"overdue_rules": sorted(set(data.get("overdue_rules") or []) | {rule_id})}


def add_to_knowledge_base(ctx: TopicContext) -> dict[str, Any]:
    """E-8: add the case's effective solution to the handling knowledge base."""
    data = ctx.data
    solution = data.get("final_solution") or data.get("solution") or data.get("proposed_solution")
    if not solution:
        raise ValueError("add_to_knowledge_base needs a solution in the case data")
    entry_id = ctx.session.execute(insert(KnowledgeEntry).returning(KnowledgeEntry.id), [{
        "case_id": ctx.case_id, "category": data.get("category"), "problem": str(data.get("facts") or ""),
        "solution": str(solution), "measures": str(data.get("corrective_measures") or ""), "created_at": ctx.now,
    }]).scalar_one()
    return {"knowledge_entry_id": entry_id}


def count_issue_complaints(ctx: TopicContext) -> dict[str, Any]:
    """C-6: count the cases of the crisis category received in the last hour and the hour before; give the change.

    Each hourly tick of crisis.bpmn's timer cycle runs this on a branch of its own: the figures are recorded in
    the audit trail of that tick (and the crisis monitor reads the hours from the cases themselves).
    """
    category = ctx.data.get("crisis_category") or ctx.data.get("category")
    if not category:
        raise ValueError("count_issue_complaints needs the crisis category in the case data")

    def count(start, end) -> int:
        return ctx.session.scalar(select(func.count()).select_from(Case).where(
            Case.category == category, Case.process_key != "crisis", Case.started_at >= start, Case.started_at < end))

    hour = timedelta(hours=1)
    now_count, previous = count(ctx.now - hour, ctx.now), count(ctx.now - 2 * hour, ctx.now - hour)
    ratio = None if previous == 0 else round((now_count - previous) / previous, 4)
    return {"count_now": now_count, "count_previous": previous, "change_ratio": ratio, "counted_at": ctx.now.isoformat()}
