"""Intake rules as data: classification (I-2, I-3) and routing (I-4) with the telecom and tobacco profiles."""

from __future__ import annotations

import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from engine.rules import intake
from engine.settings import DEFAULT_DATA_DIR, RuleFile, Settings

CLASSIFICATION = intake.load_classification(DEFAULT_DATA_DIR / "classification.toml")
TELECOM = intake.load_routing(DEFAULT_DATA_DIR / "profiles" / "telecom" / "routing.toml")
TOBACCO = intake.load_routing(DEFAULT_DATA_DIR / "profiles" / "tobacco" / "routing.toml")


@pytest.mark.parametrize("category, kind", [
    ("complaint.network.signal", "complaint"), ("consultation.billing", "consultation"),
    ("demand.service", "demand"), ("suggestion", "suggestion"), ("", "complaint"), ("nonsense.x", "complaint"),
])
def test_i2_kind_is_the_root_of_the_category(category, kind):
    assert intake.classify(CLASSIFICATION, {"category": category})["kind"] == kind


def test_i2_the_intake_clerks_choice_of_kind_wins():
    assert intake.classify(CLASSIFICATION, {"category": "complaint.other", "kind": "suggestion"})["kind"] \
        == "suggestion"


@pytest.mark.parametrize("data, severity, reasons", [
    ({"amount": "1999.99"}, "general", []),
    ({"amount": 2000}, "major", ["amount"]),
    ({"amount": "2000.00", "media_exposed": True}, "major", ["amount", "media_exposed"]),
    ({"lawsuit": True}, "major", ["lawsuit"]),
    ({"group_lawsuit_risk": True}, "major", ["group_lawsuit_risk"]),
    ({"amount": None, "media_exposed": False}, "general", []),
    ({"amount": "not a number"}, "general", []),
])
def test_i3_major_when_money_at_least_2000_or_media_or_lawsuit(data, severity, reasons):
    result = intake.classify(CLASSIFICATION, {"category": "complaint.billing.disputed_fees", **data})
    assert (result["severity"], result["major_reasons"]) == (severity, reasons)


def test_i3_only_complaints_are_major():
    assert intake.classify(CLASSIFICATION, {"category": "demand.service", "amount": 5000})["severity"] == "general"


def test_i3_threshold_is_an_exact_decimal():
    assert CLASSIFICATION.major_amount == Decimal("2000")


@pytest.mark.parametrize("category, group, department", [
    ("complaint.network.signal", "net_basic", "network"),
    ("complaint.network.internet", "net_basic", "network"),
    ("complaint.network.equipment", "net_basic", "network"),
    ("complaint.broadband.fault", "net_all", "network"),
    ("complaint.broadband.installation_delay", "net_all", "network"),
    ("complaint.billing.unknowing_subscription", "market", "market"),
    ("complaint.billing.disputed_fees", "market", "market"),
    ("complaint.service.channel", "market", "market"),
    ("complaint.broadband.fees", "market", "market"),
    ("complaint.service.customer_manager", "gov_ent", "gov_ent"),
    ("complaint.group_business", "gov_ent", "gov_ent"),
])
def test_i4_telecom_routing_table_of_seed_000(category, group, department):
    route = intake.route(TELECOM, {"category": category})
    assert (route["responsible_group"], route["responsible_department"]) == (group, department)


@pytest.mark.parametrize("segment, group", [("gov_ent", "gov_ent"), ("public", "market"), (None, "market")])
def test_i4_the_customer_segment_routes_a_subscription_without_consent(segment, group):
    """000 四.2/四.3: 不知情业务定制 is 市场部's and 政企部's: a row's `when` picks by the customer segment."""
    route = intake.route(TELECOM, {"category": "complaint.billing.unknowing_subscription", "customer_segment": segment})
    assert route["responsible_group"] == group
    # The condition is on the one row: a government customer's disputed data charges stay with 市场部.
    assert intake.route(TELECOM, {"category": "complaint.billing.disputed_fees",
                                  "customer_segment": "gov_ent"})["responsible_group"] == "market"


@pytest.mark.parametrize("channel, accept_group", [("miit", "complaint_group"), ("letter", "complaint_group"),
                                                   ("hotline_12315", "complaint_group"), ("hotline", "net_basic"),
                                                   ("green_net", "net_basic")])
def test_n1_special_channels_are_accepted_by_the_complaint_group(channel, accept_group):
    """000 一.1.7 特殊投诉渠道的归口受理: the accepting group changes, the routed group does not."""
    route = intake.route(TELECOM, {"category": "complaint.network.signal", "channel": channel})
    assert (route["accept_group"], route["responsible_group"]) == (accept_group, "net_basic")
    assert intake.route(TOBACCO, {"category": "complaint.settlement", "channel": "miit"})["accept_group"] == "finance"


@pytest.mark.parametrize("row, error", [
    ('when = "gov_ent"', "must be a table"), ("when = { customer_segment = [] }", "one value or a list"),
    ("when = { customer_segment = 1 }", "one value or a list"),
])
def test_i4_a_malformed_route_condition_is_a_clear_load_error(tmp_path, row, error):
    path = tmp_path / "routing.toml"
    path.write_text(f'''profile = "x"
[default]
group = "g"
department = "d"
[[route]]
categories = ["complaint"]
{row}
group = "a"
department = "b"
''', encoding="utf-8")
    with pytest.raises(intake.RuleDataError, match=error):
        intake.load_routing(path)


def test_i4_anything_else_goes_to_the_grid_of_the_customer():
    assert intake.route(TELECOM, {"category": "complaint.other", "customer_grid": "east"})["responsible_group"] \
        == "grid_east"
    assert intake.route(TELECOM, {"category": "complaint.other"})["responsible_group"] == "grid"


@pytest.mark.parametrize("category, group", [
    ("complaint.marketing.customer_manager", "marketing_centre"), ("complaint.marketing.price", "marketing_centre"),
    ("complaint.logistics.late_delivery", "logistics_centre"), ("complaint.logistics.cigarette_quality",
                                                                 "logistics_centre"),
    ("complaint.monopoly.licence", "county_bureau"), ("complaint.settlement", "finance"),
    ("complaint.leaf.purchasing", "producing_county"), ("complaint.other", "enterprise_mgmt"),
])
def test_i4_tobacco_profile_of_seed_004(category, group):
    assert intake.route(TOBACCO, {"category": category})["responsible_group"] == group


@pytest.mark.parametrize("category, group", [
    ("complaint.marketing.customer_manager", "county_bureau"), ("complaint.logistics.late_delivery", "county_bureau"),
    ("complaint.settlement", "county_bureau"), ("complaint.monopoly.licence", "county_bureau"),
    ("complaint.leaf.purchasing", "producing_county"), ("complaint.other", "enterprise_mgmt")])
def test_i4_tobacco_004_8_the_intake_may_give_the_complaint_to_the_county_bureau(category, group):
    """004 第八条(一)(二)(四) 转…中心、县(市)局(分公司): handling_unit = county picks the county bureau."""
    assert intake.route(TOBACCO, {"category": category, "handling_unit": "county"})["responsible_group"] == group


def test_i4_the_tobacco_profile_loads_without_code_change(monkeypatch):
    from engine.topics.intake import IntakeTopics

    monkeypatch.setenv("COMPLAINTS_PROFILE", "tobacco")
    topics = IntakeTopics(Settings.from_env())
    assert topics.routing.get().profile == "tobacco"


def test_i4_an_edited_routing_table_is_read_again_without_restart(tmp_path):
    path = tmp_path / "routing.toml"
    shutil.copy(DEFAULT_DATA_DIR / "profiles" / "telecom" / "routing.toml", path)
    table = RuleFile(path, intake.load_routing)
    assert intake.route(table.get(), {"category": "complaint.group_business"})["responsible_group"] == "gov_ent"
    path.write_text(path.read_text(encoding="utf-8").replace('group = "gov_ent"', 'group = "gov_ent_2"'),
                    encoding="utf-8")
    os.utime(path, ns=(1, 2))
    assert intake.route(table.get(), {"category": "complaint.group_business"})["responsible_group"] == "gov_ent_2"


def test_category_trees_list_parents_first_and_roots_are_kinds():
    for profile in ("telecom", "tobacco"):
        tree = intake.load_categories(DEFAULT_DATA_DIR / "profiles" / profile / "categories.toml")
        assert {c.kind for c in tree.values()} <= set(CLASSIFICATION.kinds)
        routed = {p for r in (TELECOM if profile == "telecom" else TOBACCO).routes for p in r.categories}
        assert routed <= set(tree), f"{profile}: routes name categories the tree lacks: {routed - set(tree)}"


def test_a_broken_rules_file_names_itself(tmp_path: Path):
    bad = tmp_path / "routing.toml"
    bad.write_text('profile = "x"\n[[route]]\ncategories = ["a"]\n', encoding="utf-8")
    with pytest.raises(intake.RuleDataError, match="routing.toml"):
        intake.load_routing(bad)


def test_a_profile_only_start_field_needs_a_list_of_profile_names(tmp_path):
    from engine.rules.labels import load_fields

    path = tmp_path / "fields.toml"
    path.write_text('[[field]]\nkey = "handling_unit"\nprofiles = "tobacco"\n', encoding="utf-8")
    with pytest.raises(intake.RuleDataError, match="profiles of field handling_unit must be a list"):
        load_fields(path)
    shipped = load_fields(DEFAULT_DATA_DIR / "fields.toml")
    assert (shipped["customer_segment"].profiles, shipped["handling_unit"].profiles) == (("telecom",), ("tobacco",))
