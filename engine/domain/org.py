"""The organisation: nested units and the people in them, as an office writes it down.

Read from YAML (``units`` and ``people``) or from CSV (a units sheet or a
people sheet, Chinese or English headers), validated as a whole before
anything is stored, so a typo in line 40 does not leave half an organisation.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BadFile, InvalidInput
from .textcheck import check_text
from .workflow import ROLES
from .yamlload import load_yaml

CONTACT_KEYS = ("email", "phone", "wecom", "dingtalk")
CHANNELS = ("console", "file", "email", "webhook", "wecom", "dingtalk")


@dataclass(frozen=True, slots=True)
class UnitDef:
    name: str
    parent: str | None = None
    head: str | None = None
    channels: tuple[str, ...] | None = None
    given: frozenset[str] = frozenset({"name", "parent", "head"})  # what the file states; the rest is kept
    aliases: tuple[str, ...] | None = None  # the short names ledgers use: 县住建局, 住建局


@dataclass(frozen=True, slots=True)
class PersonDef:
    id: str
    name: str
    unit: str | None
    roles: tuple[str, ...]
    contacts: dict[str, str] = field(default_factory=dict)
    channels: tuple[str, ...] | None = None
    given: frozenset[str] = frozenset({"id", "name", "unit", "roles", *CONTACT_KEYS})
    accounts: tuple[str, ...] | None = None  # os:NAME (an operating-system account), pg:ROLE (a database role)


@dataclass(frozen=True, slots=True)
class OrgDoc:
    units: tuple[UnitDef, ...]
    people: tuple[PersonDef, ...]


def near(word: str, candidates: list[str] | set[str]) -> str:
    """', did you mean X?' when something close exists; the hint most typos need."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.5)
    return f" (did you mean {' / '.join(matches)}?)" if matches else ""


# The parts of a unit's name that many units share: a place before, a kind of body after.
_PLACE = re.compile(
    r"^(?:中共)?(?:[\u4e00-\u9fff]{0,4}?(?:省|自治区|市|州|盟|县|(?<!社)区|旗|镇|乡|街道))(?=[\u4e00-\u9fff]{2})"
)
_KIND = re.compile(
    r"(?:委员会|管理委员会|办公室|党支部|党委|党组|支部|服务中心|中心|管理局|分局|局|委|办|科|所|站|队|院|室|馆|会)$"
)


def distinctive(name: str) -> str:
    """'县住房和城乡建设局' → '住房和城乡建设': what tells a unit from others, without its place and its kind."""
    core = _PLACE.sub("", name.strip(), count=1)
    stripped = _KIND.sub("", core)
    return stripped if len(stripped) >= 1 else core


def similarity(a: str, b: str) -> float:
    """How alike two unit names are, on their distinctive parts: 县住建局 ~ 住建局, not 县住建局 ~ 县财政局."""
    da, db = distinctive(a), distinctive(b)
    if not da or not db:
        return 0.0
    if da == db:
        return 1.0
    ratio = difflib.SequenceMatcher(None, da, db).ratio()
    if len(da) >= 2 and len(db) >= 2 and (da in db or db in da):
        ratio = max(ratio, 0.8)
    return ratio


def close_units(name: str, candidates: Iterable[str], cutoff: float = 0.6, n: int = 3) -> list[str]:
    """The candidates most like ``name``, best first."""
    scored = sorted(((similarity(name, c), c) for c in candidates if c != name), key=lambda sc: (-sc[0], sc[1]))
    return [c for score, c in scored if score >= cutoff][:n]


def load_org_file(
    path: Path,
    known_units: set[str] | None = None,
    known_people: set[str] | None = None,
    known_parents: dict[str, str | None] | None = None,
) -> OrgDoc:
    """Parse and validate; ``known_*`` are what the database already holds (for references)."""
    if path.is_dir():
        raise BadFile(path, "is a folder; give an organisation file (.yaml, .yml or .csv)")
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
    if "\x00" in text:
        raise BadFile(path, "contains NUL characters; it is not a text file")
    if path.suffix.lower() == ".csv":
        doc = _from_csv(path, text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        doc = _from_yaml(path, text)
    else:
        raise BadFile(path, "an organisation file ends in .yaml, .yml or .csv")
    validate_org(path, doc, known_units or set(), known_people or set(), known_parents or {})
    return doc


_UNIT_KEYS = {"name", "parent", "head", "channels", "aliases"}
_PERSON_KEYS = {"id", "name", "unit", "roles", "channels", "accounts", *CONTACT_KEYS}


def _from_yaml(path: Path, text: str) -> OrgDoc:
    doc = load_yaml(text, path)
    if not isinstance(doc, dict):
        raise BadFile(path, "expected a mapping with 'units' and 'people'")
    extra = set(doc) - {"units", "people"}
    if extra:
        raise BadFile(path, "unknown key (allowed: units, people)", key=sorted(map(str, extra))[0])
    for section in ("units", "people"):
        if doc.get(section) is not None and not isinstance(doc[section], list):
            raise BadFile(path, f"expected a list, found {type(doc[section]).__name__}", key=section)
    units = []
    for i, u in enumerate(doc.get("units") or []):
        key = f"units[{i}]"
        if not isinstance(u, dict):
            raise BadFile(path, "expected a mapping {name, parent?, head?, channels?}", key=key)
        _only(path, u, _UNIT_KEYS, key)
        units.append(
            UnitDef(
                name=_req(path, u, "name", key),
                parent=_opt(path, u, "parent", key),
                head=_opt(path, u, "head", key),
                channels=_names(path, u, "channels", key),
                given=frozenset(map(str, u)),
                aliases=_names(path, u, "aliases", key),
            )
        )
    people = []
    for i, p in enumerate(doc.get("people") or []):
        key = f"people[{i}]"
        if not isinstance(p, dict):
            raise BadFile(path, "expected a mapping {id, name, unit?, roles, email?, phone?}", key=key)
        _only(path, p, _PERSON_KEYS, key)
        contacts = {c: v for c in CONTACT_KEYS if (v := _opt(path, p, c, key))}
        people.append(
            PersonDef(
                id=_req(path, p, "id", key),
                name=_req(path, p, "name", key),
                unit=_opt(path, p, "unit", key),
                roles=_names(path, p, "roles", key) or (),
                contacts=contacts,
                channels=_names(path, p, "channels", key),
                given=frozenset(map(str, p)),
                accounts=_names(path, p, "accounts", key),
            )
        )
    return OrgDoc(tuple(units), tuple(people))


_CSV_HEADERS = {
    "id": "id", "编号": "id", "工号": "id", "账号": "id",
    "name": "name", "姓名": "name",
    "unit": "unit", "单位": "unit", "部门": "unit", "所在单位": "unit",
    "roles": "roles", "角色": "roles",
    "email": "email", "邮箱": "email", "电子邮箱": "email",
    "phone": "phone", "电话": "phone", "手机": "phone", "联系电话": "phone",
    "wecom": "wecom", "企业微信": "wecom",
    "dingtalk": "dingtalk", "钉钉": "dingtalk",
    "channels": "channels", "通知方式": "channels",
    "accounts": "accounts", "系统账号": "accounts",
    "parent": "parent", "上级单位": "parent", "上级": "parent",
    "head": "head", "负责人": "head",
}  # fmt: skip
_PEOPLE_COLUMNS = {"id", "name", "unit", "roles", "channels", "accounts", *CONTACT_KEYS}
_UNIT_COLUMNS = {"unit", "parent", "head", "channels"}


def _split(cell: str) -> tuple[str, ...]:
    return tuple(x for x in (s.strip() for s in re.split(r"[;；|,，、]", cell)) if x)


def _from_csv(path: Path, text: str) -> OrgDoc:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise BadFile(path, "the file is empty")
    header = [_CSV_HEADERS.get(h.strip().lower(), _CSV_HEADERS.get(h.strip())) for h in rows[0]]
    unknown = [rows[0][i] for i, h in enumerate(header) if h is None]
    if unknown:
        known = ", ".join(sorted(set(_CSV_HEADERS.values())))
        raise BadFile(path, f"unknown column '{unknown[0]}' (known: {known})", key="row 1")
    doubled = sorted({h for h in header if header.count(h) > 1 and h})
    if doubled:
        raise BadFile(path, f"column '{doubled[0]}' appears twice", key="row 1")
    names: list[str] = [h for h in header if h]
    if "id" in names:
        allowed, kind = _PEOPLE_COLUMNS, "people"
    elif "name" in names or set(names) & {"roles", *CONTACT_KEYS}:
        raise BadFile(
            path, "a people sheet needs an id column (编号); a units sheet has unit, parent, head", key="row 1"
        )
    elif "unit" in names:
        allowed, kind = _UNIT_COLUMNS, "units"
    else:
        raise BadFile(
            path, "a people sheet needs columns id, name (编号, 姓名); a units sheet needs unit (单位)", key="row 1"
        )
    stray = [n for n in names if n not in allowed]
    if stray:
        raise BadFile(path, f"column '{stray[0]}' does not belong in a {kind} sheet", key="row 1")
    records: list[tuple[int, dict[str, str]]] = []
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise BadFile(path, f"has {len(cells)} cells; the header has {len(header)}", key=f"row {n}")
        records.append((n, dict(zip(names, (c.strip() for c in cells), strict=True))))
    given = frozenset(names)
    if kind == "people":
        people = []
        for n, r in records:
            if not r.get("id") or not r.get("name"):
                raise BadFile(path, "id and name are required", key=f"row {n}")
            people.append(
                PersonDef(
                    id=r["id"],
                    name=r["name"],
                    unit=r.get("unit") or None,
                    roles=_split(r.get("roles", "")),
                    contacts={c: r[c] for c in CONTACT_KEYS if r.get(c)},
                    channels=_split(r["channels"]) if r.get("channels") else None,
                    given=given,
                    accounts=_split(r["accounts"]) if r.get("accounts") else None,
                )
            )
        return OrgDoc((), tuple(people))
    units = []
    for n, r in records:
        if not r.get("unit"):
            raise BadFile(path, "the unit name is required", key=f"row {n}")
        units.append(
            UnitDef(
                name=r["unit"],
                parent=r.get("parent") or None,
                head=r.get("head") or None,
                channels=_split(r["channels"]) if r.get("channels") else None,
                given=frozenset("name" if g == "unit" else g for g in given),
            )
        )
    return OrgDoc(tuple(units), ())


def _only(path: Path, mapping: dict[str, Any], allowed: set[str], key: str) -> None:
    extra = sorted(set(map(str, mapping)) - allowed)
    if extra:
        raise BadFile(path, f"unknown key (allowed: {', '.join(sorted(allowed))})", key=f"{key}.{extra[0]}")


def _scalar(path: Path, value: object, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadFile(path, f"expected text, found {type(value).__name__}", key=key)
    text = str(value)
    try:
        return check_text(text, key, max_len=200)
    except InvalidInput as exc:
        raise BadFile(path, exc.params["detail"], key=key) from None


def _req(path: Path, mapping: dict[str, Any], name: str, key: str) -> str:
    value = mapping.get(name)
    if value is None or not str(value).strip():
        raise BadFile(path, "is required", key=f"{key}.{name}")
    return _scalar(path, value, f"{key}.{name}")


def _opt(path: Path, mapping: dict[str, Any], name: str, key: str) -> str | None:
    value = mapping.get(name)
    if value is None:
        return None
    return _scalar(path, value, f"{key}.{name}") or None


def _names(path: Path, mapping: dict[str, Any], name: str, key: str) -> tuple[str, ...] | None:
    value = mapping.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadFile(path, "expected a list of names", key=f"{key}.{name}")
    return tuple(value)


def validate_org(
    path: Path,
    doc: OrgDoc,
    known_units: set[str],
    known_people: set[str],
    known_parents: dict[str, str | None] | None = None,
) -> None:
    """Refuse the whole file at its first inconsistency, naming the entry: one check per group of fields."""
    names = _unit_names(path, doc)
    _check_aliases(path, doc, names)
    all_units = set(names) | known_units
    ids = _person_ids(path, doc, all_units)
    _check_accounts(path, doc)
    _check_channels(path, doc)
    _check_unit_links(path, doc, all_units, set(ids) | known_people)
    # The tree as it will stand: the database's parents, changed by what the file states.
    _check_no_cycle(
        path, doc, {**(known_parents or {}), **{u.name: u.parent for u in doc.units if "parent" in u.given}}
    )


def _unit_names(path: Path, doc: OrgDoc) -> dict[str, int]:
    """unit name → its index; a name given twice is refused."""
    names: dict[str, int] = {}
    for i, u in enumerate(doc.units):
        if u.name in names:
            raise BadFile(
                path, f"unit '{u.name}' is defined twice (also units[{names[u.name]}])", key=f"units[{i}].name"
            )
        names[u.name] = i
    return names


def _check_aliases(path: Path, doc: OrgDoc, names: dict[str, int]) -> None:
    """An alias names one unit only, and never another unit's name."""
    owner: dict[str, int] = {}
    for i, u in enumerate(doc.units):
        for alias in u.aliases or ():
            if alias in names and alias != u.name:
                raise BadFile(
                    path,
                    f"alias '{alias}' is the name of another unit (units[{names[alias]}])",
                    key=f"units[{i}].aliases",
                )
            if alias in owner and owner[alias] != i:
                other = doc.units[owner[alias]].name
                raise BadFile(
                    path, f"alias '{alias}' is given to two units ({other} and {u.name})", key=f"units[{i}].aliases"
                )
            owner[alias] = i


def _person_ids(path: Path, doc: OrgDoc, all_units: set[str]) -> dict[str, int]:
    """person id → its index; each person's id is unique, their unit known and their roles real."""
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
    return ids


def _check_accounts(path: Path, doc: OrgDoc) -> None:
    """Accounts are os:, pg: or web: names, and one account is one person."""
    owners: dict[str, int] = {}
    for i, p in enumerate(doc.people):
        for account in p.accounts or ():
            if not re.fullmatch(r"(os|pg|web):[A-Za-z0-9._@-]{1,64}", account):
                raise BadFile(
                    path,
                    f"'{account}' is not os:ACCOUNT, pg:ROLE or web:NAME (e.g. os:fenglei)",
                    key=f"people[{i}].accounts",
                )
            if account in owners:
                raise BadFile(
                    path,
                    f"account '{account}' is given to two people (also people[{owners[account]}]); one account is one person",
                    key=f"people[{i}].accounts",
                )
            owners[account] = i


def _check_channels(path: Path, doc: OrgDoc) -> None:
    entries = [(f"people[{i}]", p.channels) for i, p in enumerate(doc.people)]
    entries += [(f"units[{i}]", u.channels) for i, u in enumerate(doc.units)]
    for where, channels in entries:
        for c in channels or ():
            if c not in CHANNELS:
                raise BadFile(path, f"unknown channel '{c}' (known: {', '.join(CHANNELS)})", key=f"{where}.channels")


def _check_unit_links(path: Path, doc: OrgDoc, all_units: set[str], all_people: set[str]) -> None:
    """A unit's parent is a unit and its head a person, in the file or already stored."""
    for i, u in enumerate(doc.units):
        if u.parent is not None and u.parent not in all_units:
            raise BadFile(
                path, f"unknown parent unit '{u.parent}'{near(u.parent, all_units)}", key=f"units[{i}].parent"
            )
        if u.head is not None and u.head not in all_people:
            raise BadFile(path, f"unknown person '{u.head}'{near(u.head, all_people)}", key=f"units[{i}].head")


def _check_no_cycle(path: Path, doc: OrgDoc, parents: dict[str, str | None]) -> None:
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
