"""Traceability: every rule of SPEC §2–§7 is enforced by a BPMN element that cites it and proven by a test
named after it that drives such an element — unless docs/traceability-exceptions.toml says why not."""

from __future__ import annotations

import ast
import os
import re
import tomllib
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "SPEC.md"
EXCEPTIONS = ROOT / "docs" / "traceability-exceptions.toml"
SECTIONS = range(2, 8)          # §2 intake … §7 二解
RULE = re.compile(r"^- ([A-Z])-(\d+[a-z]?) ", re.M)
BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


def spec_rules() -> list[str]:
    """Return the rule ids defined in sections 2 to 7 of SPEC.md."""
    if not SPEC.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{SPEC} is missing")
        pytest.skip(f"{SPEC} is not beside the repository")
    text = SPEC.read_text(encoding="utf-8")
    parts = re.split(r"^## (\d+)\.", text, flags=re.M)
    rules = []
    for number, body in zip(parts[1::2], parts[2::2]):
        if int(number) in SECTIONS:
            rules += [f"{letter}-{num}" for letter, num in RULE.findall(body)]
    return rules


def cited_in_bpmn() -> set[str]:
    cited = set()
    for path in (ROOT / "processes").glob("*.bpmn"):
        for doc in etree.parse(str(path)).getroot().iterfind(".//bpmn:documentation", BPMN_NS):
            cited.update(re.findall(r"\b([A-Z]-\d+[a-z]?)\b", doc.text or ""))
    return cited


def test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                names.update(node.name.split("_"))
    return names


test_names.__test__ = False     # a helper, not a test


def test_functions() -> set[str]:
    """Return the names of the test functions under tests/."""
    return {node.name for path in (ROOT / "tests").rglob("test_*.py")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")}


test_functions.__test__ = False


def exceptions() -> dict[str, dict[str, str]]:
    raw = tomllib.loads(EXCEPTIONS.read_text(encoding="utf-8"))
    for rule, entry in raw.items():
        assert entry.get("reason", "").strip(), f"exception {rule} has no reason"
    return raw


def element_citations() -> dict[str, set[str]]:
    """Return, per element id of the shipped processes, the rule ids its documentation cites."""
    cites: dict[str, set[str]] = {}
    for path in (ROOT / "processes").glob("*.bpmn"):
        for doc in etree.parse(str(path)).getroot().iterfind(".//bpmn:documentation", BPMN_NS):
            element = doc.getparent()
            if element.get("id"):
                cites.setdefault(element.get("id"), set()).update(
                    re.findall(r"\b([A-Z]-\d+[a-z]?)\b", doc.text or ""))
    return cites


def rules_named(test_name: str) -> set[str]:
    """Return the rule ids a test function's name carries: test_n4_e5_… -> {N-4, E-5}."""
    return {f"{t[0].upper()}-{t[1:]}" for t in test_name.split("_") if re.fullmatch(r"[a-z]\d+[a-z]?", t)}


def test_the_spec_defines_the_rules_this_test_reads():
    rules = spec_rules()
    assert {"I-1", "I-6", "N-1", "N-12", "E-9", "D-5", "C-7", "Q-3"} <= set(rules)


def test_every_rule_is_cited_by_a_bpmn_element():
    allowed = {rule for rule, entry in exceptions().items() if "bpmn" in entry.get("missing", [])}
    missing = [r for r in spec_rules() if r not in cited_in_bpmn() and r not in allowed]
    assert missing == [], f"rules cited by no BPMN element: {missing}"


def test_every_rule_is_proven_by_a_test_named_after_it():
    allowed = {rule for rule, entry in exceptions().items() if "test" in entry.get("missing", [])}
    names = test_names()
    missing = [r for r in spec_rules() if r.replace("-", "").lower() not in names and r not in allowed]
    assert missing == [], f"rules no test is named after: {missing}"


def test_no_exception_is_left_over():
    rules, cited, names = set(spec_rules()), cited_in_bpmn(), test_names()
    stale = [rule for rule, entry in exceptions().items()
             if rule not in rules
             or ("bpmn" in entry.get("missing", []) and rule in cited)
             or ("test" in entry.get("missing", []) and rule.replace("-", "").lower() in names)]
    assert stale == [], f"exceptions no longer needed: {stale}"


def test_rules_named_reads_rule_ids_from_a_test_name():
    assert rules_named("test_n4_e5_a_general_complaint_keeps_its_3_day_limit") == {"N-4", "E-5"}
    assert rules_named("test_s2a_late_or_shirking") == {"S-2a"}


def test_every_rule_test_drives_an_element_citing_the_rule():
    """A rule's test must make the shipped processes execute an element whose documentation cites the rule.

    Runs last (tests/conftest.py orders it): the conftest records, per test, the elements the engine wrote
    audit events for. A rule is judged when every test named after it ran in this session (a partial run,
    -k or a few files, judges only the rules whose tests it ran completely).
    """
    from tests.conftest import EXECUTED

    cites, spec = element_citations(), set(spec_rules())
    named: dict[str, set[str]] = {}
    for name in test_functions():
        for rule in rules_named(name) & spec:
            named.setdefault(rule, set()).add(name)
    driven: dict[str, list[bool]] = {}
    for name, elements in EXECUTED.items():
        for rule in rules_named(name) & spec:
            if named.get(rule, set()) <= set(EXECUTED):
                driven.setdefault(rule, []).append(any(rule in cites.get(e, ()) for e in elements))
    if not driven:
        pytest.skip("no test named after a rule ran in this session")
    allowed = {rule for rule, entry in exceptions().items() if "drive" in entry.get("missing", [])}
    undriven = sorted(r for r, results in driven.items() if not any(results) and r not in allowed)
    assert undriven == [], f"rules whose tests drive no element citing them: {undriven}"
