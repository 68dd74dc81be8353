"""Every form field of the shipped processes speaks both UI languages (issue 18).

The BPMN carries the Chinese label (camunda:formField label, camunda:value name) and the English one
(camunda:property label_en and value_en:<value id>), read by the engine's own form parser: a process owner
who adds a field in Camunda Modeler without its English label is told here, not by an English-speaking
handler who finds Chinese on the task page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn.forms import BPMN, CAMUNDA, parse_form

ROOT = Path(__file__).parents[2]
SHIPPED = sorted((ROOT / "processes").glob("*.bpmn"))
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def forms(path: Path):
    tree = etree.parse(str(path))
    for node in tree.iter(f"{{{BPMN}}}userTask", f"{{{BPMN}}}startEvent"):
        for field in parse_form(node):
            yield node.get("id"), field


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_form_field_and_enum_value_has_a_chinese_and_an_english_label(path):
    fields = list(forms(path))
    assert fields, f"{path.name} has no form"
    missing = [f"{node}.{f['id']}" for node, f in fields
               if not f.get("label_en") or CJK.search(f["label_en"]) or not CJK.search(f["label"])]
    missing += [f"{node}.{f['id']}={o['id']}" for node, f in fields for o in f["options"]
                if not o.get("name_en") or CJK.search(o["name_en"]) or (o["name"] == o["id"])]
    assert missing == [], (f"{path.name}: form fields or enum values without an English label "
                           f"(camunda:property label_en / value_en:<id>) or without a Chinese one: {missing}")


def test_the_shipped_forms_are_all_checked():
    counted = sum(1 for path in SHIPPED for _ in forms(path))
    drawn = sum(len(etree.parse(str(p)).findall(f".//{{{CAMUNDA}}}formField")) for p in SHIPPED)
    assert counted == drawn and counted > 100
