"""Parse and validate BPMN files in the engine's dialect (Camunda 7 attributes, Python expressions).

``inspect_file`` refuses a file the engine cannot run, naming file, line and
element, before anything is stored. ``build_bundle`` turns stored XML into
SpiffWorkflow specs for running cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.parser.task_parsers import GatewayParser
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CamundaTaskParser, UserTaskParser
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import forms, sandbox, validate, xmlsafe
from .specs import FormUserTask, LoopSafeParallelGateway, TopicServiceTask

BPMN = forms.BPMN
CAMUNDA = forms.CAMUNDA
NS = {"bpmn": BPMN, "camunda": CAMUNDA}


class BpmnFileError(Exception):
    """A BPMN file cannot be deployed; says which file, line and element."""

    def __init__(self, message: str, file_name: str, line: int | None = None, element_id: str | None = None):
        self.message = message
        self.file_name = file_name
        self.line = line
        self.element_id = element_id
        where = file_name + (f":{line}" if line else "") + (f" [{element_id}]" if element_id else "")
        super().__init__(f"{where}: {message}")


def _camunda(node: etree._Element, name: str) -> str | None:
    return node.get(f"{{{CAMUNDA}}}{name}")


def _split(value: str | None) -> list[str] | str:
    if not value:
        return []
    if "${" in value:
        return value
    return [part.strip() for part in value.split(",") if part.strip()]


class _UserTaskParser(UserTaskParser):
    def create_task(self):
        spec = FormUserTask(self.spec, self.bpmn_id, form=None, **self.bpmn_attributes)
        spec.fields = forms.parse_form(self.node)
        spec.candidate_groups = _split(_camunda(self.node, "candidateGroups"))
        spec.candidate_users = _split(_camunda(self.node, "candidateUsers"))
        spec.assignee = _camunda(self.node, "assignee")
        spec.due_date = _camunda(self.node, "dueDate")
        return spec


class _ServiceTaskParser(CamundaTaskParser):
    def create_task(self):
        topic = _camunda(self.node, "topic")
        if not topic:
            self.raise_validation_exception("a service task needs camunda:type=\"external\" and a camunda:topic")
        params = {}
        for param in self.xpath("./bpmn:extensionElements/camunda:inputOutput/camunda:inputParameter"):
            params[param.get("name")] = (param.text or "").strip()
        return TopicServiceTask(self.spec, self.bpmn_id, topic=topic, params=params, **self.bpmn_attributes)


class DialectParser(CamundaParser):
    """CamundaParser that reads candidate groups, forms without formKey and external-task topics."""

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (_UserTaskParser, FormUserTask),
        full_tag("serviceTask"): (_ServiceTaskParser, TopicServiceTask),
        full_tag("parallelGateway"): (GatewayParser, LoopSafeParallelGateway),
    }


EXECUTABLE_TAGS = {t.split("}")[1] for t in {**DialectParser.PARSER_CLASSES, **DialectParser.OVERRIDE_PARSER_CLASSES}}
# Elements that may sit inside a process without being executed.
PASSIVE_TAGS = {
    "sequenceFlow", "laneSet", "lane", "documentation", "extensionElements", "textAnnotation",
    "association", "dataObject", "dataObjectReference", "dataStoreReference", "ioSpecification",
    "property", "group", "category", "flowNodeRef", "childLaneSet",
    # children of a sub-process that describe the sub-process itself
    "incoming", "outgoing", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
    "dataInputAssociation", "dataOutputAssociation",
}


@dataclass
class FileInfo:
    """What a deployable BPMN file holds: its processes and what they call and use."""

    file_name: str
    process_ids: list[str]
    names: dict[str, str]
    calls: set[str]
    topics: dict[str, str] = field(default_factory=dict)   # element id -> topic
    elements: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: dict[str, str] = field(default_factory=dict)     # "source>target" -> flow id


def _line_of(tree: etree._Element, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = tree.xpath("//*[@id=$id]", id=element_id)
    return found[0].sourceline if found else None


def _owner_id(node: etree._Element) -> str | None:
    while node is not None and node.get("id") is None:
        node = node.getparent()
    return None if node is None else node.get("id")


def _expressions(tree: etree._Element) -> Iterable[tuple[etree._Element, str, bool]]:
    """Yield (node, source, is_script) for every piece of code in the file."""
    for tag in ("conditionExpression", "timeDuration", "timeDate", "timeCycle"):
        for node in tree.iter(f"{{{BPMN}}}{tag}"):
            if node.text and node.text.strip():
                yield node, node.text, False
    for node in tree.iter(f"{{{BPMN}}}script"):
        yield node, node.text or "", True
    for node in tree.iter(f"{{{CAMUNDA}}}inputParameter"):
        if node.text and "${" in node.text:
            yield node, node.text, False
    for node in tree.iter(f"{{{BPMN}}}userTask"):
        for attr in ("candidateGroups", "candidateUsers", "assignee", "dueDate"):
            value = _camunda(node, attr)
            if value and ("${" in value or attr == "dueDate"):
                yield node, value, False


def _check_expressions(tree: etree._Element, file_name: str) -> None:
    for node, source, is_script in _expressions(tree):
        try:
            (sandbox.compile_script if is_script else sandbox.compile_expression)(source)
        except sandbox.SandboxError as exc:
            line = node.sourceline + (exc.line - 1 if exc.line else 0)
            raise BpmnFileError(f"expression does not compile: {exc}", file_name, line, _owner_id(node)) from exc



def _check_elements(tree: etree._Element, file_name: str) -> None:
    containers = tree.xpath("//bpmn:process | //bpmn:subProcess | //bpmn:transaction", namespaces=NS)
    for container in containers:
        for child in container:
            if not isinstance(child.tag, str):
                continue
            ns, _, tag = child.tag[1:].partition("}")
            if ns != BPMN or tag in PASSIVE_TAGS:
                continue
            if tag not in EXECUTABLE_TAGS:
                raise BpmnFileError(f"bpmn:{tag} cannot be executed by this engine", file_name,
                                    child.sourceline, child.get("id"))
            if tag == "businessRuleTask" and not _camunda(child, "decisionRef"):
                raise BpmnFileError("a business rule task needs a DMN decision (camunda:decisionRef); this engine "
                                    "deploys no DMN tables: decide in a script task or a service topic",
                                    file_name, child.sourceline, child.get("id"))


def _describe(tree: etree._Element, info: FileInfo) -> None:
    for node in tree.iter():
        if not isinstance(node.tag, str) or node.get("id") is None:
            continue
        ns, _, tag = node.tag[1:].partition("}")
        if ns != BPMN:
            continue
        if tag == "sequenceFlow":
            info.flows[f"{node.get('sourceRef')}>{node.get('targetRef')}"] = node.get("id")
            continue
        doc = node.find(f"{{{BPMN}}}documentation")
        info.elements[node.get("id")] = {
            "name": node.get("name") or "",
            "type": tag,
            "attached_to": node.get("attachedToRef"),
            "interrupting": node.get("cancelActivity", "true") != "false",
            "documentation": (doc.text or "").strip() if doc is not None else "",
        }
        timer = node.find(f"{{{BPMN}}}timerEventDefinition")
        if timer is not None:
            info.elements[node.get("id")]["timer"] = " ".join(t.strip() for t in timer.itertext() if t.strip())
            kinds = [child.tag.rpartition("}")[2] for child in timer if isinstance(child.tag, str)]
            if kinds:
                info.elements[node.get("id")]["timer_kind"] = kinds[0]     # timeDate | timeDuration | timeCycle
        if tag == "startEvent" and node.find(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}formData") is not None:
            info.elements[node.get("id")]["form"] = forms.parse_form(node)
        if tag == "serviceTask" and _camunda(node, "topic"):
            info.topics[node.get("id")] = _camunda(node, "topic")
        if tag == "callActivity" and node.get("calledElement"):
            info.calls.add(node.get("calledElement"))


def read_xml(content: bytes, file_name: str) -> etree._Element:
    """Parse XML bytes with the one safe parser (``xmlsafe``); a refusal is a ``BpmnFileError`` with its line."""
    try:
        return xmlsafe.parse(content)
    except xmlsafe.UnsafeXml as exc:
        raise BpmnFileError(str(exc), file_name, exc.line) from exc


# A process id is the key cases are started with and stored under (process_version.key, 100 characters).
PROCESS_KEY = re.compile(r"(?!\d)\w[\w.-]{0,99}")


def inspect_file(
    content: bytes,
    file_name: str,
    deployed_xml: Callable[[str], bytes | None],
    has_topic: Callable[[str], bool],
    functions: dict[str, Any] | None = None,
    topic_sets: Callable[[str], frozenset[str] | None] | None = None,
) -> FileInfo:
    """Validate a BPMN file for deployment and describe it; raise ``BpmnFileError`` if it cannot run."""
    tree = read_xml(content, file_name)
    if tree.tag != f"{{{BPMN}}}definitions":
        raise BpmnFileError("not a BPMN 2.0 file (root element is not bpmn:definitions)", file_name, tree.sourceline)
    processes = tree.xpath("bpmn:process[@isExecutable='true' or not(@isExecutable)]", namespaces=NS)
    if not processes:
        raise BpmnFileError("no executable bpmn:process in the file", file_name, tree.sourceline)
    for process in processes:
        if not PROCESS_KEY.fullmatch(process.get("id") or ""):
            raise BpmnFileError(f"process id {process.get('id') or ''!r} cannot be a process key: give the process an "
                                "id of letters, digits, '_', '-' or '.', starting with a letter or '_', at most 100 "
                                "characters", file_name, process.sourceline)
    info = FileInfo(file_name, [p.get("id") for p in processes], {p.get("id"): p.get("name") or p.get("id") for p in processes}, set())
    _check_elements(tree, file_name)
    _check_expressions(tree, file_name)

    def called(key: str) -> etree._Element | None:
        xml = deployed_xml(key)
        try:
            return xmlsafe.parse(xml) if xml is not None else None
        except xmlsafe.UnsafeXml:
            return None

    try:
        validate.check(tree, functions or {}, topic_sets, called)
    except forms.FormDefinitionError as exc:
        raise BpmnFileError(str(exc), file_name) from exc
    except validate.Refusal as exc:
        node = exc.node
        raise BpmnFileError(exc.message, file_name, node.sourceline if node is not None else None,
                            node.get("id") if node is not None else None) from exc
    _describe(tree, info)
    for element_id, topic in info.topics.items():
        if not has_topic(topic):
            raise BpmnFileError(f"service topic {topic!r} has no registered handler", file_name,
                                _line_of(tree, element_id), element_id)
    info.calls -= set(info.process_ids)
    external: dict[str, bytes] = {}
    for key in sorted(info.calls):
        xml = deployed_xml(key)
        if xml is None:
            element_id = tree.xpath("//bpmn:callActivity[@calledElement=$k]/@id", namespaces=NS, k=key)[0]
            raise BpmnFileError(f"call activity calls process {key!r}, which is neither in this file nor deployed",
                                file_name, _line_of(tree, element_id), element_id)
        external[key] = xml
    try:
        parser = DialectParser()
        parser.add_bpmn_xml(tree, file_name)
        for key, xml in external.items():
            parser.add_bpmn_xml(xmlsafe.parse(xml), f"{key}.bpmn")
        for process_id in info.process_ids:
            parser.get_spec(process_id)
            parser.get_subprocess_specs(process_id)
    except forms.FormDefinitionError as exc:
        raise BpmnFileError(str(exc), file_name) from exc
    except ValidationException as exc:
        raise BpmnFileError(str(exc), file_name, _line_of(tree, exc.id) or None, exc.id or None) from exc
    except SpiffWorkflowException as exc:
        raise BpmnFileError(str(exc), file_name) from exc
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        # SpiffWorkflow's parser fails so on shapes no check above foresaw: still a refusal, never a 500.
        raise BpmnFileError(f"SpiffWorkflow cannot parse the file: {type(exc).__name__}: {exc}", file_name) from exc
    return info


def build_specs(top_key: str, xml_by_key: dict[str, bytes]) -> tuple[Any, dict[str, Any]]:
    """Parse stored XML into (process spec, subprocess specs) for ``top_key``."""
    parser = DialectParser()
    seen: set[bytes] = set()
    for key, xml in xml_by_key.items():
        if xml in seen:
            continue
        seen.add(xml)
        parser.add_bpmn_xml(xmlsafe.parse(xml), f"{key}.bpmn")
    return parser.get_spec(top_key), parser.get_subprocess_specs(top_key)


def describe(xml_by_key: dict[str, bytes]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Return (elements by id, flow ids by "source>target") over all the given files."""
    info = FileInfo("", [], {}, set())
    for xml in dict.fromkeys(xml_by_key.values()):
        _describe(xmlsafe.parse(xml), info)
    return info.elements, info.flows


def start_form(top_key: str, xml: bytes) -> list[dict[str, Any]] | None:
    """Return the form on the start event of process ``top_key`` (the intake form), if it has one."""
    tree = xmlsafe.parse(xml)
    for node in tree.xpath("bpmn:process[@id=$k]/bpmn:startEvent", namespaces=NS, k=top_key):
        if node.find(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}formData") is not None:
            return forms.parse_form(node)
    return None
