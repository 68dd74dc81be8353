"""April 2025 for the report tests: real cases through the real engine, a story whose figures are counted by hand.

The month holds a ledger reversal (S-7), a paused case (N-4) and a case across the
Qingming holiday (4-6 April 2025): the paused and the holiday case are not overdue,
the case left unanswered is (N-11).
"""

from __future__ import annotations

from datetime import datetime

from tests.conftest import SHANGHAI
from tests.processes.casewalk import Walk

NETWORK = "complaint.network.signal"        # network dept (net_basic: tang.netbasic, leader he.netbasic, head ma.network)
MARKET = "complaint.billing.disputed_fees"  # market dept (li.handler, head wang.head)
AGENT = "complaint.service.call_centre_agent"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


class Month:
    """April 2025, case by case; attributes name the cases."""

    def __init__(self, engine, clock):
        self.engine, self.clock = engine, clock

    def start(self, when: str, user: str, category: str, **extra) -> Walk:
        self.clock.set(at(when))
        return Walk.start(self.engine, user, category, received_at=when[:10], **extra)

    def fire(self, when: str) -> None:
        self.clock.set(at(when))
        self.engine.deadlines.fire_due_timers()

    def build(self) -> Month:
        e = self.engine
        # Week 14 (31 Mar - 6 Apr).
        self.c1 = self.start("2025-04-01T09:00", "zhang.intake", NETWORK)          # upheld, deductions, closed
        self.c1.to_outcome("tang.netbasic", "ma.network", liable_person="tang.netbasic").decide().close()
        self.c5 = self.start("2025-04-02T09:00", "zhang.intake", "consultation.billing", channel="web")
        self.c2 = self.start("2025-04-03T10:00", "zhang.intake", MARKET, channel="wechat")
        self.c2.accept("li.handler").investigate("li.handler")
        # Across Qingming (4-6 Apr off): 3 working days from Thu 3 Apr run to Wed 9 Apr, not to Tue 8.
        self.fire("2025-04-08T23:00")
        self.c2.reply("li.handler")
        # Week 16 (14 - 20 Apr).
        self.c3 = self.start("2025-04-14T09:00", "zhang.intake", MARKET)             # never answered: N-11
        self.c3.accept("li.handler").investigate("li.handler")
        self.c4 = self.start("2025-04-14T10:00", "zhang.intake", NETWORK, channel="email")
        self.c4.accept("tang.netbasic")
        self.clock.set(at("2025-04-15T09:00"))
        e.deadlines.pause(self.c4.case_id, "等待客户提供资料", e.accounts.actor("tang.netbasic"))   # N-4 paused
        self.c6 = self.start("2025-04-15T11:00", "zhang.intake", "demand.service")
        self.c7 = self.start("2025-04-15T14:00", "zhang.intake", NETWORK)           # second network deduction
        self.c7.to_outcome("tang.netbasic", "ma.network", liable_person="tang.netbasic").decide().close()
        self.c8 = self.start("2025-04-16T09:00", "pan.agent", AGENT, service_quality_agent_count=1,
                             complained_agent="xie.agent")
        self.c8.second_explanation("wu.teamleader")                                  # withdrawn, exempted
        self.c9 = self.start("2025-04-16T10:00", "zhang.intake", "complaint.other", channel="web",
                             customer_grid="east")                                   # the grid's order (I-4)
        self.c9.preprocess("zhao.group")              # 000 四.4: the complaint group processes a grid's order first
        self.fire("2025-04-17T18:01")                 # c3's reply deadline has passed; c4's clock stands still
        # S-7: the complaint group reverses the responsible person's S-1 booking of c1.
        entry = next(x for x in e.ledger.entries(case_id=self.c1.case_id)
                     if x.subject == "tang.netbasic" and x.rule_id == "S-1")
        self.clock.set(at("2025-04-25T10:00"))
        e.ledger.reverse(entry.id, e.accounts.actor("zhao.group"), "复核后不属其责任")
        # May: one complaint for the quarter's second column.
        self.c10 = self.start("2025-05-06T09:00", "zhang.intake", MARKET)
        return self
