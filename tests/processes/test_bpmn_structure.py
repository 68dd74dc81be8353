"""Every BPMN file in the repository is real, modeller-ready BPMN 2.0 the engine can run.

The same structural points the independent bpmn-check tool checks, in Python, so
CI catches a broken file: it parses (lxml and SpiffWorkflow through the engine's
own validation), every flow node, lane and participant has a shape with bounds,
every sequence flow an edge with at least two waypoints, and every element that
a rule governs is reachable from the diagram.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn import inspect_file
from engine.bpmn.parser import EXECUTABLE_TAGS

ROOT = Path(__file__).parents[2]
FILES = sorted([*ROOT.glob("processes/*.bpmn"), *ROOT.glob("tests/fixtures/*.bpmn"), *ROOT.glob("bench/*.bpmn")])
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}
NEEDS_SHAPE = EXECUTABLE_TAGS | {"lane", "participant"}


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.fixture(params=FILES, ids=_id)
def bpmn(request) -> tuple[Path, etree._Element]:
    return request.param, etree.parse(str(request.param)).getroot()


def test_every_flow_node_lane_and_participant_has_a_shape_with_bounds(bpmn):
    path, tree = bpmn
    shapes = {s.get("bpmnElement"): s for s in tree.iterfind(".//bpmndi:BPMNShape", NS)}
    missing = []
    for node in tree.iter():
        if not isinstance(node.tag, str) or not node.tag.startswith(f"{{{NS['bpmn']}}}"):
            continue
        if etree.QName(node).localname in NEEDS_SHAPE and node.get("id"):
            shape = shapes.get(node.get("id"))
            bounds = shape.find("dc:Bounds", NS) if shape is not None else None
            if bounds is None or float(bounds.get("width", 0)) <= 0 or float(bounds.get("height", 0)) <= 0:
                missing.append(node.get("id"))
    assert missing == [], f"{_id(path)}: no shape with bounds for {missing}"


def test_every_sequence_flow_has_an_edge_with_waypoints(bpmn):
    path, tree = bpmn
    edges = {e.get("bpmnElement"): e for e in tree.iterfind(".//bpmndi:BPMNEdge", NS)}
    bad = [f.get("id") for f in tree.iterfind(".//bpmn:sequenceFlow", NS)
           if f.get("id") not in edges or len(edges[f.get("id")].findall("di:waypoint", NS)) < 2]
    assert bad == [], f"{_id(path)}: no edge with >= 2 waypoints for {bad}"


def test_every_file_parses_and_passes_the_engines_deployment_checks(bpmn):
    path, _ = bpmn
    called = {key: f.read_bytes() for f in FILES
              for key in etree.parse(str(f)).getroot().xpath("bpmn:process/@id", namespaces=NS)}
    info = inspect_file(path.read_bytes(), path.name, called.get, lambda topic: True)
    assert info.process_ids


SEED_NUMBER = __import__("re").compile(r"(?<![\d.])00[0-4](?=[ )\u4e00-\u9fff])")
HAND_DRAWN = [ROOT / "processes" / "rectification.bpmn"]


@pytest.mark.parametrize("path", HAND_DRAWN, ids=_id)
def test_p4_hand_drawn_documentation_cites_regulation_titles_not_seed_file_numbers(path):
    """A process owner reads 《投诉处理管理办法》三, never the seed file number (000 三) of the repository."""
    docs = [d.text or "" for d in etree.parse(str(path)).getroot().iterfind(".//bpmn:documentation", NS)]
    assert docs and not [d for d in docs if SEED_NUMBER.search(d)]
    assert all("《" in d for d in docs if "P-4" in d)
