"""Forms drawn in the modeller (camunda:formData): parsing and validation, field by field (SPEC I-6)."""

from __future__ import annotations

import pytest
from lxml import etree

from engine.bpmn import forms
from engine.bpmn.forms import FormDefinitionError, parse_form, validate
from tests.conftest import fixture_bytes, messages


def field(fid: str, kind: str = "string", options: tuple[str, ...] = (), **constraints) -> dict:
    """Return one form field as parse_form yields it."""
    return {"id": fid, "label": fid, "type": kind, "default": None, "constraints": constraints,
            "options": [{"id": o, "name": o} for o in options]}


# --- type coercion: what each type accepts and what it turns it into ----------------------------

CLEAN = [
    ("string", "hello", "hello"),
    ("text", "line one\nline two", "line one\nline two"),
    ("long", "42", 42),
    ("long", " -7 ", -7),
    ("long", 42, 42),
    ("double", "3.5", 3.5),
    ("double", 2, 2.0),
    ("boolean", "true", True),
    ("boolean", "on", True),
    ("boolean", "1", True),
    ("boolean", "false", False),
    ("boolean", "no", False),
    ("boolean", False, False),
    ("date", "2025-03-03", "2025-03-03"),
    ("enum", "web", "web"),
]


@pytest.mark.parametrize(("kind", "raw", "value"), CLEAN)
def test_valid_value_is_coerced_to_its_type(kind, raw, value):
    clean, errors = validate([field("x", kind, options=("hotline", "web"))], {"x": raw})
    assert errors == {}
    assert clean == {"x": value}
    assert type(clean["x"]) is type(value)


WRONG_TYPE = [
    ("string", 42, "must be text"),
    ("text", ["a"], "must be text"),
    ("long", "abc", "must be a whole number"),
    ("long", "4.5", "must be a whole number"),
    ("long", 4.5, "must be a whole number"),
    ("long", True, "must be a whole number"),
    ("double", "abc", "must be a number"),
    ("double", True, "must be a number"),
    ("double", "nan", "must be a number"),
    ("double", "inf", "must be a number"),
    ("boolean", "maybe", "must be true or false"),
    ("boolean", 2, "must be true or false"),
    ("date", "03/03/2025", "must be a date (YYYY-MM-DD)"),
    ("date", "2025-02-30", "must be a date (YYYY-MM-DD)"),
    ("enum", "fax", "must be one of hotline, web"),
    ("enum", "Web", "must be one of hotline, web"),
]


@pytest.mark.parametrize(("kind", "raw", "message"), WRONG_TYPE)
def test_value_of_the_wrong_type_is_refused_with_a_message(kind, raw, message):
    clean, errors = validate([field("x", kind, options=("hotline", "web"))], {"x": raw})
    assert messages(errors) == {"x": message}
    assert clean == {}


# --- constraints ------------------------------------------------------------------------------

CONSTRAINED = [
    (field("note", required=True), {}, "is required"),
    (field("note", required=True), {"note": ""}, "is required"),
    (field("note", required=True), {"note": "   "}, "is required"),
    (field("note", required=True), {"note": None}, "is required"),
    (field("amount", "long", required=True), {}, "is required"),
    (field("note", minlength=2), {"note": "x"}, "must be at least 2 characters"),
    (field("note", maxlength=5), {"note": "too long"}, "must be at most 5 characters"),
    (field("code", pattern=r"[A-Z]{2}-\d+"), {"code": "ab-12"}, r"must match [A-Z]{2}-\d+"),
    (field("code", pattern=r"[A-Z]{2}-\d+"), {"code": "xAB-12"}, r"must match [A-Z]{2}-\d+"),
    (field("amount", "long", min=0.0), {"amount": "-1"}, "must be at least 0"),
    (field("amount", "long", max=100000.0), {"amount": 100001}, "must be at most 100000"),
    (field("score", "double", min=0.5), {"score": "0.25"}, "must be at least 0.5"),
    (field("score", "double", max=10.0), {"score": "10.5"}, "must be at most 10"),
    (field("score", "double", min=0.0, max=10.0), {"score": "nan"}, "must be a number"),
    (field("status", readonly=True), {"status": "closed"}, "is read-only"),
]


@pytest.mark.parametrize(("spec", "submitted", "message"), CONSTRAINED,
                         ids=[f"{s['id']}-{'-'.join(s['constraints'])}-{m}" for s, _, m in CONSTRAINED])
def test_constraint_violation_is_refused_naming_the_field(spec, submitted, message):
    clean, errors = validate([spec], submitted)
    assert messages(errors) == {spec["id"]: message}
    assert clean == {}


WITHIN = [
    (field("note", required=True, minlength=2, maxlength=5), {"note": "ok"}, {"note": "ok"}),
    (field("note", minlength=2, maxlength=5), {"note": "fives"}, {"note": "fives"}),
    (field("code", pattern=r"[A-Z]{2}-\d+"), {"code": "AB-12"}, {"code": "AB-12"}),
    (field("amount", "long", min=0.0, max=100000.0), {"amount": "0"}, {"amount": 0}),
    (field("amount", "long", min=0.0, max=100000.0), {"amount": "100000"}, {"amount": 100000}),
    (field("note"), {}, {}),
    (field("note"), {"note": ""}, {}),
    (field("status", readonly=True), {}, {}),
    (field("info_sufficient", "boolean"), {}, {"info_sufficient": False}),
    (field("info_sufficient", "boolean", required=True), {}, {"info_sufficient": False}),
]


@pytest.mark.parametrize(("spec", "submitted", "expected"), WITHIN,
                         ids=[f"{s['id']}-{'-'.join(s['constraints']) or 'optional'}-{sub}" for s, sub, _ in WITHIN])
def test_value_within_constraints_or_optional_and_blank_is_clean(spec, submitted, expected):
    assert validate([spec], submitted) == (expected, {})


def test_unknown_field_is_refused_even_next_to_valid_fields():
    clean, errors = validate([field("note")], {"note": "fine", "approved_by": "mia"})
    assert messages(errors) == {"approved_by": "is not a field of this form"}
    assert clean == {}


def test_every_invalid_field_gets_its_own_message():
    form = [field("note", required=True, minlength=2), field("amount", "long", min=0.0),
            field("channel", "enum", options=("hotline", "web")), field("ok", "boolean")]
    clean, errors = validate(form, {"amount": "-1", "channel": "fax", "ok": "maybe", "extra": 1})
    assert messages(errors) == {
        "note": "is required", "amount": "must be at least 0", "channel": "must be one of hotline, web",
        "ok": "must be true or false", "extra": "is not a field of this form",
    }
    assert clean == {}


def test_clean_values_of_a_whole_form_are_coerced_together():
    form = [field("note", required=True), field("amount", "long"), field("rate", "double"),
            field("ok", "boolean"), field("day", "date"), field("channel", "enum", options=("web",))]
    submitted = {"note": "n", "amount": "42", "rate": "0.5", "ok": "true", "day": "2025-03-03", "channel": "web"}
    assert validate(form, submitted) == (
        {"note": "n", "amount": 42, "rate": 0.5, "ok": True, "day": "2025-03-03", "channel": "web"}, {})


# --- parsing the form drawn in the BPMN --------------------------------------------------------

def user_task(xml_fields: str) -> etree._Element:
    """Return a bpmn:userTask node holding the given camunda:formField elements."""
    return etree.fromstring(
        f'<bpmn:userTask xmlns:bpmn="{forms.BPMN}" xmlns:camunda="{forms.CAMUNDA}" id="t">'
        f"<bpmn:extensionElements><camunda:formData>{xml_fields}</camunda:formData></bpmn:extensionElements>"
        "</bpmn:userTask>")


def test_form_of_the_investigate_task_is_read_from_loop_bpmn():
    tree = etree.fromstring(fixture_bytes("loop.bpmn"))
    node = tree.xpath("//bpmn:userTask[@id='investigate']", namespaces={"bpmn": forms.BPMN})[0]
    assert parse_form(node) == [
        field("info_sufficient", "boolean") | {"label": "Information sufficient"},
        field("note", required=True, minlength=2) | {"label": "Findings"},
        field("amount", "long", min=0.0, max=100000.0) | {"label": "Amount"},
        field("channel", "enum") | {"label": "Channel", "options": [
            {"id": "hotline", "name": "Hotline"}, {"id": "web", "name": "Web"}]},
    ]


@pytest.mark.parametrize(("xml_fields", "words"), [
    ('<camunda:formField label="no id" />', "has no id"),
    ('<camunda:formField id="a" type="money" />', "unknown type 'money'"),
    ('<camunda:formField id="a" type="string"><camunda:validation><camunda:constraint name="unique" />'
     "</camunda:validation></camunda:formField>", "unknown constraint 'unique'"),
    ('<camunda:formField id="a" type="string"><camunda:validation><camunda:constraint name="min" />'
     "</camunda:validation></camunda:formField>", "needs a config value"),
    ('<camunda:formField id="a" type="string"><camunda:validation><camunda:constraint name="max" config="ten" />'
     "</camunda:validation></camunda:formField>", "is not a number"),
    ('<camunda:formField id="a" type="string"><camunda:validation><camunda:constraint name="pattern" config="([a-z]" />'
     "</camunda:validation></camunda:formField>", "is not an RE2 regular expression"),
    ('<camunda:formField id="a" type="date"><camunda:validation><camunda:constraint name="max" config="tomorrow" />'
     "</camunda:validation></camunda:formField>", "neither a date .YYYY-MM-DD. nor 'today'"),
])
def test_invalid_form_definition_is_refused(xml_fields, words):
    with pytest.raises(FormDefinitionError, match=words):
        parse_form(user_task(xml_fields))


def test_a_field_error_carries_a_code_and_the_parameters_its_message_names():
    form = [field("note", minlength=2), field("amount", "long", max=10.0), field("channel", "enum", options=("web",))]
    _, errors = validate(form, {"note": "x", "amount": "11", "channel": "fax"})
    assert {k: (e.code, e.params) for k, e in errors.items()} == {
        "note": ("min_length", {"n": 2}), "amount": ("max", {"n": "10"}), "channel": ("one_of", {"options": "web"})}


def test_i1_a_date_bound_is_a_date_or_the_day_of_submission():
    """I-1: received_at is drawn with max "today"; a date bound may also be a fixed date."""
    from datetime import date
    form = parse_form(user_task(
        '<camunda:formField id="received_at" type="date"><camunda:validation>'
        '<camunda:constraint name="max" config="today" /><camunda:constraint name="min" config="2025-01-01" />'
        "</camunda:validation></camunda:formField>"))
    today = date(2025, 3, 3)
    assert validate(form, {"received_at": "2025-03-03"}, today=today) == ({"received_at": "2025-03-03"}, {})
    _, late = validate(form, {"received_at": "2025-03-04"}, today=today)
    assert (late["received_at"].code, late["received_at"].message) == ("date_max", "must be on or before 2025-03-03")
    _, early = validate(form, {"received_at": "2024-12-31"}, today=today)
    assert (early["received_at"].code, early["received_at"].params) == ("date_min", {"date": "2025-01-01"})


def test_english_label_and_value_names_are_read_from_the_fields_camunda_properties():
    """Camunda Modeler's form field properties (id and value) carry the English words (issue 18)."""
    form = parse_form(user_task(
        '<camunda:formField id="channel" label="受理渠道" type="enum"><camunda:properties>'
        '<camunda:property id="label_en" value="Channel" /><camunda:property id="value_en:web" value="Website" />'
        '</camunda:properties><camunda:value id="web" name="网站" /><camunda:value id="fax" name="传真" />'
        '</camunda:formField>'
        '<camunda:formField id="note" label="说明" type="string"><camunda:properties>'
        '<camunda:property name="label_en" value="Note" /></camunda:properties></camunda:formField>'
        '<camunda:formField id="old" label="旧字段" type="string" />'))
    assert [(f["label"], f.get("label_en")) for f in form] == [("受理渠道", "Channel"), ("说明", "Note"),
                                                               ("旧字段", None)]
    assert form[0]["options"] == [{"id": "web", "name": "网站", "name_en": "Website"}, {"id": "fax", "name": "传真"}]


def test_an_english_name_for_a_value_the_field_does_not_have_is_refused():
    with pytest.raises(FormDefinitionError, match="English names for values it does not have: wbe"):
        parse_form(user_task(
            '<camunda:formField id="channel" label="受理渠道" type="enum"><camunda:properties>'
            '<camunda:property id="value_en:wbe" value="Website" /></camunda:properties>'
            '<camunda:value id="web" name="网站" /></camunda:formField>'))
