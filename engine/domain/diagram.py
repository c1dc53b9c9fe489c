"""A workflow drawn as SVG from its spec: states in layers by their distance from the initial state,
arrows labelled with the triggers that move between them.

Why server-side SVG: no JavaScript diagram library to vendor, it prints, and it scales on a phone.
Every text reaching the SVG is XML-escaped (labels come from YAML that admins edit).
"""

from __future__ import annotations

from collections import deque
from html import escape

from .text import Lang
from .workflow import WorkflowSpec

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 150, 44, 90, 90, 20
LOOP_ROOM = 420  # a column on the right for each state's internal steps (↻ 整改中：报送进展、催办 …)


def layers(spec: WorkflowSpec) -> list[list[str]]:
    """States by breadth-first distance from the initial state; unreachable ones in a last layer."""
    edges: dict[str, set[str]] = {s: set() for s in spec.states}
    for t in spec.transitions:
        if t.dest is None:
            continue
        for src in t.sources:
            if src in edges:
                edges[src].add(t.dest)
    depth = {spec.initial: 0}
    queue = deque([spec.initial])
    while queue:
        here = queue.popleft()
        for nxt in sorted(edges.get(here, ())):
            if nxt not in depth:
                depth[nxt] = depth[here] + 1
                queue.append(nxt)
    out: list[list[str]] = []
    for state in spec.states:  # the YAML's order within a layer
        d = depth.get(state, max(depth.values(), default=0) + 1)
        while len(out) <= d:
            out.append([])
        out[d].append(state)
    return [layer for layer in out if layer]


def workflow_svg(spec: WorkflowSpec, lang: Lang) -> str:
    grid = layers(spec)
    boxes_w = max(len(layer) for layer in grid) * (BOX_W + GAP_X) - GAP_X + 2 * PAD
    width = boxes_w + LOOP_ROOM
    height = len(grid) * (BOX_H + GAP_Y) - GAP_Y + 2 * PAD
    pos: dict[str, tuple[float, float]] = {}
    for row, layer in enumerate(grid):
        span = len(layer) * (BOX_W + GAP_X) - GAP_X
        x0 = (boxes_w - span) / 2
        for col, state in enumerate(layer):
            pos[state] = (x0 + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    labels: dict[tuple[str, str], list[str]] = {}
    for t in spec.transitions:
        for src in t.sources:
            dest = t.dest or src
            if src in pos and dest in pos:
                labels.setdefault((src, dest), []).append(t.label.pick(lang))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'role="img" aria-label="{escape(spec.label.pick(lang))}" class="workflow" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#52606d"/></marker></defs>',
    ]
    for (src, dest), words in sorted(labels.items()):
        text = escape("、".join(dict.fromkeys(words)))
        sx, sy = pos[src]
        dx, dy = pos[dest]
        if src == dest:  # an internal step: a loop on the box, its triggers in the column on the right
            x, y = sx + BOX_W, sy + BOX_H / 2
            parts.append(
                f'<path d="M{x:.0f},{y - 8:.0f} c24,-16 24,30 0,16" fill="none" stroke="#52606d" '
                f'marker-end="url(#arrow)"/><text x="{boxes_w + 8:.0f}" y="{y + 4:.0f}" fill="#52606d">'
                f"↻ {escape(spec.state_label(src).pick(lang))}：{text}</text>"
            )
            continue
        down = dy > sy
        x1, y1 = sx + BOX_W / 2, sy + (BOX_H if down else 0)
        x2, y2 = dx + BOX_W / 2, dy + (0 if down else BOX_H)
        if dy == sy:  # same layer: side to side
            y1 = y2 = sy + BOX_H / 2
            x1, x2 = (sx + BOX_W, dx) if dx > sx else (sx, dx + BOX_W)
        # arrows going back up curve aside (dashed) so they do not hide the ones going down; a label sits on
        # the outer side of its own arrow: left of one going down, right of one going back
        bend = 0 if down else 70
        mx, my = (x1 + x2) / 2 + bend, (y1 + y2) / 2
        lx, anchor = (mx - 6, "end") if down else (mx / 2 + (x1 + x2) / 4 + 6, "start")
        ly = my - 4 if down else my + 12
        parts.append(
            f'<path d="M{x1:.0f},{y1:.0f} Q{mx:.0f},{my:.0f} {x2:.0f},{y2:.0f}" fill="none" stroke="#52606d" '
            f'stroke-dasharray="{"" if down else "4 3"}" marker-end="url(#arrow)"/>'
            f'<text x="{lx:.0f}" y="{ly:.0f}" text-anchor="{anchor}" fill="{"#1f2933" if down else "#52606d"}">'
            f"{text}</text>"
        )
    for state, (x, y) in pos.items():
        s = spec.states[state]
        fill = "#e8f0fe" if state == spec.initial else "#eaf6ec" if s.final else "#fff"
        parts.append(
            f'<g><rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" '
            f'stroke="#1f2933"/><text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" text-anchor="middle" '
            f'font-size="14">{escape(spec.state_label(state).pick(lang))}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
