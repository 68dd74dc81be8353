"""Grid -> coordinates: shapes, orthogonal edges, labels, and an overlap check."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import EVENTS, GATEWAYS, TASKS, Process

SIZE = {'user': (120, 80), 'service': (120, 80), 'script': (120, 80), 'call': (120, 80),
        'start': (36, 36), 'end': (36, 36), 'timer': (36, 36), 'boundary': (36, 36),
        'xgw': (50, 50), 'pgw': (50, 50)}
COLW = {'task': 170, 'gw': 130, 'ev': 90, 'empty': 60}
ROW_H = 120
POOL_X, POOL_Y, BAND = 150, 80, 30
SUB_PAD = 22
SUB_PAD_TOP = 34


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self):
        return self.x + self.w / 2

    @property
    def cy(self):
        return self.y + self.h / 2

    @property
    def r(self):
        return self.x + self.w

    @property
    def b(self):
        return self.y + self.h

    def hits(self, o, gap=0):
        return (self.x - gap < o.r and o.x - gap < self.r and
                self.y - gap < o.b and o.y - gap < self.b)


def text_box(text, cx, cy):
    """Approximate bpmn-js external label: 11px font, wrapped at 90px."""
    raw = sum(11.5 if ord(c) > 0x2e7f else 6.5 for c in text)
    lines = max(1, math.ceil(raw / 90))
    w = min(raw, 90) + 4
    h = 14 * lines
    return Box(round(cx - w / 2), round(cy - h / 2), round(w), h)


def colkind(n):
    if n.kind in TASKS:
        return 'task'
    if n.kind in GATEWAYS:
        return 'gw'
    return 'ev'


class Layout:
    def __init__(self, p: Process):
        self.p = p
        self.box: dict[str, Box] = {}
        self.edges: dict[str, list[tuple[float, float]]] = {}
        self.labels: dict[str, Box] = {}
        self._columns()
        self._lanes()
        self._shapes()
        for f in p.flows:
            self.edges[f.id] = self._route(f)
        self._labels()
        right = max(b.r for b in self.box.values())
        right = max(right, max(l.r for l in self.labels.values()) if self.labels else 0)
        self.pool = Box(POOL_X, POOL_Y, right + 40 - POOL_X, self.lane_bottom - POOL_Y)
        self.lane_box = {k: Box(POOL_X + BAND, t, self.pool.w - BAND, h)
                         for k, (t, h) in self.lane_geom.items()}

    # ------------------------------------------------------------ grid
    def _columns(self):
        ncol = max(n.col for n in self.p.nodes.values()) + 1
        w = [COLW['empty']] * ncol
        used = [False] * ncol
        for n in self.p.nodes.values():
            if n.kind == 'boundary':
                continue
            k = COLW[colkind(n)]
            w[n.col] = max(w[n.col], k) if used[n.col] else k
            used[n.col] = True
        for c, cw in self.p.colw.items():
            w[c] = cw
        x = POOL_X + 2 * BAND + 20
        self.xc = []
        for cw in w:
            self.xc.append(x + cw / 2)
            x += cw

    def _lanes(self):
        y = POOL_Y
        self.lane_geom, self.row_y = {}, {}
        for lane in self.p.lanes:
            h = lane.pad_top + lane.rows * ROW_H + lane.pad_bottom
            self.lane_geom[lane.key] = (y, h)
            for r in range(lane.rows):
                self.row_y[(lane.key, r)] = y + lane.pad_top + ROW_H / 2 + r * ROW_H
            y += h
        self.lane_bottom = y

    def X(self, c):
        return self.xc[c]

    def Y(self, lane, row):
        return self.row_y[(lane, row)]

    def lane_top(self, lane):
        return self.lane_geom[lane][0]

    def lane_end(self, lane):
        t, h = self.lane_geom[lane]
        return t + h

    def _shapes(self):
        nodes = self.p.nodes.values()
        for n in nodes:
            if n.kind in SIZE and n.kind != 'boundary':
                w, h = SIZE[n.kind]
                self.box[n.id] = Box(self.X(n.col) - w / 2, self.Y(n.lane, n.row) - h / 2, w, h)
        subs = [n for n in nodes if n.kind == 'sub']
        for n in nodes:
            if n.kind == 'boundary' and self.p.nodes[n.attach].kind != 'sub':
                self._boundary(n)
        for s in subs:
            kids = [self.box[k.id] for k in nodes if k.parent == s.id and k.id in self.box]
            x0 = min(b.x for b in kids) - SUB_PAD
            y0 = min(b.y for b in kids) - SUB_PAD_TOP
            x1 = max(b.r for b in kids) + SUB_PAD
            y1 = max(b.b for b in kids) + SUB_PAD + s.pad_bottom
            self.box[s.id] = Box(x0, y0, x1 - x0, y1 - y0)
        for n in nodes:
            if n.kind == 'boundary' and self.p.nodes[n.attach].kind == 'sub':
                self._boundary(n)

    def _boundary(self, n):
        host = self.box[n.attach]
        x = self.X(n.at_col) if n.at_col is not None else host.cx + n.dx
        y = host.b if n.edge == 'b' else host.y
        self.box[n.id] = Box(x - 18, y - 18, 36, 36)

    # ------------------------------------------------------------ edges
    def port(self, nid, side):
        b, n = self.box[nid], self.p.nodes[nid]
        cy = self.Y(n.lane, n.anchor_row or 0) if n.kind == 'sub' else b.cy
        return {'l': (b.x, cy), 'r': (b.r, cy), 't': (b.cx, b.y), 'b': (b.cx, b.b)}[side]

    def _coord(self, v, axis):
        if isinstance(v, (int, float)) or v is None:
            return v
        op, *a = v
        if op == 'x':
            return self.X(a[0]) + (a[1] if len(a) > 1 else 0)
        if op == 'xm':
            return (self.X(a[0]) + self.X(a[1])) / 2
        if op == 'y':
            return self.Y(a[0], a[1]) + (a[2] if len(a) > 2 else 0)
        if op == 'lt':
            return self.lane_top(a[0]) + a[1]
        if op == 'lb':
            return self.lane_end(a[0]) - a[1]
        if op == 'box':   # ('box', node, 'b'|'t'|'l'|'r', offset)
            b = self.box[a[0]]
            return {'t': b.y, 'b': b.b, 'l': b.x, 'r': b.r}[a[1]] + (a[2] if len(a) > 2 else 0)
        raise ValueError(v)

    def _route(self, f):
        s = self.p.nodes[f.src]
        sb, tb = self.box[f.src], self.box[f.tgt]
        r = dict(f.route or {})
        if 'pts' in r:
            p0 = self.port(f.src, r['out'])
            pts = [p0]
            for x, y in r['pts']:
                x, y = self._coord(x, 'x'), self._coord(y, 'y')
                px, py = pts[-1]
                pts.append((px if x is None else x, py if y is None else y))
            pts.append(self.port(f.tgt, r['in']))
            return self._clean(pts, f)
        style = r.get('style')
        if s.kind == 'boundary':
            side = s.edge
            p0 = self.port(f.src, side)
            tside_v = 't' if side == 'b' else 'b'
            if abs(p0[0] - tb.cx) < 1:
                return [p0, self.port(f.tgt, tside_v)]
            if style == 'v-in':   # go to the target's column, then enter it vertically
                y = self._coord(r['y'], 'y')
                return self._clean([p0, (p0[0], y), (tb.cx, y), self.port(f.tgt, tside_v)], f)
            pe = self.port(f.tgt, 'l' if tb.cx > p0[0] else 'r')
            return [p0, (p0[0], pe[1]), pe]
        sy = self.port(f.src, 'r')[1]
        ty = self.port(f.tgt, 'l')[1]
        if style is None:
            if abs(sy - ty) < 1 and tb.x > sb.r:
                style = 'h'
            elif abs(sb.cx - tb.cx) < 1:
                style = 'v'
            elif s.kind in GATEWAYS and tb.cx > sb.cx:
                style = 'vh'
            elif tb.cx > sb.cx:
                style = 'hv'
            else:
                raise ValueError(f'{f.id}: backward flow needs a route')
        if style == 'h':
            a, b = self.port(f.src, 'r'), self.port(f.tgt, 'l')
            if abs(a[1] - b[1]) < 1:
                return [a, b]
            mx = self._coord(r.get('x'), 'x') or (a[0] + b[0]) / 2
            return [a, (mx, a[1]), (mx, b[1]), b]
        if style == 'v':
            down = tb.cy > sb.cy
            return [self.port(f.src, 'b' if down else 't'), self.port(f.tgt, 't' if down else 'b')]
        if style == 'vh':
            a = self.port(f.src, 'b' if ty > sy else 't')
            b = self.port(f.tgt, 'l' if tb.cx > sb.cx else 'r')
            return [a, (a[0], b[1]), b]
        if style == 'hv':
            a = self.port(f.src, 'r' if tb.cx > sb.cx else 'l')
            b = self.port(f.tgt, 't' if tb.cy > sb.cy else 'b')
            return [a, (b[0], a[1]), b]
        raise ValueError(f'{f.id}: style {style}')

    @staticmethod
    def _clean(pts, f):
        out = [pts[0]]
        for p in pts[1:]:
            if abs(p[0] - out[-1][0]) < 0.5 and abs(p[1] - out[-1][1]) < 0.5:
                continue
            out.append(p)
        for a, b in zip(out, out[1:]):
            if abs(a[0] - b[0]) > 0.5 and abs(a[1] - b[1]) > 0.5:
                raise ValueError(f'{f.id}: diagonal segment {a} -> {b}')
        return out

    # ------------------------------------------------------------ labels
    def _used_sides(self, nid):
        b = self.box[nid]
        used = set()
        for f in self.p.flows:
            pts = self.edges[f.id]
            for q in ([pts[0]] if f.src == nid else []) + ([pts[-1]] if f.tgt == nid else []):
                if abs(q[1] - b.y) < 1:
                    used.add('t')
                elif abs(q[1] - b.b) < 1:
                    used.add('b')
                elif abs(q[0] - b.x) < 1:
                    used.add('l')
                else:
                    used.add('r')
        return used

    def _labels(self):
        for n in self.p.nodes.values():
            if not n.name or (n.kind not in EVENTS and n.kind not in GATEWAYS):
                continue
            b = self.box[n.id]
            probe = text_box(n.name, 0, 0)
            if n.kind == 'boundary':
                dy = 14 + probe.h / 2 if n.edge == 'b' else 4 + probe.h / 2   # top edge: label inside
                self.labels[n.id] = text_box(n.name, b.r + 4 + probe.w / 2, b.cy + dy)
                continue
            side = n.label
            if side is None:
                used = self._used_sides(n.id)
                side = next((s for s in ('b', 't', 'r', 'l') if s not in used), 'b')
                if n.kind in GATEWAYS and 't' not in used:
                    side = 't'
            cx, cy = {'b': (b.cx, b.b + 4 + probe.h / 2), 't': (b.cx, b.y - 4 - probe.h / 2),
                      'r': (b.r + 4 + probe.w / 2, b.cy - 14), 'l': (b.x - 4 - probe.w / 2, b.cy - 14),
                      'tl': (b.x - probe.w / 2 + 6, b.y - probe.h / 2 - 2)}[side]
            self.labels[n.id] = text_box(n.name, cx, cy)
        for f in self.p.flows:
            if not f.name:
                continue
            (x0, y0), (x1, y1) = self.edges[f.id][:2]
            probe = text_box(f.name, 0, 0)
            if f.label_at:
                cx, cy = x0 + f.label_at[0], y0 + f.label_at[1]
            elif abs(x0 - x1) < 0.5:
                sign = 1 if y1 > y0 else -1
                cx, cy = x0 + 5 + probe.w / 2, y0 + sign * (5 + probe.h / 2)
            else:
                sign = 1 if x1 > x0 else -1
                cx, cy = x0 + sign * (6 + probe.w / 2), y0 - 3 - probe.h / 2
            self.labels[f.id] = text_box(f.name, cx, cy)

    # ------------------------------------------------------------ check
    def problems(self):
        """Overlaps a reader would notice: shapes, edges through shapes, labels on things."""
        nodes, out = self.p.nodes, []

        def related(a, b):
            na, nb = nodes[a], nodes[b]
            return (na.parent == b or nb.parent == a or na.attach == b or nb.attach == a
                    or (na.attach and nodes[na.attach].parent == b)
                    or (nb.attach and nodes[nb.attach].parent == a))
        ids = list(self.box)
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if self.box[a].hits(self.box[b], 4) and not related(a, b):
                    out.append(f'shapes overlap: {a} / {b}')
        for f in self.p.flows:
            skip = {f.src, f.tgt}
            for e in (f.src, f.tgt):
                while nodes[e].parent or nodes[e].attach:
                    e = nodes[e].parent or nodes[e].attach
                    skip.add(e)
            for seg in zip(self.edges[f.id], self.edges[f.id][1:]):
                sbox = seg_box(*seg)
                for k, b in self.box.items():
                    if k not in skip and sbox.hits(Box(b.x + 1, b.y + 1, b.w - 2, b.h - 2)):
                        if nodes[k].kind == 'sub' and inside(sbox, b):
                            continue
                        out.append(f'edge {f.id} crosses {k}')
        for f in self.p.flows:
            sub = nodes[f.src].parent or (nodes[f.src].attach and nodes[nodes[f.src].attach].parent)
            if sub and nodes[f.tgt].parent == sub:
                for pt in self.edges[f.id]:
                    if not inside(Box(pt[0] - 1, pt[1] - 1, 2, 2), self.box[sub]):
                        out.append(f'edge {f.id} leaves its sub-process {sub}')
                        break
        lab = list(self.labels.items())
        for i, (k, lb) in enumerate(lab):
            for sid, b in self.box.items():
                if sid != k and nodes[sid].kind != 'sub' and lb.hits(b, 1):
                    out.append(f'label of {k} on shape {sid}')
            for k2, lb2 in lab[i + 1:]:
                if lb.hits(lb2, 2):
                    out.append(f'labels overlap: {k} / {k2}')
            for f in self.p.flows:
                if f.id == k:
                    continue
                for seg in zip(self.edges[f.id], self.edges[f.id][1:]):
                    if seg_box(*seg).hits(lb):
                        out.append(f'label of {k} on edge {f.id}')
                        break
        return out


def seg_box(a, b):
    return Box(min(a[0], b[0]), min(a[1], b[1]), abs(a[0] - b[0]) or 0.01, abs(a[1] - b[1]) or 0.01)


def inside(small, big):
    return small.x > big.x and small.r < big.r and small.y > big.y and small.b < big.b
