"""The organisation: nested units and the people in them, as an office writes it down.

Read from YAML (``units`` and ``people``) or from CSV (a units sheet or a
people sheet, Chinese or English headers), validated as a whole before
anything is stored, so a typo in line 40 does not leave half an organisation.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import BadFile
from .workflow import ROLES
from .yamlload import SafeLoader

CONTACT_KEYS = ("email", "phone", "wecom", "dingtalk")


@dataclass(frozen=True, slots=True)
class UnitDef:
    name: str
    parent: str | None = None
    head: str | None = None


@dataclass(frozen=True, slots=True)
class PersonDef:
    id: str
    name: str
    unit: str | None
    roles: tuple[str, ...]
    contacts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrgDoc:
    units: tuple[UnitDef, ...]
    people: tuple[PersonDef, ...]


def near(word: str, candidates: list[str] | set[str]) -> str:
    """', did you mean X?' when something close exists; the hint most typos need."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.5)
    return f" (did you mean {' / '.join(matches)}?)" if matches else ""


def load_org_file(path: Path, known_units: set[str] | None = None, known_people: set[str] | None = None) -> OrgDoc:
    """Parse and validate; ``known_*`` are what the database already holds (for references)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadFile(path, f"cannot read it ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise BadFile(path, "not text in UTF-8 or GB18030") from None
    if path.suffix.lower() == ".csv":
        doc = _from_csv(path, text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        doc = _from_yaml(path, text)
    else:
        raise BadFile(path, "an organisation file ends in .yaml, .yml or .csv")
    validate_org(path, doc, known_units or set(), known_people or set())
    return doc


def _from_yaml(path: Path, text: str) -> OrgDoc:
    try:
        doc = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise BadFile(path, f"{where}not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(doc, dict):
        raise BadFile(path, "expected a mapping with 'units' and 'people'")
    extra = set(doc) - {"units", "people"}
    if extra:
        raise BadFile(path, "unknown key (allowed: units, people)", key=sorted(map(str, extra))[0])
    units = []
    for i, u in enumerate(doc.get("units") or []):
        key = f"units[{i}]"
        if not isinstance(u, dict):
            raise BadFile(path, "expected a mapping {name, parent?, head?}", key=key)
        _only(path, u, {"name", "parent", "head"}, key)
        units.append(UnitDef(_req(path, u, "name", key), _opt(path, u, "parent", key), _opt(path, u, "head", key)))
    people = []
    for i, p in enumerate(doc.get("people") or []):
        key = f"people[{i}]"
        if not isinstance(p, dict):
            raise BadFile(path, "expected a mapping {id, name, unit?, roles, email?, phone?}", key=key)
        _only(path, p, {"id", "name", "unit", "roles", *CONTACT_KEYS}, key)
        roles = p.get("roles") or []
        if isinstance(roles, str):
            roles = [roles]
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise BadFile(path, "expected a list of roles", key=f"{key}.roles")
        contacts = {c: str(p[c]).strip() for c in CONTACT_KEYS if p.get(c) not in (None, "")}
        people.append(
            PersonDef(
                _req(path, p, "id", key), _req(path, p, "name", key), _opt(path, p, "unit", key), tuple(roles), contacts
            )
        )
    return OrgDoc(tuple(units), tuple(people))


_CSV_HEADERS = {
    "id": "id",
    "编号": "id",
    "工号": "id",
    "账号": "id",
    "name": "name",
    "姓名": "name",
    "unit": "unit",
    "单位": "unit",
    "部门": "unit",
    "所在单位": "unit",
    "roles": "roles",
    "角色": "roles",
    "email": "email",
    "邮箱": "email",
    "电子邮箱": "email",
    "phone": "phone",
    "电话": "phone",
    "手机": "phone",
    "联系电话": "phone",
    "wecom": "wecom",
    "企业微信": "wecom",
    "dingtalk": "dingtalk",
    "钉钉": "dingtalk",
    "parent": "parent",
    "上级单位": "parent",
    "上级": "parent",
    "head": "head",
    "负责人": "head",
}


def _from_csv(path: Path, text: str) -> OrgDoc:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise BadFile(path, "the file is empty")
    header = [_CSV_HEADERS.get(h.strip().lower(), _CSV_HEADERS.get(h.strip())) for h in rows[0]]
    unknown = [rows[0][i] for i, h in enumerate(header) if h is None]
    if unknown:
        raise BadFile(
            path, f"unknown column '{unknown[0]}' (known: {', '.join(sorted(set(_CSV_HEADERS.values())))})", key="row 1"
        )
    records = [dict(zip(header, (c.strip() for c in r), strict=False)) for r in rows[1:] if any(c.strip() for c in r)]
    if "id" in header:  # a people sheet; its units are those the people name, unless defined elsewhere
        people = []
        for n, r in enumerate(records, start=2):
            if not r.get("id") or not r.get("name"):
                raise BadFile(path, "id and name are required", key=f"row {n}")
            roles = tuple(
                x
                for x in (
                    s.strip()
                    for s in r.get("roles", "").replace("；", ";").replace("|", ";").replace(",", ";").split(";")
                )
                if x
            )
            contacts = {c: r[c] for c in CONTACT_KEYS if r.get(c)}
            people.append(PersonDef(r["id"], r["name"], r.get("unit") or None, roles, contacts))
        return OrgDoc((), tuple(people))
    if "unit" in header:
        units = []
        for n, r in enumerate(records, start=2):
            if not r.get("unit"):
                raise BadFile(path, "the unit name is required", key=f"row {n}")
            units.append(UnitDef(r["unit"], r.get("parent") or None, r.get("head") or None))
        return OrgDoc(tuple(units), ())
    raise BadFile(
        path, "a people sheet needs columns id, name (编号, 姓名); a units sheet needs unit (单位)", key="row 1"
    )


def _only(path: Path, mapping: dict[str, Any], allowed: set[str], key: str) -> None:
    extra = sorted(set(map(str, mapping)) - allowed)
    if extra:
        raise BadFile(path, f"unknown key (allowed: {', '.join(sorted(allowed))})", key=f"{key}.{extra[0]}")


def _req(path: Path, mapping: dict[str, Any], name: str, key: str) -> str:
    value = mapping.get(name)
    if value is None or not str(value).strip():
        raise BadFile(path, "is required", key=f"{key}.{name}")
    return str(value).strip()


def _opt(path: Path, mapping: dict[str, Any], name: str, key: str) -> str | None:
    value = mapping.get(name)
    return str(value).strip() or None if value is not None else None


def validate_org(path: Path, doc: OrgDoc, known_units: set[str], known_people: set[str]) -> None:
    """Refuse the whole file at its first inconsistency, naming the entry."""
    names: dict[str, int] = {}
    for i, u in enumerate(doc.units):
        if u.name in names:
            raise BadFile(
                path, f"unit '{u.name}' is defined twice (also units[{names[u.name]}])", key=f"units[{i}].name"
            )
        names[u.name] = i
    all_units = set(names) | known_units
    ids: dict[str, int] = {}
    for i, p in enumerate(doc.people):
        if p.id in ids:
            raise BadFile(path, f"person id '{p.id}' is used twice (also people[{ids[p.id]}])", key=f"people[{i}].id")
        ids[p.id] = i
        if p.unit is not None and p.unit not in all_units:
            raise BadFile(path, f"unknown unit '{p.unit}'{near(p.unit, all_units)}", key=f"people[{i}].unit")
        for role in p.roles:
            if role not in ROLES:
                raise BadFile(
                    path, f"unknown role '{role}' (known: {', '.join(sorted(ROLES))})", key=f"people[{i}].roles"
                )
    all_people = set(ids) | known_people
    for i, u in enumerate(doc.units):
        if u.parent is not None and u.parent not in all_units:
            raise BadFile(
                path, f"unknown parent unit '{u.parent}'{near(u.parent, all_units)}", key=f"units[{i}].parent"
            )
        if u.head is not None and u.head not in all_people:
            raise BadFile(path, f"unknown person '{u.head}'{near(u.head, all_people)}", key=f"units[{i}].head")
    parents = {u.name: u.parent for u in doc.units}
    for i, u in enumerate(doc.units):
        seen = {u.name}
        cur = parents.get(u.name)
        while cur is not None:
            if cur in seen:
                raise BadFile(
                    path, f"unit '{u.name}' is its own ancestor (a cycle of parents)", key=f"units[{i}].parent"
                )
            seen.add(cur)
            cur = parents.get(cur)
