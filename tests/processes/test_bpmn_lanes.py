"""Issue 13 (for the process owner in the modeller): gateways sit in the lane of the role that decides, or outside
human lanes when automatic.

A gateway is automatic when every name its conditions read is data the engine computed or registered: what a
service topic declares it sets (``sets=`` of engine/topics), what a script task assigns, and what the start event
registered (the intake form, a crisis report's warning level), and no user task's form answers it. Such a gateway
lies in the lane of no person, 系统(自动) (``Lane_<process>_system``); a gateway deciding on a person's form answer
lies in the lane of a person who gives that answer. The lane is the one whose shape holds the gateway's shape, as
the process owner sees it (a gateway of a sub-process has no flowNodeRef of its own); a top-level gateway's
flowNodeRef names the same lane.
"""

from __future__ import annotations

import ast
import builtins
import re
from pathlib import Path

from lxml import etree

from engine.settings import Settings
from engine.topics import default_registry

ROOT = Path(__file__).parents[2]
FILES = sorted(ROOT.glob("processes/*.bpmn"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC",
      "camunda": "http://camunda.org/schema/1.0/bpmn"}
ASSIGNED = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)", re.M)


def _trees() -> dict[str, etree._ElementTree]:
    return {path.name: etree.parse(str(path)) for path in FILES}


def _system_data(trees) -> set[str]:
    """Names the engine sets (topics' ``sets=``, script assignments) or registers at a start event."""
    registry = default_registry(Settings())
    names: set[str] = set()
    for tree in trees.values():
        for task in tree.iterfind(".//bpmn:serviceTask", NS):
            names |= registry.sets(task.get(f"{{{NS['camunda']}}}topic")) or set()
        for script in tree.iterfind(".//bpmn:scriptTask/bpmn:script", NS):
            names |= set(ASSIGNED.findall(script.text or ""))
        names |= {f.get("id") for f in tree.iterfind(".//bpmn:startEvent//camunda:formField", NS)}
    return names


def _answers(tree) -> dict[str, set[str]]:
    """Form field id -> ids of the user tasks whose form answers it."""
    answered: dict[str, set[str]] = {}
    for task in tree.iterfind(".//bpmn:userTask", NS):
        for field in task.iterfind(".//camunda:formField", NS):
            answered.setdefault(field.get("id"), set()).add(task.get("id"))
    return answered


def _read_names(tree, gateway) -> set[str]:
    """Every variable name the conditions of the gateway's outgoing flows read."""
    names: set[str] = set()
    for out in gateway.iterfind("bpmn:outgoing", NS):
        flow = tree.find(f".//bpmn:sequenceFlow[@id='{out.text}']", NS)
        text = flow.findtext("bpmn:conditionExpression", default="", namespaces=NS).strip()
        if text:
            expr = text[2:-1] if text.startswith("${") and text.endswith("}") else text
            names |= {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
    return names - set(dir(builtins))


def _lane_of(tree) -> dict[str, str]:
    """Element id -> id of the lane whose shape holds the element's shape centre."""
    bounds = {s.get("bpmnElement"): s.find("dc:Bounds", NS) for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    lanes = [lane.get("id") for lane in tree.iterfind(".//bpmn:lane", NS)]

    def box(eid):
        b = bounds[eid]
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))

    where = {}
    for eid in bounds:
        if eid in lanes:
            continue
        x, y, w, h = box(eid)
        cx, cy = x + w / 2, y + h / 2
        inside = [lane for lane in lanes
                  if box(lane)[0] <= cx <= box(lane)[0] + box(lane)[2] and box(lane)[1] <= cy <= box(lane)[1] + box(lane)[3]]
        if inside:
            where[eid] = inside[0]
    return where


def _deciding_gateways():
    """Yield (file, tree, gateway id, names read, automatic?) for every exclusive gateway with a condition."""
    trees = _trees()
    system = _system_data(trees)
    for name, tree in trees.items():
        answered = _answers(tree)
        for gateway in tree.iterfind(".//bpmn:exclusiveGateway", NS):
            names = _read_names(tree, gateway)
            if names:
                automatic = names <= system and not any(n in answered for n in names)
                yield name, tree, gateway.get("id"), names, automatic


def test_automatic_gateways_sit_outside_human_lanes():
    """In the modeller, a gateway nobody decides (it reads only computed or registered data) is drawn in the lane
    系统(自动), not in a person's lane; every process with such a gateway has that lane."""
    misplaced, automatic_seen = [], set()
    for name, tree, gid, names, automatic in _deciding_gateways():
        if not automatic:
            continue
        automatic_seen.add(gid)
        system_lane = tree.find(f".//bpmn:lane[@id='Lane_{tree.getroot().find('bpmn:process', NS).get('id')}_system']",
                                NS)
        assert system_lane is not None, f"{name}: automatic gateway {gid} but no system lane"
        assert system_lane.get("name") == "系统(自动)"
        assert "System (automatic)" in system_lane.findtext("bpmn:documentation", default="", namespaces=NS)
        lane = _lane_of(tree).get(gid)
        if lane != system_lane.get("id"):
            misplaced.append(f"{name}: {gid} reads {sorted(names)} but lies in {lane}")
        refs = {r.text: r.getparent().get("id") for r in tree.iterfind(".//bpmn:lane/bpmn:flowNodeRef", NS)}
        if gid in refs and refs[gid] != system_lane.get("id"):
            misplaced.append(f"{name}: {gid} is listed in {refs[gid]}")
    assert not misplaced, misplaced
    # the gateways issue 13 named, found by what they read rather than by a list of ids
    assert {"gw_kind", "gw_severity", "gw_preprocess", "gw_service_quality", "gw_sq_result", "gw_demand_escalated",
            "gw_green_net", "gw_called_back", "gw_named", "gw_cause_done", "gw_major",
            "gw_warning_level"} <= automatic_seen


def test_a_gateway_deciding_on_a_persons_answer_sits_in_that_persons_lane():
    """A gateway on a form answer (satisfied, accepted, head_approved, intercepted ...) stays in the lane of a user
    task whose form gives that answer, never in the system lane."""
    misplaced = []
    for name, tree, gid, names, automatic in _deciding_gateways():
        if automatic:
            continue
        where = _lane_of(tree)
        answered = _answers(tree)
        people = {where.get(task) for n in names for task in answered.get(n, ())}
        if where.get(gid) not in people or where.get(gid, "").endswith("_system"):
            misplaced.append(f"{name}: {gid} reads {sorted(names)} in {where.get(gid)}, answered in {sorted(people)}")
    assert not misplaced, misplaced
