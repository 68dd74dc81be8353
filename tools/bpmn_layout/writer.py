"""Emit BPMN 2.0 XML (Camunda 7 extensions) with diagram interchange from a Process + Layout."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .layout import Layout
from .model import Process

# A process owner reads regulation titles and clauses, never the seed file numbers the definitions use
# (000 二.3 -> 《投诉处理管理办法》二.3). Order matters: the composite seed 001 holds several regulations.
CITATIONS = [
    (r'\b001 质量投诉 ?', '《质量投诉处理管理制度》'),
    (r'\b001 道路运输 ?', '《道路运输服务质量投诉管理规定》'),
    (r'\b001 投诉考核 ?', '《投诉考核管理规定》'),
    (r'(?<!《)客人投诉 (?=第)', '《客人投诉处理的管理规定》'),
    (r'\b001 第七章', '《服务质量投诉处理规范》'),
    (r'\b001 (?=\d)', '《服务质量投诉处理规范》'),
    (r'\b001 (?=第)', '《医院服务投诉管理制度》'),
    (r'\b000 ', '《投诉处理管理办法》'),
    (r'\b002 ', '《集团客户投诉/需求管理办法》'),
    (r'\b003 危机投诉事件快速反应机制', '《危机投诉事件快速反应机制》'),
    (r'\b003 ', '《投诉快速响应体系实施方案》'),
    (r'\b004 ', '《客户投诉管理实施办法》'),
    (r'\b000(?=[);:,.])', '《投诉处理管理办法》'),
    (r'\b002(?=[);:,.])', '《集团客户投诉/需求管理办法》'),
    (r'\b003(?=[);:,.])', '《投诉快速响应体系实施方案》'),
    (r'\b004(?=[);:,.])', '《客户投诉管理实施办法》'),
]


def cite(text):
    """Return documentation with the seed numbers replaced by the regulations' titles."""
    for pattern, title in CITATIONS:
        text = re.sub(pattern, title, text)
    return text

NS = {
    'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL',
    'bpmndi': 'http://www.omg.org/spec/BPMN/20100524/DI',
    'dc': 'http://www.omg.org/spec/DD/20100524/DC',
    'di': 'http://www.omg.org/spec/DD/20100524/DI',
    'camunda': 'http://camunda.org/schema/1.0/bpmn',
    'xsi': 'http://www.w3.org/2001/XMLSchema-instance',
    'modeler': 'http://camunda.org/schema/modeler/1.0',
}
for _p, _u in NS.items():
    ET.register_namespace(_p, _u)

TAG = {'start': 'startEvent', 'end': 'endEvent', 'timer': 'intermediateCatchEvent',
       'boundary': 'boundaryEvent', 'user': 'userTask', 'service': 'serviceTask',
       'script': 'scriptTask', 'call': 'callActivity', 'sub': 'subProcess',
       'xgw': 'exclusiveGateway', 'pgw': 'parallelGateway'}


def q(name):
    prefix, local = name.split(':')
    return f'{{{NS[prefix]}}}{local}'


def el(parent, name, attrib=None, text=None):
    e = ET.SubElement(parent, q(name), {q(k) if ':' in k else k: str(v)
                                        for k, v in (attrib or {}).items() if v is not None})
    if text is not None:
        e.text = text
    return e


def fmt(v):
    return str(int(v)) if float(v).is_integer() else f'{v:.1f}'


def write(p: Process, lay: Layout, path):
    root = ET.Element(q('bpmn:definitions'), {
        'id': f'Definitions_{p.id}', 'targetNamespace': 'http://bpmn.io/schema/bpmn',
        'exporter': 'complaints tools/bpmn_layout', 'exporterVersion': '1.0',
        q('modeler:executionPlatform'): 'Camunda Platform',
        q('modeler:executionPlatformVersion'): '7.22.0'})
    collab = el(root, 'bpmn:collaboration', {'id': f'Collaboration_{p.id}'})
    el(collab, 'bpmn:participant', {'id': f'Participant_{p.id}', 'name': p.name, 'processRef': p.id})
    proc = el(root, 'bpmn:process', {'id': p.id, 'name': p.name, 'isExecutable': 'true'})
    if p.doc:
        el(proc, 'bpmn:documentation', text=cite(p.doc))
    lane_set = el(proc, 'bpmn:laneSet', {'id': f'LaneSet_{p.id}'})
    for lane in p.lanes:
        le = el(lane_set, 'bpmn:lane', {'id': f'Lane_{p.id}_{lane.key}', 'name': lane.name})
        if lane.doc:
            el(le, 'bpmn:documentation', text=cite(lane.doc))
        for n in p.nodes.values():
            if n.lane == lane.key and n.parent is None:
                el(le, 'bpmn:flowNodeRef', text=n.id)
    containers = {None: proc}
    for n in p.nodes.values():          # sub-processes first so their children have a parent
        if n.kind == 'sub':
            containers[n.id] = _node(proc, n, p)
    for n in p.nodes.values():
        if n.kind != 'sub':
            _node(containers[n.parent], n, p)
    for f in p.flows:
        parent = containers[p.nodes[f.src].parent if p.nodes[f.src].kind != 'boundary'
                            else p.nodes[p.nodes[f.src].attach].parent]
        fe = el(parent, 'bpmn:sequenceFlow', {'id': f.id, 'name': f.name,
                                              'sourceRef': f.src, 'targetRef': f.tgt})
        if f.doc:
            el(fe, 'bpmn:documentation', text=cite(f.doc))
        if f.cond:
            el(fe, 'bpmn:conditionExpression', {'xsi:type': 'bpmn:tFormalExpression'}, f.cond)
    _diagram(root, p, lay)
    ET.indent(root, space='  ')
    body = ET.tostring(root, encoding='unicode')
    with open(path, 'w', encoding='utf-8') as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n' + body + '\n')


def display_name(n):
    """Tasks show the rule ids on their own last line: 'name (N-4)' -> 'name\\n(N-4)'."""
    if n.kind in ('user', 'service', 'script', 'call') and n.name.endswith(')') and ' (' in n.name:
        head, _, tail = n.name.rpartition(' (')
        return f'{head}\n({tail}'
    return n.name


def _node(parent, n, p):
    attrs = {'id': n.id, 'name': display_name(n)}
    if n.kind == 'user':
        attrs['camunda:candidateGroups'] = n.groups
        attrs['camunda:candidateUsers'] = n.users
        attrs['camunda:dueDate'] = n.due
    elif n.kind == 'service':
        attrs['camunda:type'] = 'external'
        attrs['camunda:topic'] = n.topic
    elif n.kind == 'script':
        attrs['scriptFormat'] = 'python'
    elif n.kind == 'call':
        attrs['calledElement'] = n.called
    elif n.kind == 'boundary':
        attrs['cancelActivity'] = None if n.interrupting else 'false'
        attrs['attachedToRef'] = n.attach
    elif n.kind == 'xgw':
        attrs['default'] = n.default
    e = el(parent, f'bpmn:{TAG[n.kind]}', attrs)
    if n.doc:
        el(e, 'bpmn:documentation', text=cite(n.doc))
    ext = None
    if n.form:
        ext = el(e, 'bpmn:extensionElements')
        fd = el(ext, 'camunda:formData')
        for f in n.form:
            fe = el(fd, 'camunda:formField', {'id': f.id, 'label': f.label, 'type': f.type,
                                               'defaultValue': f.default})
            # The English label and enum names sit in the field's properties (Camunda Modeler's Properties
            # group of a form field: id and value), the Chinese ones in label and name; Camunda's order:
            # properties, validation, values.
            props = el(fe, 'camunda:properties')
            el(props, 'camunda:property', {'id': 'label_en', 'value': f.label_en})
            for vid, _, vname_en in f.values:
                el(props, 'camunda:property', {'id': f'value_en:{vid}', 'value': vname_en})
            if f.person:
                el(props, 'camunda:property', {'id': 'kind', 'value': 'person'})
            cons = ([('required', None)] if f.required else []) + list(f.constraints.items())
            if cons:
                val = el(fe, 'camunda:validation')
                for name, cfg in cons:
                    el(val, 'camunda:constraint', {'name': name, 'config': cfg})
            for vid, vname, _ in f.values:
                el(fe, 'camunda:value', {'id': vid, 'name': vname})
    if n.params:
        ext = ext if ext is not None else el(e, 'bpmn:extensionElements')
        io = el(ext, 'camunda:inputOutput')
        for name, value in n.params:
            el(io, 'camunda:inputParameter', {'name': name}, value)
    if n.kind == 'call':
        ext = ext if ext is not None else el(e, 'bpmn:extensionElements')
        el(ext, 'camunda:in', {'variables': 'all'})
        el(ext, 'camunda:out', {'variables': 'all'})
    for fid in n.incoming:
        el(e, 'bpmn:incoming', text=fid)
    for fid in n.outgoing:
        el(e, 'bpmn:outgoing', text=fid)
    if n.kind == 'script':
        el(e, 'bpmn:script', text=n.script)
    if n.timer:
        td = el(e, 'bpmn:timerEventDefinition', {'id': f'TimerEventDefinition_{n.id}'})
        el(td, f'bpmn:{n.timer[0]}', {'xsi:type': 'bpmn:tFormalExpression'}, n.timer[1])
    return e


def _bounds(parent, b):
    el(parent, 'dc:Bounds', {'x': fmt(b.x), 'y': fmt(b.y), 'width': fmt(b.w), 'height': fmt(b.h)})


def _diagram(root, p, lay):
    dia = el(root, 'bpmndi:BPMNDiagram', {'id': f'BPMNDiagram_{p.id}'})
    plane = el(dia, 'bpmndi:BPMNPlane', {'id': f'BPMNPlane_{p.id}',
                                         'bpmnElement': f'Collaboration_{p.id}'})
    s = el(plane, 'bpmndi:BPMNShape', {'id': f'Participant_{p.id}_di',
                                       'bpmnElement': f'Participant_{p.id}', 'isHorizontal': 'true'})
    _bounds(s, lay.pool)
    for lane in p.lanes:
        s = el(plane, 'bpmndi:BPMNShape', {'id': f'Lane_{p.id}_{lane.key}_di',
                                           'bpmnElement': f'Lane_{p.id}_{lane.key}', 'isHorizontal': 'true'})
        _bounds(s, lay.lane_box[lane.key])
    order = ([n for n in p.nodes.values() if n.kind == 'sub'] +
             [n for n in p.nodes.values() if n.kind not in ('sub', 'boundary')] +
             [n for n in p.nodes.values() if n.kind == 'boundary'])
    for n in order:
        attrs = {'id': f'{n.id}_di', 'bpmnElement': n.id}
        if n.kind == 'xgw':
            attrs['isMarkerVisible'] = 'true'
        if n.kind == 'sub':
            attrs['isExpanded'] = 'true'
        s = el(plane, 'bpmndi:BPMNShape', attrs)
        _bounds(s, lay.box[n.id])
        if n.id in lay.labels:
            _bounds(el(s, 'bpmndi:BPMNLabel'), lay.labels[n.id])
    for f in p.flows:
        e = el(plane, 'bpmndi:BPMNEdge', {'id': f'{f.id}_di', 'bpmnElement': f.id})
        for x, y in lay.edges[f.id]:
            el(e, 'di:waypoint', {'x': fmt(x), 'y': fmt(y)})
        if f.id in lay.labels:
            _bounds(el(e, 'bpmndi:BPMNLabel'), lay.labels[f.id])
