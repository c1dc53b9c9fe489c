"""The YAML loader duban uses: safe, libyaml-fast where available, and with dates left as text.

PyYAML turns anything that looks like a date into a ``date`` and raises a bare
ValueError on one that is not real (2026-11-31); keeping dates as strings lets
each reader validate them and name the key.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import BadFile
from .osreason import NO_SUCH_FILE, unreadable
from .text import Bilingual

if TYPE_CHECKING:
    import yaml


@cache
def safe_loader() -> type[Any]:
    """The loader class, made on first use: a command whose definitions come from the cache never imports PyYAML.

    It refuses a key given twice in one mapping: silently keeping the last ``who:`` would change who may act.
    It refuses aliases (``*name``) too: nobody needs them in a workflow, an organisation or a mapping, and a
    few nested ones (a "billion laughs") expand into more text than memory holds.
    """
    import yaml

    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class SafeLoader(base):  # type: ignore[valid-type,misc]
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
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return SafeLoader


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
    import yaml

    try:
        return yaml.load(text, Loader=safe_loader())
    except yaml.YAMLError as exc:
        raise error(source, yaml_problem(exc)) from None


# --- parsed definitions kept beside their file, as Python keeps bytecode -------------------------------------

_PLAIN = (str, int, float, bool, type(None))


def _plain(value: object) -> bool:
    """Only what this loader makes from a YAML file (mappings, lists, text, numbers): safe to marshal and back."""
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, _PLAIN) and _plain(v) for k, v in value.items())
    return False


@cache
def _loader_key() -> str:
    """What else decides the parse besides the text: this module and PyYAML (their files' size and time)."""
    from importlib.util import find_spec

    parts = []
    for origin in (__file__, getattr(find_spec("yaml"), "origin", None)):
        try:
            st = os.stat(origin) if origin else None
        except OSError:
            st = None
        parts.append(f"{origin}:{st.st_size}:{st.st_mtime_ns}" if st else f"{origin}:-")
    return "|".join(parts)


def load_yaml_cached(text: str, path: Path, error: type[BadFile] = BadFile) -> object:
    """``load_yaml`` of a definition file, kept parsed in ``__pycache__`` beside it (where the folder is writable).

    Parsing the built-in workflows took about as long as the rest of a ``duban show``. The kept copy holds the
    parsed mappings only (marshal: no code, no objects), under the digest of the text and of the loader, so an
    edited file or a changed loader is parsed afresh; every reader still validates what it gets.
    """
    key = hashlib.sha256((_loader_key() + "\0" + text).encode("utf-8")).hexdigest()
    kept = path.parent / "__pycache__" / f"{path.name}.marshal"
    try:
        found = marshal.loads(kept.read_bytes())
        if isinstance(found, tuple) and len(found) == 2 and found[0] == key:
            return found[1]
    except (OSError, ValueError, EOFError, TypeError):
        pass
    data = load_yaml(text, str(path), error)
    if _plain(data):
        fresh = kept.with_name(f"{kept.name}.{os.getpid()}.tmp")
        try:
            kept.parent.mkdir(exist_ok=True)
            fresh.write_bytes(marshal.dumps((key, data)))  # type: ignore[arg-type]  # checked by _plain
            os.replace(fresh, kept)  # whole or not at all: a reader never sees half a file
        except OSError:  # a read-only install: parse each time
            with contextlib.suppress(OSError):
                fresh.unlink(missing_ok=True)
    return data


def load_yaml_file(path: Path) -> object:
    """A policy file read and parsed: a missing, unreadable or broken file is one BadFile naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadFile(path, NO_SUCH_FILE) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadFile(path, unreadable(exc)) from None
    return load_yaml(text, path)
