"""A real incident of the shipped processes, for the repair tests (issue 18).

The intake clerk names the wrong account as the complained call-centre agent: ``li.handler`` is a person of
the organisation (the intake's person check passes), but no call-centre agent. normal.bpmn's Q-3 step
(register_sq_complaint, topic count_team_complaints) looks up the agent's team, finds none and fails: the
case is in incident at once. Retrying changes nothing; repairing ``complained_agent`` to the agent the
customer meant (``xie.agent``, team 1) makes the step run and the case goes on to the call-back.
"""

from __future__ import annotations

WRONG_AGENT = "li.handler"
RIGHT_AGENT = "xie.agent"
ERROR = "Q-3: li.handler belongs to no call-centre team"


def wrong_agent_intake(received_at: str, facts: str = "话务员服务态度恶劣,挂断客户电话") -> dict:
    """Return an intake of a complaint about a call-centre agent that names the wrong account."""
    return {"complainant_name": "故障先生", "contact": "13500000000", "received_at": received_at,
            "target": "客服热线", "facts": facts, "channel": "hotline",
            "category": "complaint.service.call_centre_agent", "service_quality_agent_count": 1,
            "complained_agent": WRONG_AGENT}
