"""Walk the shipped processes through the real engine: people of the demo organisation work what their inbox shows."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from engine.services import ProcessEngine
from engine.settings import Settings
from engine.topics import default_registry

ROOT = Path(__file__).parents[2]
ORGANISATION = tomllib.loads((ROOT / "data" / "organisation.toml").read_text(encoding="utf-8"))
# Called processes first: a deployment refuses a call activity whose process is not deployed yet.
DEPLOY_ORDER = ("crisis", "demand", "escalation", "service_quality", "normal")


def shipped_engine(db, clock, settings: Settings | None = None) -> ProcessEngine:
    """Return an engine with the shipped topics, the demo organisation and processes/*.bpmn deployed."""
    engine = ProcessEngine(db, clock, default_registry(settings or Settings()), cache_instances=False)
    engine.load_organisation(ORGANISATION, hash_password=lambda password: "plain:" + password)
    for name in DEPLOY_ORDER:
        engine.deploy((ROOT / "processes" / f"{name}.bpmn").read_bytes(), f"{name}.bpmn")
    return engine


def intake(category: str, **extra: Any) -> dict[str, Any]:
    """Return the start form of normal.bpmn for a complaint of ``category`` (I-1)."""
    return {"complainant_name": "王先生", "contact": "13800000000", "received_at": "2025-03-03",
            "target": "服务", "facts": "客户反映的问题经过", "channel": "hotline", "category": category,
            "amount": 0, "service_quality_agent_count": 0, **extra}


class Walk:
    """One case of normal.bpmn (and what it calls), moved on by named people through their inboxes."""

    def __init__(self, engine: ProcessEngine, case_id: int):
        self.engine, self.case_id = engine, case_id

    @classmethod
    def start(cls, engine: ProcessEngine, user: str, category: str, **extra: Any) -> Walk:
        ref = engine.start_case("normal", intake(category, **extra), engine.actor(user))
        return cls(engine, ref.id)

    @property
    def data(self) -> dict[str, Any]:
        return self.engine.case(self.case_id).case.data

    @property
    def status(self) -> str:
        return self.engine.case(self.case_id).case.status

    def ready(self) -> list[str]:
        return sorted(t.element_id for t in self.engine.case(self.case_id).tasks if t.state == "ready")

    def do(self, element_id: str, user: str, **data: Any) -> Walk:
        """Complete the task ``element_id`` of this case from ``user``'s inbox with ``data``."""
        actor = self.engine.actor(user)
        tasks = [t for t in self.engine.inbox(actor) if t.case_id == self.case_id and t.element_id == element_id]
        assert len(tasks) == 1, f"{user} sees {element_id}? ready: {self.ready()}, incident: {self.incident()}"
        self.engine.complete(tasks[0].id, data, actor)
        return self

    def incident(self) -> str | None:
        return self.engine.case(self.case_id).case.incident

    # --- normal.bpmn, N-1 .. N-10 ---

    def accept(self, worker: str) -> Walk:
        return self.do("accept", worker, responsible_person=worker, complex_case=False)

    def investigate(self, worker: str, liable_person: str | None = None, sufficient: bool = True) -> Walk:
        named = {"liable_person": liable_person} if liable_person else {}
        return self.do("investigate", worker, investigation_findings="核实情况", info_sufficient=sufficient,
                       solution_found=True, proposed_solution="解决方案", **named)

    def ask_support(self, worker: str, department: str) -> Walk:
        return self.do("inform_delay", worker, delay_reason="需网络部支撑", customer_informed_of_delay=True,
                       support_needed=True, support_department=department)

    def reply(self, worker: str, accepted: bool = True) -> Walk:
        return self.do("reply", worker, reply_content="答复内容", accepted=accepted)

    def to_outcome(self, worker: str, head: str, liable_person: str | None = None) -> Walk:
        """Accept, investigate, reply (accepted), act, record, approve and call back (satisfied): N-1 .. N-8."""
        self.accept(worker).investigate(worker, liable_person).reply(worker)
        self.do("act", worker, action_taken="已处理")
        self.do("record_four_elements", worker, handling_staff=worker, time_spent_hours=2,
                handling_process="处理过程", handling_result="已解决", customer_satisfaction="satisfied")
        self.do("approve_record", head, head_approved=True, head_opinion="同意")
        return self.do("callback", "chen.callback", callback_note="客户满意", satisfied=True)

    def decide(self, liable_party: str = "staff", late_or_shirking: bool = False, outcome: str = "upheld") -> Walk:
        """N-9: the complaint group decides the outcome (deductions are booked here)."""
        return self.do("decide_outcome", "zhao.group", outcome=outcome, our_responsibility=True,
                       liable_party=liable_party, late_or_shirking=late_or_shirking, outcome_reason="属实")

    def close(self) -> Walk:
        return self.do("analyse_cause", "zhao.group", root_cause="原因", corrective_measures="措施")

    # --- escalation.bpmn, E-1 .. E-9 ---

    def escalate(self, level: str, worker: str, caused_by_staff: bool = True) -> Walk:
        """Hand over at ``level`` and run the escalation to its end (E-1 .. E-9)."""
        self.do("handover", "zhao.group", escalation_level=level, escalation_handler="zhou.leader",
                handler_authority="全权处理", event_history="事件经过:客户多次投诉", customer_demand="解决问题",
                progress="已核实")
        self.do("receive_handover", "zhou.leader", handover_complete=True)
        self.do("analyse", "zhou.leader", evaluation="评估", needs_more_contact=False)
        self.do("draft_solution", "zhou.leader", solution="方案", feasibility="可行", cost_estimate=0,
                fairness="公平")
        if "qc_review" in self.ready():
            self.do("qc_review", "liu.quality", qc_advice="同意", qc_approved=True)
        self.do("reply_e5", "zhou.leader", reply_content="答复", accepted=True)
        self.do("implement", worker, implementation="已实施")
        self.do("callback_e7", "chen.callback", callback_note="满意", satisfied=True)
        return self.do("analyse_cause_e8", "zhao.group", cause_analysis="原因", corrective_measures="措施",
                       solution_effective=False, escalation_caused_by_staff=caused_by_staff)

    # --- service_quality.bpmn, Q-1 .. Q-3 ---

    def second_explanation(self, leader: str, accepted: bool = True) -> Walk:
        """Q-2, Q-3: the team leader calls back; on success the complaint group confirms the recording."""
        self.do("call_back", leader, recording_serial="R1", agent_conduct="语气生硬", complaint_verified="founded",
                callback_result="accepted" if accepted else "refused", midway_note="经听录音,客户接受")
        if accepted:
            self.do("review_recording", "zhao.group", recording_confirmed=True, customer_chased=False)
        return self
