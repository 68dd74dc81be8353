"""Compact description of one executable BPMN process: lanes, grid-placed nodes, flows."""

from __future__ import annotations

from dataclasses import dataclass, field

GROUPS = {'intake', 'handler', 'dept_head', 'complaint_group', 'callback',
          'quality_centre', 'pr', 'leadership', 'team_leader'}
TOPICS = {'classify', 'route', 'book_deductions', 'notify', 'add_to_knowledge_base',
          'count_issue_complaints', 'record_overdue', 'count_team_complaints', 'find_responsible',
          'escalation_level', 'route_support', 'notify_warning'}
# Candidate groups drawn as an expression the route or support topic sets (I-4, N-1, N-12).
GROUP_EXPRESSIONS = {'${responsible_group}', '${support_group}', '${accept_group}', '${preprocess_group}'}
FIELD_TYPES = {'string', 'text', 'long', 'double', 'boolean', 'date', 'enum'}

TASKS = {'user', 'service', 'script', 'call'}
EVENTS = {'start', 'end', 'timer', 'boundary'}
GATEWAYS = {'xgw', 'pgw'}


@dataclass
class Field:
    """One camunda:formField."""
    id: str
    label: str
    type: str = 'string'
    required: bool = False
    default: str | None = None
    values: list[tuple[str, str, str]] = field(default_factory=list)   # (id, Chinese name, English name)
    constraints: dict[str, str] = field(default_factory=dict)
    overwrite: bool = False  # intentionally writes a key another task (or a loop) also writes
    person: bool = False     # the value names a person of the organisation (camunda:property kind=person)
    label_en: str = ''       # the English label (camunda:property label_en)


def F(id, label, en, type='string', req=False, default=None, values=None, overwrite=False, person=False, **cons):
    """Build a form field: ``label`` Chinese, ``en`` English, enum ``values`` as (id, Chinese, English);
    keyword constraints: minlength, maxlength, min, max, readonly."""
    if type not in FIELD_TYPES:
        raise ValueError(f'field {id}: type {type}')
    if not en:
        raise ValueError(f'field {id}: no English label')
    values = list(values or [])
    if any(len(v) != 3 or not v[2] for v in values):
        raise ValueError(f'field {id}: each enum value is (id, Chinese name, English name)')
    if type == 'boolean' and default is None:
        default = 'false'
    return Field(id, label, type, req, default, values,
                 {k: str(v) for k, v in cons.items()}, overwrite, person, en)


@dataclass
class Node:
    id: str
    kind: str
    name: str
    lane: str
    col: int = 0
    row: int = 0
    doc: str = ''
    parent: str | None = None          # id of the embedded sub-process holding this node
    groups: str | None = None          # user task candidateGroups
    users: str | None = None           # user task candidateUsers (an expression such as ${sq_team_leader})
    due: str | None = None             # user task camunda:dueDate
    form: list[Field] = field(default_factory=list)
    topic: str | None = None
    params: list[tuple[str, str]] = field(default_factory=list)
    script: str | None = None
    called: str | None = None
    timer: tuple[str, str] | None = None   # ('timeDate'|'timeDuration'|'timeCycle', expr)
    attach: str | None = None          # boundary event host
    interrupting: bool = True
    edge: str = 'b'                    # boundary event on host bottom ('b') or top ('t') edge
    dx: float = 30                     # boundary x offset from host centre
    at_col: int | None = None          # boundary x = this column's centre instead
    label: str | None = None           # event/gateway label side: t, b, l, r
    default: str | None = None         # id of the default outgoing flow (gateways)
    anchor_row: int | None = None      # sub-process: row whose centre the outer flows use
    pad_bottom: float = 0              # sub-process: extra room below the lowest child
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)


@dataclass
class Flow:
    id: str
    src: str
    tgt: str
    name: str | None = None
    cond: str | None = None
    route: dict | None = None
    label_at: tuple[float, float] | None = None   # label centre offset from the first waypoint
    doc: str = ''


@dataclass
class Lane:
    key: str
    name: str
    rows: int = 1
    doc: str = ''
    pad_top: float = 0
    pad_bottom: float = 0


def system_lane(rows=1, pad_top=0, pad_bottom=0):
    """The lane of no person: the engine's automatic steps and the gateways that decide on data it computed or
    registered (issue 13: gateways sit in the lane of the role that decides, or outside human lanes when
    automatic)."""
    return Lane('system', '系统(自动)', rows,
                'System (automatic), no person (系统自动): the engine\'s own steps and the decisions it takes on '
                'data it computed or registered: kind, severity, routing, counts, results of a called process',
                pad_top, pad_bottom)


class Process:
    """A process with one pool; nodes sit on a (column, lane, row) grid."""

    def __init__(self, pid, name, doc, lanes, colw=None):
        self.id, self.name, self.doc = pid, name, doc
        self.lanes = [Lane(*l) if isinstance(l, tuple) else l for l in lanes]
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.colw = dict(colw or {})

    def add(self, kind, id, name, lane, col, row=0, **kw):
        if id in self.nodes:
            raise ValueError(f'duplicate node id {id}')
        n = Node(id, kind, name, lane, col, row, **kw)
        if kind == 'user' and not (n.users and not n.groups):
            groups = [g.strip() for g in (n.groups or '').split(',')]
            if n.groups not in GROUP_EXPRESSIONS and not set(groups) <= GROUPS:
                raise ValueError(f'{id}: candidate groups {n.groups}')
        if kind == 'service' and n.topic not in TOPICS:
            raise ValueError(f'{id}: topic {n.topic}')
        self.nodes[id] = n
        return n

    def flow(self, src, tgt, name=None, cond=None, default=False, route=None, label_at=None, id=None):
        fid = id or f'Flow_{src}_to_{tgt}'
        f = Flow(fid, src, tgt, name, cond, route, label_at)
        self.flows.append(f)
        self.nodes[src].outgoing.append(fid)
        self.nodes[tgt].incoming.append(fid)
        if default:
            self.nodes[src].default = fid
        return f

    def shift(self, first_col, by=1):
        """Move every node from column ``first_col`` on ``by`` columns right (column widths and routes too)."""
        def moved(c):
            return c + by if c >= first_col else c

        for n in self.nodes.values():
            n.col = moved(n.col)
            if n.at_col is not None:
                n.at_col = moved(n.at_col)
        self.colw = {moved(c): w for c, w in self.colw.items()}

        def spec(v):
            if isinstance(v, tuple) and v and v[0] == 'x':
                return ('x', moved(v[1]), *v[2:])
            if isinstance(v, tuple) and v and v[0] == 'xm':
                return ('xm', moved(v[1]), moved(v[2]))
            return v

        for f in self.flows:
            if f.route:
                if 'pts' in f.route:
                    f.route['pts'] = [(spec(x), spec(y)) for x, y in f.route['pts']]
                if 'x' in f.route:
                    f.route['x'] = spec(f.route['x'])

    def chain(self, *ids):
        for a, b in zip(ids, ids[1:]):
            self.flow(a, b)

    def check(self):
        """Semantic checks the modeller would not make: forks labelled, conditions set, field ids unique."""
        problems = []
        for n in self.nodes.values():
            if n.kind == 'xgw' and len(n.outgoing) > 1:
                for fid in n.outgoing:
                    f = self.flow_by_id(fid)
                    if not f.name:
                        problems.append(f'{fid}: gateway flow without a name')
                    if not f.cond and n.default != fid:
                        problems.append(f'{fid}: gateway flow without condition or default')
        for n in self.nodes.values():
            if n.kind not in ('start', 'boundary', 'sub') and not n.incoming:
                problems.append(f'{n.id}: no incoming flow')
            if n.kind != 'end' and not n.outgoing:
                problems.append(f'{n.id}: no outgoing flow')
        seen = {}
        for n in self.nodes.values():
            for fd in n.form:
                if fd.id in seen and not fd.overwrite:
                    problems.append(f'field {fd.id} in {n.id} repeats {seen[fd.id]}')
                seen.setdefault(fd.id, n.id)
        if problems:
            raise ValueError(f'{self.id}:\n  ' + '\n  '.join(problems))

    def flow_by_id(self, fid):
        return next(f for f in self.flows if f.id == fid)
