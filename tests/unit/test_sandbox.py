"""The restricted sandbox of BPMN conditions and scripts (docs/bpmn-dialect.md: expressions are Python in RestrictedPython).

Every attack is tried on ``sandbox.evaluate`` and ``sandbox.execute`` and again as the script of a real
script task run by the engine: attacks that compile become an incident, attacks that do not compile are
refused at deploy (SPEC A-1: the failure is kept in the audit trail, nothing half-runs).
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timezone
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest

from engine.bpmn import sandbox
from engine.bpmn.sandbox import SandboxError
from engine.services import SYSTEM, DeploymentRefused
from tests.conftest import fixture_bytes, stored_state

# Attacks that compile under RestrictedPython; a runtime guard refuses them. id -> (code, words of the refusal)
RUNTIME_ATTACKS = {
    "import_os": ("import os", "import"),
    "open_etc_passwd": ("open('/etc/passwd')", "open()"),
    "str_format_attribute_walk": ("'{0.__class__}'.format(1)", "format"),
    "format_map_attribute_walk": ("'{x.__class__}'.format_map({'x': 1})", "format"),
    "unbound_str_format": ("str.format('{0.__class__}', 1)", "format"),
    "map_over_str_format": ("list(map(str.format, ['{0.__class__}'], [1]))", "format"),
    "getattr_dunder": ("getattr(1, '__class__')", "getattr"),
    "type_of_a_value": ("type(1)", "type"),
    "lambda_default_getattr": ("(lambda g=getattr: g(1, '__class__'))()", "getattr"),
    "lambda_default_str_format": ("(lambda f='{0.__class__}'.format: f(1))()", "format"),
    "globals_of_the_scope": ("globals()", "globals"),
    "vars_of_the_scope": ("vars()", "vars"),
}
# Attacks compile_restricted refuses: names and attributes starting with "_", frame walks, eval.
COMPILE_ATTACKS = {
    "dunder_import": "__import__('os')",
    "subclasses_walk": "().__class__.__base__.__subclasses__()",
    "lambda_body_dunder": "(lambda: ().__class__)()",
    "lambda_default_dunder": "(lambda c=(1).__class__: c)()",
    "builtins_dict": "__builtins__['open']",
    "guard_function_by_name": "_getattr_(1, '__class__')",
    "generator_frame_globals": "(x for x in [1]).gi_frame.f_globals",
    "fstring_dunder": "f'{(1).__class__}'",
    "eval_call": "eval('1')",
}
# Values a script can reach that are not case data: they must not land in the case.
NON_DATA_VALUES = {
    "module": "math",
    "classes": "int.mro()",
    "generator": "(x for x in [1])",
    "module_in_a_list": "[math]",
}
ALL_ATTACKS = {**{k: v[0] for k, v in RUNTIME_ATTACKS.items()}, **COMPILE_ATTACKS}


def script_of(attack: str) -> str:
    """Return a script that runs ``attack`` and tries to keep its result in the case data as ``leaked``."""
    if attack.startswith("import "):
        return f"{attack}\nleaked = os"
    return f"leaked = {attack}"


# --- the sandbox functions ---------------------------------------------------------------

@pytest.mark.parametrize("attack", ALL_ATTACKS.values(), ids=ALL_ATTACKS.keys())
def test_attack_is_refused_by_evaluate(attack):
    with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal will do; returning is the failure
        sandbox.evaluate(attack, {"amount": 1}, {})


@pytest.mark.parametrize("attack", ALL_ATTACKS.values(), ids=ALL_ATTACKS.keys())
def test_attack_is_refused_by_execute_and_leaves_case_data_alone(attack):
    data = {"amount": 1}
    with pytest.raises(Exception):  # noqa: B017, PT011
        sandbox.execute(script_of(attack), data, {})
    assert data == {"amount": 1}


@pytest.mark.parametrize("attack", COMPILE_ATTACKS.values(), ids=COMPILE_ATTACKS.keys())
def test_compile_time_attack_is_refused_when_compiled_naming_its_line(attack):
    with pytest.raises(SandboxError) as refused:
        sandbox.compile_script(f"checked = True\n{script_of(attack)}")
    assert refused.value.line == 2


@pytest.mark.parametrize(("attack", "words"), RUNTIME_ATTACKS.values(), ids=RUNTIME_ATTACKS.keys())
def test_runtime_attack_compiles_so_only_the_guard_stops_it(attack, words):
    assert sandbox.compile_script(script_of(attack)) is not None


@pytest.mark.parametrize("value", NON_DATA_VALUES.values(), ids=NON_DATA_VALUES.keys())
def test_execute_lets_no_module_class_or_generator_into_case_data(value):
    data: dict = {}
    with contextlib.suppress(Exception):  # refusing the script is as good as dropping the value
        sandbox.execute(f"leaked = {value}", data, {})
    assert "leaked" not in data


LEGIT_SCRIPTS = [
    pytest.param("total = sum(amounts)", {"amounts": [1, 2, 3]}, {"total": 6}, id="sum"),
    pytest.param("big = [a for a in amounts if a > 1]", {"amounts": [1, 2, 3]}, {"big": [2, 3]}, id="comprehension"),
    pytest.param("by_kind = {k: len(k) for k in kinds}", {"kinds": ["a", "bb"]}, {"by_kind": {"a": 1, "bb": 2}},
                 id="dict_comprehension"),
    pytest.param("delays += 1", {"delays": 0}, {"delays": 1}, id="augmented_assignment"),
    pytest.param("total = 0\nfor a in amounts:\n    total += a", {"amounts": [1, 2, 3]}, {"total": 6}, id="for_loop"),
    pytest.param("fee = Decimal('0.05') * 3", {}, {"fee": Decimal("0.15")}, id="decimal"),
    pytest.param("due = received + timedelta(hours=4)", {"received": datetime(2025, 3, 3, 9, tzinfo=timezone.utc)},
                 {"due": datetime(2025, 3, 3, 13, tzinfo=timezone.utc)}, id="datetime_arithmetic"),
    pytest.param("days = (date(2025, 3, 10) - date(2025, 3, 3)).days", {}, {"days": 7}, id="date_arithmetic"),
    pytest.param("people['mia'] = 'market'\npeople.update({'ada': 'admin'})\nnames = sorted(people.keys())",
                 {"people": {"hans": "handler"}},
                 {"people": {"hans": "handler", "mia": "market", "ada": "admin"}, "names": ["ada", "hans", "mia"]},
                 id="dict_methods"),
    pytest.param("tags.append('late')\ntags.extend(['vip'])\nfirst = tags.pop(0)", {"tags": ["new"]},
                 {"tags": ["late", "vip"], "first": "new"}, id="list_methods"),
    pytest.param("low, high = bounds", {"bounds": [1, 9]}, {"low": 1, "high": 9}, id="unpacking"),
    pytest.param("level = 'major' if amount >= 2000 else 'general'", {"amount": 2500}, {"level": "major"},
                 id="i3_major_from_amount"),
    pytest.param("label = f'{kind}-{amount}'", {"kind": "price", "amount": 3}, {"label": "price-3"}, id="fstring"),
    pytest.param("up = math.ceil(2.1)", {}, {"up": 3}, id="math"),
]


@pytest.mark.parametrize(("script", "data", "expected"), LEGIT_SCRIPTS)
def test_legitimate_script_runs_and_updates_case_data(script, data, expected):
    sandbox.execute(script, data, {})
    assert {k: data[k] for k in expected} == expected


def test_script_deleting_a_variable_removes_it_from_case_data():
    data = {"scratch": 1, "keep": 2}
    sandbox.execute("del scratch", data, {})
    assert data == {"keep": 2}


def test_case_data_may_not_shadow_host_functions():
    with pytest.raises(SandboxError, match="due_in_working_days"):
        sandbox.execute("x = 1", {"due_in_working_days": 3}, {"due_in_working_days": lambda n: n})


@pytest.mark.parametrize(("expression", "data", "expected"), [
    ("${amount >= 2000}", {"amount": 2500}, True),
    ("amount >= 2000", {"amount": 1999}, False),
    ("sum(a for a in amounts) > 5", {"amounts": [1, 2, 3]}, True),
    ("'reply:' + note", {"note": "ok"}, "reply:ok"),
    ("received + timedelta(days=2)", {"received": date(2025, 3, 3)}, date(2025, 3, 5)),
    ("${kind == 'major'}", {"kind": "major"}, True),
])
def test_legitimate_expression_evaluates_against_case_data(expression, data, expected):
    assert sandbox.evaluate(expression, data, {}) == expected


def test_expression_calls_host_calendar_functions():
    functions = {"due_in_working_days": lambda n: f"in {n} working days"}
    assert sandbox.evaluate("due_in_working_days(3)", {}, functions) == "in 3 working days"


# --- normalize: ${...} unwrap and ISO literals ---------------------------------------------

ISO_LITERALS = ["PT2H", "R/PT1H", "R3/PT10M", "2026-01-01T09:00:00+08:00", "P3D", "PT72H"]


@pytest.mark.parametrize("literal", ISO_LITERALS)
@pytest.mark.parametrize("wrap", ["{}", "${{{}}}", "  {}  "], ids=["bare", "wrapped", "padded"])
def test_iso_literal_is_the_string_itself(literal, wrap):
    source = wrap.format(literal)
    assert sandbox.normalize(source) == repr(literal)
    assert sandbox.evaluate(source, {}, {}) == literal


@pytest.mark.parametrize(("source", "python"), [
    ("due_in_working_days(3)", "due_in_working_days(3)"),
    ("${due_in_working_days(3)}", "due_in_working_days(3)"),
    ("amount >= 2000", "amount >= 2000"),
    ("${amount >= 2000}", "amount >= 2000"),
    ("${ kind == 'major' }", "kind == 'major'"),
    ("next_day_at('17:00')", "next_day_at('17:00')"),
    ("P", "P"),
])
def test_code_is_unwrapped_but_not_quoted(source, python):
    assert sandbox.normalize(source) == python


# --- the same attacks as the script of a real script task ----------------------------------

SCRIPT_FILE = "script_task.bpmn"
SCRIPT_LINE = fixture_bytes(SCRIPT_FILE).decode().splitlines().index(
    "      <bpmn:script>checked = True</bpmn:script>") + 1


def script_task_bpmn(script: str) -> bytes:
    """Return tests/fixtures/script_task.bpmn with the script of ``run_script`` replaced."""
    return fixture_bytes(SCRIPT_FILE).replace(b"checked = True", escape(script).encode())


def test_plain_script_task_runs_and_the_case_waits_for_review(engine):
    engine.admin.deploy(script_task_bpmn("checked = amount > 0"), SCRIPT_FILE)
    detail = engine.reads.case_page(engine.cases.start("script_demo", {"amount": 1}).id, SYSTEM)
    assert detail.case.status == "running"
    ran = [e for e in detail.events if e.element_id == "run_script"]
    assert [(e.lifecycle, e.data) for e in ran] == [("completed", {"checked": True})]
    assert [t.element_id for t in detail.tasks] == ["review"]


def test_a_script_leaving_an_exact_amount_and_a_calendar_day_is_stored_and_read_back(engine, handler):
    """Decimal and date count as data in the sandbox; the case must persist with them, not fail to save."""
    engine.admin.deploy(script_task_bpmn("fee = Decimal('0.05') * amount\nday = date(2025, 3, 3)"), SCRIPT_FILE)
    started = engine.cases.start("script_demo", {"amount": 3})
    assert started.status == "running"
    ran = [e for e in engine.reads.case_page(started.id, SYSTEM).events if e.element_id == "run_script"]
    assert [e.data for e in ran] == [{"fee": "0.15", "day": "2025-03-03"}]
    # The engine fixture restores every case from its stored state: the values come back with their types.
    done = engine.cases.complete(started.open_tasks[0].id, {}, handler)
    assert done.status == "completed"
    assert engine.reads.case_page(started.id, SYSTEM).case.data["fee"] == "0.15"


@pytest.mark.parametrize(("attack", "words"), RUNTIME_ATTACKS.values(), ids=RUNTIME_ATTACKS.keys())
def test_runtime_attack_in_script_task_is_an_incident_and_leaks_nothing(engine, attack, words):
    engine.admin.deploy(script_task_bpmn(script_of(attack)), SCRIPT_FILE)
    detail = engine.reads.case_page(engine.cases.start("script_demo", {"amount": 1}).id, SYSTEM)
    assert detail.case.status == "incident"
    assert "run_script" in detail.case.incident and words in detail.case.incident
    incidents = [e for e in detail.events if e.lifecycle == "incident"]
    assert [(e.element_id, e.data) for e in incidents] == [("run_script", {"error": detail.case.incident})]
    assert "leaked" not in detail.case.data and "leaked" not in stored_state(engine, detail.case.id)
    assert detail.tasks == ()


@pytest.mark.parametrize("value", NON_DATA_VALUES.values(), ids=NON_DATA_VALUES.keys())
def test_script_task_keeping_a_non_data_value_is_an_incident_and_leaks_nothing(engine, value):
    engine.admin.deploy(script_task_bpmn(f"leaked = {value}"), SCRIPT_FILE)
    detail = engine.reads.case_page(engine.cases.start("script_demo", {"amount": 1}).id, SYSTEM)
    assert detail.case.status == "incident"
    assert detail.case.incident
    assert "leaked" not in detail.case.data and "leaked" not in stored_state(engine, detail.case.id)
    assert detail.tasks == ()


@pytest.mark.parametrize("attack", COMPILE_ATTACKS.values(), ids=COMPILE_ATTACKS.keys())
def test_compile_time_attack_in_script_task_is_refused_at_deploy_naming_element_and_line(engine, attack):
    with pytest.raises(DeploymentRefused) as refused:
        engine.admin.deploy(script_task_bpmn(f"checked = True\n{script_of(attack)}"), SCRIPT_FILE)
    assert (refused.value.file_name, refused.value.line, refused.value.element_id) == (
        SCRIPT_FILE, SCRIPT_LINE + 1, "run_script")
    assert f"{SCRIPT_FILE}:{SCRIPT_LINE + 1} [run_script]" in str(refused.value)
    assert engine.admin.versions() == []
