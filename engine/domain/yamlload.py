"""The YAML loader duban uses: safe, libyaml-fast where available, and with dates left as text.

PyYAML turns anything that looks like a date into a ``date`` and raises a bare
ValueError on one that is not real (2026-11-31); keeping dates as strings lets
each reader validate them and name the key.
"""

from __future__ import annotations

import yaml

from .errors import BadFile

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class SafeLoader(_Base):  # type: ignore[valid-type,misc]
    """Refuses a key given twice in one mapping: silently keeping the last ``who:`` would change who may act.

    Refuses aliases (``*name``) too: nobody needs them in a workflow, an organisation or a mapping, and a
    few nested ones (a "billion laughs") expand into more text than memory holds.
    """

    def construct_document(self, node: yaml.Node) -> object:
        seen: set[int] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            if id(current) in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, "aliases (*name) are not allowed in duban's files", current.start_mark
                )
            seen.add(id(current))
            if isinstance(current, yaml.SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, yaml.MappingNode):
                for key, value in current.value:
                    stack.extend((key, value))
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


SafeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Base.yaml_implicit_resolvers.items()
}


def yaml_problem(exc: yaml.YAMLError) -> str:
    """'line N, column M: not valid YAML (problem)' — the line a person editing the file needs."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{where}not valid YAML ({problem})"


def load_yaml(text: str, source: object, error: type[BadFile] = BadFile) -> object:
    """Every duban YAML file is read through here: one loader, one way of saying where it is broken."""
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise error(source, yaml_problem(exc)) from None
