"""A workflow as a diagram: Mermaid (renders in Markdown viewers) or Graphviz DOT."""

from __future__ import annotations

from .text import Lang
from .workflow import WorkflowSpec


def mermaid(spec: WorkflowSpec, lang: Lang = "en") -> str:
    lines = ["stateDiagram-v2"]
    for s in spec.states.values():
        lines.append(f'    state "{s.label.pick(lang)}" as {s.key}')
    lines.append(f"    [*] --> {spec.initial}: {spec.create.label.pick(lang)}")
    for t in spec.transitions:
        for src in t.sources:
            lines.append(f"    {src} --> {t.dest or src}: {t.label.pick(lang)}")
    lines += [f"    {s.key} --> [*]" for s in spec.states.values() if s.final]
    return "\n".join(lines) + "\n"


def dot(spec: WorkflowSpec, lang: Lang = "en") -> str:
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {spec.name} {{", "    rankdir=LR;", '    __start [shape=point, label=""];']
    for s in spec.states.values():
        shape = "doublecircle" if s.final else "box"
        lines.append(f"    {s.key} [shape={shape}, style=rounded, label={q(s.label.pick(lang))}];")
    lines.append(f"    __start -> {spec.initial} [label={q(spec.create.label.pick(lang))}];")
    for t in spec.transitions:
        for src in t.sources:
            style = ", style=dashed" if t.dest is None else ""
            lines.append(f"    {src} -> {t.dest or src} [label={q(t.label.pick(lang))}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
