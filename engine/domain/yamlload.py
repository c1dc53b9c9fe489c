"""The YAML loader duban uses: safe, libyaml-fast where available, and with dates left as text.

PyYAML turns anything that looks like a date into a ``date`` and raises a bare
ValueError on one that is not real (2026-11-31); keeping dates as strings lets
each reader validate them and name the key.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .errors import BadFile
from .osreason import NO_SUCH_FILE, unreadable
from .text import Bilingual

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
                raise yaml.constructor.ConstructorError(None, None, ALIASES_REFUSED, current.start_mark)
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


ALIASES_REFUSED = "aliases (*name) are not allowed in duban's files"
_KEY_TWICE = re.compile(r"^the key (.*) appears twice in one mapping$", re.S)

# PyYAML's most common complaints, as a Chinese reader needs them; a rarer one is quoted as PyYAML says it.
_PROBLEMS_ZH = {
    ALIASES_REFUSED: "督办系统的文件中不能使用别名（*name）；请把内容直接写出",
    "mapping values are not allowed": "此处不能出现“键: 值”（冒号后的文字含冒号时请加引号）",
    "found character": "含有不能出现在此处的字符（如用制表符缩进；YAML 只能用空格缩进）",
    "could not find expected ':'": "缺少冒号“:”",
    "found undefined alias": "引用了未定义的别名（*name）",
    "expected <block end>, but found '-'": "缩进不一致：列表项“-”的缩进与上文不符",
    "expected <block end>, but found '<block sequence start>'": "缩进不一致：列表项“-”的缩进与上文不符",
    "expected <block end>, but found '<scalar>'": "缩进不一致：此行的缩进与上文不符",
    "expected <block end>, but found '<block mapping start>'": "缩进不一致：此行的缩进与上文不符",
    "found unexpected end of stream": "文件意外结束（引号或括号未闭合）",
    "found unexpected ':'": "出现多余的冒号“:”（含冒号的文字请加引号）",
    "did not find expected key": "缩进不一致，找不到应有的键",
    "did not find expected node content": "此处缺少内容",
    "did not find expected ',' or ']'": "方括号列表未闭合：缺少“,”或“]”",
    "did not find expected ',' or '}'": "花括号映射未闭合：缺少“,”或“}”",
}


def _problem_zh(problem: str) -> str:
    twice = _KEY_TWICE.match(problem)
    if twice:
        return f"同一映射中键 {twice.group(1)} 出现两次；请只保留一个"
    for en, zh in _PROBLEMS_ZH.items():
        if problem.startswith(en):
            return zh
    return f"“{problem}”"  # quoted as PyYAML says it


def yaml_problem(exc: yaml.YAMLError) -> Bilingual:
    """'line N, column M: not valid YAML (problem)' — the line a person editing the file needs."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    where_zh = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return Bilingual(f"{where_zh}不是有效的 YAML（{_problem_zh(problem)}）", f"{where}not valid YAML ({problem})")


def load_yaml(text: str, source: object, error: type[BadFile] = BadFile) -> object:
    """Every duban YAML file is read through here: one loader, one way of saying where it is broken."""
    try:
        return yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise error(source, yaml_problem(exc)) from None


def load_yaml_file(path: Path) -> object:
    """A policy file read and parsed: a missing, unreadable or broken file is one BadFile naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadFile(path, NO_SUCH_FILE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadFile(path, unreadable(exc)) from None
    return load_yaml(text, path)
