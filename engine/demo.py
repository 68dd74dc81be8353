"""Demo cases in different states for `make run`: created once, found again by their ``demo`` mark."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .services import SYSTEM, FixedClock, ProcessEngine

MARKET = "complaint.billing.disputed_fees"     # routed to the market department: li.handler, head wang.head
NETWORK = "complaint.network.signal"           # routed to the basic-network group: he.netbasic
BEIJING = ZoneInfo("Asia/Shanghai")


def intake(mark: str, category: str, name: str, facts: str, received: date) -> dict[str, Any]:
    """The intake of a demo case received on ``received``, first put to the front-desk clerk (I-5)."""
    return {"complainant_name": name, "contact": "13800000000", "received_at": received.isoformat(),
            "target": "营业厅", "facts": facts, "channel": "hotline", "category": category, "amount": 0,
            "service_quality_agent_count": 0, "first_ask_owner": "zhang.intake", "demo": mark}


def do(engine: ProcessEngine, case_id: int, element: str, user: str, **data: Any) -> None:
    """Complete the ready task ``element`` of a case as ``user``."""
    actor = engine.accounts.actor(user)
    task = next(t for t in engine.reads.case_page(case_id, actor).open_tasks if t.element_id == element)
    engine.cases.complete(task.id, data, actor)


def to_callback(engine: ProcessEngine, case_id: int) -> None:
    do(engine, case_id, "accept", "li.handler", responsible_person="li.handler", complex_case=False)
    do(engine, case_id, "investigate", "li.handler", investigation_findings="核实情况", info_sufficient=True,
       solution_found=True, proposed_solution="退还多收流量费")
    do(engine, case_id, "reply", "li.handler", reply_content="已向客户说明并退费", accepted=True)
    do(engine, case_id, "act", "li.handler", action_taken="已退费")
    do(engine, case_id, "record_four_elements", "li.handler", handling_staff="li.handler", time_spent_hours=2,
       handling_process="核实计费记录", handling_result="已退费", customer_satisfaction="satisfied")
    do(engine, case_id, "approve_record", "wang.head", head_approved=True, head_opinion="同意")


def create_demo_cases(engine: ProcessEngine) -> dict[str, int]:
    """Start the demo cases that do not exist yet; return each mark with its case id."""
    existing = {c.demo: c.id for c in engine.reads.case_list(SYSTEM, limit=1000) if c.demo}
    made: dict[str, int] = {}

    def start(mark, category, name, facts, user="zhang.intake", eng=engine) -> int | None:
        if mark in existing:
            made[mark] = existing[mark]
            return None
        received = eng.clock().astimezone(BEIJING).date()
        made[mark] = eng.cases.start("normal", intake(mark, category, name, facts, received),
                                     eng.accounts.actor(user)).id
        return made[mark]

    start("new", MARKET, "王先生", "客户反映流量费用与套餐不符")
    if (case_id := start("investigating", NETWORK, "李女士", "小区手机信号差,通话经常中断")) is not None:
        do(engine, case_id, "accept", "he.netbasic", responsible_person="he.netbasic", complex_case=False)
    if (case_id := start("callback", MARKET, "赵先生", "不知情被订购增值业务")) is not None:
        to_callback(engine, case_id)
    if (case_id := start("closed", MARKET, "孙女士", "宽带资费与宣传不一致")) is not None:
        to_callback(engine, case_id)
        do(engine, case_id, "callback", "chen.callback", callback_note="客户满意", satisfied=True)
        do(engine, case_id, "decide_outcome", "zhao.group", outcome="upheld", our_responsibility=True,
           liable_party="staff", late_or_shirking=False, notified_later=True, outcome_reason="属实")
        do(engine, case_id, "analyse_cause", "zhao.group", root_cause="资费宣传口径不一致", corrective_measures="统一口径")
    # Registered and accepted a week ago, never investigated: its deadlines have passed (overdue in the inbox).
    week_ago = engine.with_clock(FixedClock(engine.clock() - timedelta(days=7)))
    if (case_id := start("overdue", MARKET, "周先生", "投诉一周仍未答复", eng=week_ago)) is not None:
        do(week_ago, case_id, "accept", "li.handler", responsible_person="li.handler", complex_case=False)
    return made

