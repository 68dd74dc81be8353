"""Walk the shipped processes through the real engine: people of the demo organisation work what their inbox shows."""

from __future__ import annotations

import tomllib
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path
from typing import Any

from engine.services import SYSTEM, ProcessEngine
from engine.settings import Settings
from engine.topics import default_registry

ROOT = Path(__file__).parents[2]
ORGANISATION = tomllib.loads((ROOT / "data" / "organisation.toml").read_text(encoding="utf-8"))
# Called processes first: a deployment refuses a call activity whose process is not deployed yet.
BEIJING = ZoneInfo("Asia/Shanghai")
DEPLOY_ORDER = ("crisis", "demand", "escalation", "service_quality", "normal", "rectification")


def shipped_engine(db, clock, settings: Settings | None = None, cache_instances: bool = False) -> ProcessEngine:
    """Return an engine with the shipped topics, the demo organisation and processes/*.bpmn deployed.

    With ``cache_instances`` off every command restores the case from its stored state (save/restore between steps).
    """
    settings = settings or Settings()
    engine = ProcessEngine(db, clock, default_registry(settings), cache_instances=cache_instances, settings=settings)
    engine.admin.load_organisation(ORGANISATION, hash_password=lambda password: "plain:" + password)
    for name in DEPLOY_ORDER:
        engine.admin.deploy((ROOT / "processes" / f"{name}.bpmn").read_bytes(), f"{name}.bpmn")
    return engine


def intake(category: str, **extra: Any) -> dict[str, Any]:
    """Return the start form of normal.bpmn for a complaint of ``category`` (I-1).

    The customer first approached the front-desk clerk zhang.intake (I-5 first-ask owner) unless ``extra``
    names another one, or ``first_ask_owner=None`` leaves it unknown.
    """
    data = {"complainant_name": "王先生", "contact": "13800000000", "received_at": "2025-03-03",
            "target": "服务", "facts": "客户反映的问题经过", "channel": "hotline", "category": category,
            "amount": 0, "service_quality_agent_count": 0, "first_ask_owner": "zhang.intake", **extra}
    return {k: v for k, v in data.items() if v is not None}


def passes(path: list[str], *element_ids: str) -> bool:
    """Return whether ``element_ids`` occur in ``path`` in this order (other elements may lie between)."""
    rest = iter(path)
    return all(element_id in rest for element_id in element_ids)


class Walk:
    """One case of normal.bpmn (and what it calls), moved on by named people through their inboxes."""

    def __init__(self, engine: ProcessEngine, case_id: int):
        self.engine, self.case_id = engine, case_id

    @classmethod
    def start(cls, engine: ProcessEngine, user: str, category: str, **extra: Any) -> Walk:
        # I-1: registered the day it came in (the clock's Beijing date) unless ``extra`` gives received_at.
        today = engine.clock().astimezone(BEIJING).date().isoformat()
        ref = engine.cases.start("normal", intake(category, **{"received_at": today, **extra}),
                                 engine.accounts.actor(user))
        return cls(engine, ref.id)

    @property
    def data(self) -> dict[str, Any]:
        return self.engine.reads.case_page(self.case_id, SYSTEM).case.data

    @property
    def status(self) -> str:
        return self.engine.reads.case_page(self.case_id, SYSTEM).case.status

    def ready(self) -> list[str]:
        return sorted(t.element_id for t in self.engine.reads.case_page(self.case_id, SYSTEM).tasks if t.state == "ready")

    def path(self) -> list[str]:
        """Return the ids of the elements completed so far, in order, loops repeated (engine.executed_path)."""
        return [step.id for step in self.engine.reads.case_page(self.case_id, SYSTEM).path if step.kind == "element"]

    def timers(self) -> dict[str, datetime]:
        """Return the waiting timers of the case: element id -> due instant."""
        return {t.element_id: t.due_at for t in self.engine.reads.case_page(self.case_id, SYSTEM).timers}

    def submitted(self, element_id: str) -> dict[str, Any]:
        """Return what was last submitted on the task ``element_id`` (its audit event)."""
        return [e.data for e in self.engine.reads.case_page(self.case_id, SYSTEM).events
                if e.element_id == element_id and e.lifecycle == "completed"][-1]

    def do(self, element_id: str, user: str, **data: Any) -> Walk:
        """Complete the task ``element_id`` of this case from ``user``'s inbox with ``data``."""
        actor = self.engine.accounts.actor(user)
        tasks = [t for t in self.engine.reads.inbox(actor).tasks if t.case_id == self.case_id and t.element_id == element_id]
        assert len(tasks) == 1, f"{user} sees {element_id}? ready: {self.ready()}, incident: {self.incident()}"
        self.engine.cases.complete(tasks[0].id, data, actor)
        return self

    def incident(self) -> str | None:
        return self.engine.reads.case_page(self.case_id, SYSTEM).case.incident

    # --- normal.bpmn, N-1 .. N-10 ---

    def preprocess(self, worker: str, intercepted: bool = False) -> Walk:
        """N-1 (000 一.2.1, 四.4): the pre-processing group passes a valid work order on (or intercepts it)."""
        return self.do("preprocess", worker, intercepted=intercepted,
                       preprocess_note="无效投诉,拦截" if intercepted else "有效投诉,转承办")

    def accept(self, worker: str, complex_case: bool = False) -> Walk:
        return self.do("accept", worker, responsible_person=worker, complex_case=complex_case)

    def investigate(self, worker: str, liable_person: str | None = None, sufficient: bool = True,
                    solution_found: bool = True) -> Walk:
        named = {"liable_person": liable_person} if liable_person else {}
        return self.do("investigate", worker, investigation_findings="核实情况", info_sufficient=sufficient,
                       solution_found=solution_found, proposed_solution="解决方案", **named)

    def inform_delay(self, worker: str) -> Walk:
        return self.do("inform_delay", worker, delay_reason="需进一步核实", customer_informed_of_delay=True,
                       support_needed=False)

    def ask_support(self, worker: str, department: str) -> Walk:
        return self.do("inform_delay", worker, delay_reason="需网络部支撑", customer_informed_of_delay=True,
                       support_needed=True, support_department=department)

    def reply(self, worker: str, accepted: bool = True) -> Walk:
        return self.do("reply", worker, reply_content="答复内容", accepted=accepted)

    def record(self, worker: str) -> Walk:
        """N-7: the handler fills in the four elements."""
        return self.do("record_four_elements", worker, handling_staff=worker, time_spent_hours=2,
                       handling_process="处理过程", handling_result="已解决", customer_satisfaction="satisfied")

    def callback(self, satisfied: bool = True) -> Walk:
        return self.do("callback", "chen.callback", callback_note="客户满意" if satisfied else "客户不满意",
                       satisfied=satisfied)

    def to_callback(self, worker: str, head: str, liable_person: str | None = None) -> Walk:
        """Accept, investigate, reply (accepted), act, record and approve: N-1 .. N-7; the call-back is next."""
        self.accept(worker).investigate(worker, liable_person).reply(worker)
        self.do("act", worker, action_taken="已处理").record(worker)
        return self.do("approve_record", head, head_approved=True, head_opinion="同意")

    def to_outcome(self, worker: str, head: str, liable_person: str | None = None) -> Walk:
        """N-1 .. N-8: up to a satisfied call-back; the outcome is next."""
        return self.to_callback(worker, head, liable_person).callback()

    def decide(self, liable_party: str = "staff", late_or_shirking: bool = False, outcome: str = "upheld",
               notified: bool = True) -> Walk:
        """N-9: the complaint group decides the outcome (deductions are booked here).

        ``notified``: the prefecture has notified the complaint since intake (S-1's trigger, 000 二.1).
        """
        return self.do("decide_outcome", "zhao.group", outcome=outcome, our_responsibility=True,
                       liable_party=liable_party, late_or_shirking=late_or_shirking, notified_later=notified,
                       outcome_reason="属实")

    def close(self) -> Walk:
        return self.do("analyse_cause", "zhao.group", root_cause="原因", corrective_measures="措施")

    # --- escalation.bpmn, E-1 .. E-9 ---

    def handover(self) -> Walk:
        """E-1: the complaint group fills in a complete hand-over (the level comes from the channel, E-9)."""
        return self.do("handover", "zhao.group", escalation_handler="zhou.leader",
                       handler_authority="全权处理", event_history="事件经过:客户多次投诉", customer_demand="解决问题",
                       progress="已核实")

    def to_reply_e5(self) -> Walk:
        """E-1 .. E-4 (E-3 review passed when the case is major): the reply of E-5 is next."""
        self.handover().do("receive_handover", "zhou.leader", handover_complete=True)
        self.do("analyse", "zhou.leader", evaluation="评估", needs_more_contact=False).draft()
        if "qc_review" in self.ready():
            self.do("qc_review", "liu.quality", qc_advice="同意", qc_approved=True)
        return self

    def draft(self) -> Walk:
        return self.do("draft_solution", "zhou.leader", solution="方案", feasibility="可行", cost_estimate=0,
                       fairness="公平")

    def reply_e5(self, accepted: bool = True) -> Walk:
        return self.do("reply_e5", "zhou.leader", reply_content="答复", accepted=accepted)

    def callback_e7(self, satisfied: bool = True) -> Walk:
        return self.do("callback_e7", "chen.callback", callback_note="回访", satisfied=satisfied)

    def analyse_e8(self, effective: bool = False, caused_by_staff: bool = True) -> Walk:
        return self.do("analyse_cause_e8", "zhao.group", cause_analysis="原因", corrective_measures="措施",
                       solution_effective=effective, escalation_caused_by_staff=caused_by_staff)

    def escalate(self, worker: str, caused_by_staff: bool = True) -> Walk:
        """Hand over and run the escalation to its end (E-1 .. E-9); back in normal.bpmn the record (N-7) is next."""
        self.to_reply_e5().reply_e5()
        self.do("implement", worker, implementation="已实施").callback_e7()
        return self.analyse_e8(caused_by_staff=caused_by_staff)

    def after_escalation(self, worker: str, head: str, outcome: str = "upheld") -> Walk:
        """N-7, N-9 for an escalated case: record, the head's review, the outcome; it then ends (E-8 analysed it)."""
        self.record(worker).do("approve_record", head, head_approved=True, head_opinion="同意")
        return self.decide(outcome=outcome)

    # --- service_quality.bpmn, Q-1 .. Q-3 ---

    def call_back(self, leader: str, result: str) -> Walk:
        """Q-2: one call-back attempt of the team leader with the note of 001 6.1.4."""
        return self.do("call_back", leader, recording_serial="R1", agent_conduct="语气生硬",
                       complaint_verified="founded", callback_result=result, midway_note="经听录音,客户接受")

    def second_explanation(self, leader: str, accepted: bool = True, chased: bool = False) -> Walk:
        """Q-2, Q-3: the team leader calls back; on success the complaint group confirms the recording."""
        self.call_back(leader, "accepted" if accepted else "refused")
        if accepted:
            self.do("review_recording", "zhao.group", recording_confirmed=True, customer_chased=chased)
        return self
