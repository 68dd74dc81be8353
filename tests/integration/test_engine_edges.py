"""Issue 16 item 7, the engine's part: inputs the fuzzer sent that ended in a server error are coded 4xx.

A ``businessRuleTask`` without ``decisionRef`` (was a KeyError at deploy), an amount of 10**400 (a long is
64 bits, a double finite), a NUL character in ids, names and case data (PostgreSQL refuses it; SQLite stored
it): the same coded error on both databases.
"""

from __future__ import annotations

import pytest

from engine.services import DeploymentRefused, FormInvalid, InvalidRequest, NotFound
from tests.conftest import fixture_bytes, messages
from tests.integration.test_budgets import process
from tests.integration.test_deploy_checks import START, with_start_form


def test_a_business_rule_task_without_a_decision_is_refused(engine):
    xml = process("br", '<bpmn:businessRuleTask id="rule" />', [("start", "rule"), ("rule", "end")])
    with pytest.raises(DeploymentRefused) as refused:
        engine.admin.deploy(xml, "br.bpmn")
    assert "needs a DMN decision" in str(refused.value) and refused.value.element_id == "rule"


@pytest.fixture
def intake(engine):
    engine.admin.deploy(with_start_form(process("in", "", [("start", "end")])), "in.bpmn")
    assert "agents" in START
    return "in"


@pytest.mark.parametrize("value", [10**400, str(10**400), 2**63, -(2**63) - 1])
def test_a_long_beyond_64_bits_is_a_field_error(engine, intake, handler, value):
    with pytest.raises(FormInvalid) as caught:
        engine.cases.start(intake, {"facts": "x", "agents": value}, handler)
    assert messages(caught.value.errors) == {"agents": "must be a whole number of at most 19 digits (a 64-bit long)"}


def test_the_largest_long_is_accepted(engine, intake, handler):
    assert engine.cases.start(intake, {"facts": "x", "agents": 2**63 - 1}, handler).status == "completed"


def test_a_nul_in_case_data_is_a_bad_request_on_both_databases(engine, intake, handler):
    with pytest.raises(InvalidRequest) as caught:
        engine.cases.start(intake, {"facts": "bad\x00text"}, handler)
    assert caught.value.code == "nul_character"


def test_a_nul_in_a_task_id_or_a_category_is_a_bad_request(engine, handler):
    engine.admin.deploy(fixture_bytes("loop.bpmn"), "loop.bpmn")
    with pytest.raises((InvalidRequest, NotFound)) as caught:
        engine.cases.claim("1234\x00", handler)
    assert caught.value.code in {"nul_character", "task_not_found"}
    with pytest.raises(InvalidRequest) as inbox:
        engine.reads.inbox(handler, category="a\x00b")
    assert inbox.value.code == "nul_character"
