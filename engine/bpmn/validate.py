"""Deploy-time checks of what running a case needs, so that deploy refuses a file that would break every case.

``inspect_file`` (parser) runs these after the structural checks; each refusal
names file, line and element (issue 16 items 2, 3, 8):

- no loop without a wait state: a cycle of gateways, scripts and service tasks
  that never reaches a user task, a catch event or a sub-process would run until
  the step budget stops it, at every case;
- timers and due dates parse: literals are checked as they are, expressions are
  evaluated on a sample (the calendar functions at the deploy instant, form fields
  with sample values of their types) and their value checked (``timers``);
- form field ids are not names the expressions use (``due_in_working_days``,
  ``math``, ``len``...): case data would shadow them.
"""

from __future__ import annotations

import ast
from datetime import date
from typing import Any, Callable, Iterable

from lxml import etree

from . import budget, forms, sandbox, timers

BPMN = forms.BPMN
CAMUNDA = forms.CAMUNDA
NS = {"bpmn": BPMN, "camunda": CAMUNDA}

# Elements where a case waits (or may wait) for a person, a time or a message; a loop through one is a loop in time.
WAIT_TAGS = {"userTask", "manualTask", "receiveTask", "intermediateCatchEvent", "eventBasedGateway", "boundaryEvent",
             "subProcess", "transaction", "callActivity", "adHocSubProcess"}
FLOW_NODE_SKIP = {"sequenceFlow", "laneSet", "documentation", "extensionElements", "textAnnotation", "association",
                  "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification", "property", "group",
                  "category", "incoming", "outgoing", "multiInstanceLoopCharacteristics",
                  "standardLoopCharacteristics", "dataInputAssociation", "dataOutputAssociation"}
DEPLOY_LIMITS = budget.Limits(seconds=2.0, steps=1_000)


class Refusal(Exception):
    """One reason the file cannot be deployed, with the node it is about."""

    def __init__(self, message: str, node: etree._Element | None):
        super().__init__(message)
        self.message = message
        self.node = node


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _owner(node: etree._Element) -> etree._Element:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return node


def check(tree: etree._Element, functions: dict[str, Any],
          topic_sets: Callable[[str], frozenset[str] | None] | None = None,
          called: Callable[[str], etree._Element | None] | None = None) -> None:
    """Raise ``Refusal`` for the first thing in ``tree`` that would break running cases."""
    reserved = sandbox.reserved_names(functions)
    fields = _form_fields(tree)
    for node, field in fields:
        if field["id"] in reserved:
            raise Refusal(f"form field {field['id']!r} is a name the expressions use "
                          f"({sandbox.describe_name(field['id'], functions)}); case data would shadow it", node)
    _check_loops(tree)
    sample = {field["id"]: _sample(field) for _, field in fields}
    provided = provided_names(tree, sample, topic_sets, called)
    if provided is not None:
        _check_reads(tree, reserved | provided)
    with budget.running(DEPLOY_LIMITS):
        _check_timers(tree, functions, sample, provided)


# --- loops without a wait state ---

def _check_loops(tree: etree._Element) -> None:
    containers = tree.xpath("//bpmn:process | //bpmn:subProcess | //bpmn:transaction | //bpmn:adHocSubProcess",
                            namespaces=NS)
    for container in containers:
        nodes = {child.get("id"): child for child in container
                 if isinstance(child.tag, str) and child.get("id") and etree.QName(child).namespace == BPMN
                 and _local(child) not in FLOW_NODE_SKIP}
        edges: dict[str, list[str]] = {key: [] for key in nodes}
        for flow in container.iterfind(f"{{{BPMN}}}sequenceFlow"):
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in edges and target in nodes:
                edges[source].append(target)
        for key, node in nodes.items():
            attached = node.get("attachedToRef")
            if attached in edges:
                edges[attached].append(key)
        for component in _cycles(edges):
            if not any(_local(nodes[key]) in WAIT_TAGS for key in component):
                first = min(component, key=lambda k: nodes[k].sourceline or 0)
                raise Refusal("a loop without a wait state: " + " -> ".join(sorted(component)) +
                              " never reaches a user task, timer or message, so a case would run it until the "
                              "step budget stops it; put a wait state in the loop or use a multi-instance task",
                              nodes[first])


def _cycles(edges: dict[str, list[str]]) -> Iterable[set[str]]:
    """Yield the strongly connected components that hold a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    yield component


# --- timers and due dates ---

def _form_fields(tree: etree._Element) -> list[tuple[etree._Element, dict[str, Any]]]:
    found = []
    for node in tree.iter(f"{{{BPMN}}}userTask", f"{{{BPMN}}}startEvent"):
        try:
            found.extend((node, field) for field in forms.parse_form(node))
        except forms.FormDefinitionError as exc:
            raise Refusal(str(exc), node) from None
    return found


def _sample(field: dict[str, Any]) -> Any:
    if field.get("default") not in (None, ""):
        try:
            return forms.validate([field], {field["id"]: field["default"]})[0].get(field["id"])
        except Exception:  # noqa: BLE001 - parse_form already refused incoherent defaults
            pass
    kind = field["type"]
    return {"long": 1, "double": 1.0, "boolean": True, "date": date.today().isoformat(),
            "enum": (field["options"] or [{"id": ""}])[0]["id"]}.get(kind, _FREE_TEXT)


_FREE_TEXT = "sample"   # a text field's sample: a timer reading it is only checked at run time


ENGINE_KEYS = {"registered_by", "demo"}      # start data the engine itself sets (services.cases)


def provided_names(tree: etree._Element, sample: dict[str, Any],
                   topic_sets: Callable[[str], frozenset[str] | None] | None = None,
                   called: Callable[[str], etree._Element | None] | None = None) -> set[str] | None:
    """Return the names a case's data may hold: form fields, what scripts assign, what the service topics
    declare they set, multi-instance element variables, the engine's keys.

    None when that cannot be known: a process of the file has no start form (its start data is open, any
    caller's keys), or calls a topic that does not declare what it sets.
    """
    for proc in tree.iterfind(f"{{{BPMN}}}process"):
        starts = proc.findall(f"{{{BPMN}}}startEvent")
        if not any(s.find(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}formData") is not None for s in starts):
            return None
    names = set(sample) | ENGINE_KEYS
    names |= _script_assignments(tree)
    for node in tree.iter(f"{{{CAMUNDA}}}outputParameter"):
        if node.get("name"):
            names.add(node.get("name"))
    for node in tree.iter(f"{{{BPMN}}}serviceTask"):
        names |= set(filter(None, (node.get(f"{{{CAMUNDA}}}resultVariable") or "").split(",")))
        topic = node.get(f"{{{CAMUNDA}}}topic")
        if topic:
            declared = topic_sets(topic) if topic_sets else None
            if declared is None:
                return None     # the topic's handler may set any name
            names |= declared
    for node in tree.iter(f"{{{BPMN}}}multiInstanceLoopCharacteristics"):
        names |= {v for v in (node.get(f"{{{CAMUNDA}}}elementVariable"),) if v}
    # What a called process sets comes back with it (the engine passes all data both ways).
    own = {p.get("id") for p in tree.iterfind(f"{{{BPMN}}}process")}
    for key in {n.get("calledElement") for n in tree.iter(f"{{{BPMN}}}callActivity")} - own - {None}:
        callee = called(key) if called else None
        if callee is None:
            return None
        sets = _sets_of(callee, topic_sets, called, seen={key} | own)
        if sets is None:
            return None
        names |= sets
    return names


def _script_assignments(tree: etree._Element) -> set[str]:
    """Return the names the file's scripts assign (a script that does not parse assigns none here)."""
    names: set[str] = set()
    for node in tree.iter(f"{{{BPMN}}}script"):
        try:
            parsed = ast.parse(node.text or "")
        except SyntaxError:
            continue
        names |= {n.id for n in ast.walk(parsed) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def _sets_of(tree: etree._Element, topic_sets, called, seen: set[str]) -> set[str] | None:
    """Return what a called file may set: its form fields, script assignments, topics, its own callees."""
    names = {field["id"] for _, field in _form_fields(tree)}
    names |= _script_assignments(tree)
    for node in tree.iter(f"{{{BPMN}}}serviceTask"):
        topic = node.get(f"{{{CAMUNDA}}}topic")
        declared = topic_sets(topic) if topic and topic_sets else None
        if topic and declared is None:
            return None
        names |= declared or set()
    for key in {n.get("calledElement") for n in tree.iter(f"{{{BPMN}}}callActivity")} - seen - {None}:
        callee = called(key) if called else None
        inner = _sets_of(callee, topic_sets, called, seen | {key}) if callee is not None else None
        if inner is None:
            return None
        names |= inner
    return names


def _script_reads(source: str) -> set[str]:
    """Return the names a script reads before (or without) assigning them itself."""
    try:
        parsed = ast.parse(source)
    except SyntaxError:
        return set()
    stored = {n.id for n in ast.walk(parsed) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    stored |= {a.arg for a in ast.walk(parsed) if isinstance(a, ast.arg)}
    stored |= {n.name for n in ast.walk(parsed) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    loaded = {n.id for n in ast.walk(parsed) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    augmented = {n.target.id for n in ast.walk(parsed) if isinstance(n, ast.AugAssign)
                 and isinstance(n.target, ast.Name)}
    return (loaded - stored) | augmented


def _reads(tree: etree._Element) -> Iterable[tuple[etree._Element, str, set[str]]]:
    """Yield (node, source, names read) for every expression and script of the file."""
    for tag in ("conditionExpression",):
        for node in tree.iter(f"{{{BPMN}}}{tag}"):
            if node.text and node.text.strip():
                yield node, node.text.strip(), _names(node.text)
    for node in tree.iter(f"{{{BPMN}}}script"):
        yield node, (node.text or "").strip().splitlines()[0] if (node.text or "").strip() else "", \
            _script_reads(node.text or "")
    for node in tree.iter(f"{{{CAMUNDA}}}inputParameter"):
        if node.text and "${" in node.text:
            yield node, node.text.strip(), _names(node.text)
    for node in tree.iter(f"{{{BPMN}}}userTask"):
        for attr in ("candidateGroups", "candidateUsers", "assignee"):
            value = node.get(f"{{{CAMUNDA}}}{attr}")
            if value and "${" in value:
                yield node, value, _names(value)


def _check_reads(tree: etree._Element, known: set[str]) -> None:
    """Refuse an expression or script that reads a name nothing in the file provides."""
    for node, source, names in _reads(tree):
        missing = names - known
        if missing:
            raise Refusal(f"{source!r} reads {', '.join(sorted(missing))}, which no form field, start datum, "
                          "script or service topic provides", _owner(node))


def _names(source: str) -> set[str]:
    try:
        tree = ast.parse(sandbox.normalize(source), mode="eval")
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _check_timers(tree: etree._Element, functions: dict[str, Any], sample: dict[str, Any],
                  provided: set[str] | None) -> None:
    known = sandbox.reserved_names(functions)
    for definition in tree.iter(f"{{{BPMN}}}timerEventDefinition"):
        for child in definition:
            kind = _local(child)
            if kind not in timers.KINDS.values():
                continue
            _check_value(child, (child.text or "").strip(), kind, functions, sample, known, provided)
    for task in tree.iter(f"{{{BPMN}}}userTask"):
        due = task.get(f"{{{CAMUNDA}}}dueDate")
        if due:
            _check_value(task, due, "dueDate", functions, sample, known, provided)


def _check_value(node, source: str, kind: str, functions, sample, known, provided) -> None:
    if not source:
        raise Refusal(f"the {kind} timer has no value", node)
    names = _names(source)
    data = {k: v for k, v in sample.items() if k in names}
    unknown = names - known - set(data)
    if unknown and provided is not None and not unknown <= provided:
        missing = ", ".join(sorted(unknown - provided))
        raise Refusal(f"{kind} {source!r} reads {missing}, which no form field, script or start datum provides",
                      _owner(node))
    if unknown or any(sample.get(name) is _FREE_TEXT for name in names):
        return          # it reads data a script, the start data or free text gives: checked when the case runs
    try:
        value = sandbox.evaluate(source, data, functions)
        if kind == "dueDate":
            timers.check_due(value)
        else:
            timers.check(kind, value)
    except timers.TimerValueError as exc:
        raise Refusal(f"{kind} {source!r}: {exc}", _owner(node)) from None
    except budget.BudgetExceeded as exc:
        raise Refusal(f"{kind} {source!r} goes over the budget on a sample: {exc.reason}", _owner(node)) from None
    except Exception as exc:  # noqa: BLE001 - any error here would be the same at every case
        raise Refusal(f"{kind} {source!r} fails on a sample case: {type(exc).__name__}: {exc}", _owner(node)) from None
