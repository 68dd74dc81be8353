"""Roles and permissions are data (data/policy.toml): who may deploy, start which process, repair, oversee."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.services import Actor, PermissionDenied
from engine.services.policy import PERMISSIONS, load_policy

SHIPPED = Path(__file__).parents[2] / "data" / "policy.toml"


def test_the_shipped_policy_gives_every_permission_the_code_asks_for():
    policy = load_policy(SHIPPED)
    assert set(policy.permissions) == set(PERMISSIONS)
    assert policy.allows(frozenset({"process_owner"}), "deploy")
    assert not policy.allows(frozenset({"handler"}), "deploy")
    assert policy.allows(frozenset({"compliance"}), "oversee_cases") and policy.allows(frozenset({"compliance"}),
                                                                                      "see_compliance")


def test_anyone_may_start_a_process_unless_the_policy_names_its_starters():
    policy = load_policy(SHIPPED)
    assert policy.may_start(frozenset({"intake"}), "normal") and policy.may_start(frozenset(), "normal")
    assert not policy.may_start(frozenset({"handler"}), "crisis")
    assert policy.may_start(frozenset({"complaint_group"}), "crisis")
    with pytest.raises(PermissionDenied) as refused:
        policy.require_start(Actor("li.handler", frozenset({"handler"})), "crisis")
    assert (refused.value.code, refused.value.params) == ("may_not_start", {"process_key": "crisis"})


def test_a_refusal_names_the_permission():
    with pytest.raises(PermissionDenied) as refused:
        load_policy(SHIPPED).require(Actor("li.handler", frozenset({"handler"})), "repair_cases", "retry incidents")
    assert (refused.value.code, refused.value.params) == ("forbidden", {"permission": "repair_cases"})


def test_a_policy_file_without_a_permission_or_with_an_unknown_one_is_refused(tmp_path):
    text = SHIPPED.read_text(encoding="utf-8")
    broken = tmp_path / "policy.toml"
    broken.write_text(text.replace("repair_cases =", "repair_casez ="), encoding="utf-8")
    with pytest.raises(ValueError, match="missing: repair_cases; unknown: repair_casez"):
        load_policy(broken)
