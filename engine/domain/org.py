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
from .osreason import os_reason
from .text import Bilingual
from .textcheck import check_text
from .workflow import ROLES
from .yamlload import load_yaml

CONTACT_KEYS = ("email", "phone", "wecom", "dingtalk")
CHANNELS = ("console", "file", "email", "webhook", "wecom", "dingtalk")
DIGESTS = ("daily", "none")  # digest: one message per working morning (daily), or none
NOTIFY_MODES = ("digest", "each")  # notify: per-task messages folded into the digest, or each sent as it comes


@dataclass(frozen=True, slots=True)
class UnitDef:
    name: str
    parent: str | None = None
    head: str | None = None
    channels: tuple[str, ...] | None = None
    given: frozenset[str] = frozenset({"name", "parent", "head"})  # what the file states; the rest is kept
    aliases: tuple[str, ...] | None = None  # the short names ledgers use: 县住建局, 住建局
    digest: str | None = None  # daily: its people receive a daily digest (unless their own entry says none)


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
    digest: str | None = None  # daily or none; unset: as their unit says
    notify: str | None = None  # digest (fold per-task messages into the digest) or each; unset: digest


@dataclass(frozen=True, slots=True)
class OrgDoc:
    units: tuple[UnitDef, ...]
    people: tuple[PersonDef, ...]


def near(word: str, candidates: list[str] | set[str]) -> str:
    """', did you mean X?' when something close exists; the hint most typos need."""
    return near_both(word, candidates).en


def near_both(word: str, candidates: list[str] | set[str]) -> Bilingual:
    """The same hint for either reader: （是否应为 X？） / (did you mean X?)."""
    matches = difflib.get_close_matches(word, list(candidates), n=3, cutoff=0.5)
    if not matches:
        return Bilingual("", "")
    return Bilingual(f"（是否应为 {' / '.join(matches)}？）", f" (did you mean {' / '.join(matches)}?)")


_TYPE_ZH = {"str": "文本", "int": "整数", "float": "数字", "bool": "是/否", "list": "列表", "dict": "映射"}


def found(value: object) -> Bilingual:
    """What a file held where something else was expected, as each reader names it."""
    name = type(value).__name__
    return Bilingual(_TYPE_ZH.get(name, "空值" if value is None else "其他内容"), name)


def row(n: int) -> Bilingual:
    """Where in a CSV sheet: 第 N 行 / row N."""
    return Bilingual(f"第 {n} 行", f"row {n}")


def _bad(path: Path, zh: str, en: str, key: str | Bilingual | None = None) -> BadFile:
    return BadFile(path, Bilingual(zh, en), key=key)


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
        raise _bad(
            path,
            "是文件夹；请给出组织架构文件（.yaml、.yml 或 .csv）",
            "is a folder; give an organisation file (.yaml, .yml or .csv)",
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        why = os_reason(exc)
        raise _bad(path, f"无法读取（{why.zh}）；请检查路径和权限", f"cannot read it ({why.en})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise _bad(
                path, "不是 UTF-8 或 GB18030 编码的文本；请另存为 UTF-8 后重试", "not text in UTF-8 or GB18030"
            ) from None
    if "\x00" in text:
        raise _bad(path, "含有空字符（NUL），不是文本文件", "contains NUL characters; it is not a text file")
    if path.suffix.lower() == ".csv":
        doc = _from_csv(path, text)
    elif path.suffix.lower() in (".yaml", ".yml"):
        doc = _from_yaml(path, text)
    else:
        raise _bad(
            path, "组织架构文件的扩展名应为 .yaml、.yml 或 .csv", "an organisation file ends in .yaml, .yml or .csv"
        )
    validate_org(path, doc, known_units or set(), known_people or set(), known_parents or {})
    return doc


_UNIT_KEYS = {"name", "parent", "head", "channels", "aliases", "digest"}
_PERSON_KEYS = {"id", "name", "unit", "roles", "channels", "accounts", "digest", "notify", *CONTACT_KEYS}


def _from_yaml(path: Path, text: str) -> OrgDoc:
    doc = load_yaml(text, path)
    if not isinstance(doc, dict):
        raise _bad(
            path,
            "应为含 units（单位）和 people（人员）两部分的映射",
            "expected a mapping with 'units' and 'people'",
        )
    extra = set(doc) - {"units", "people"}
    if extra:
        raise _bad(
            path,
            "无此键（可用：units、people）",
            "unknown key (allowed: units, people)",
            key=sorted(map(str, extra))[0],
        )
    for section in ("units", "people"):
        if doc.get(section) is not None and not isinstance(doc[section], list):
            kind = found(doc[section])
            raise _bad(path, f"应为列表，实为{kind.zh}", f"expected a list, found {kind.en}", key=section)
    units = []
    for i, u in enumerate(doc.get("units") or []):
        key = f"units[{i}]"
        if not isinstance(u, dict):
            raise _bad(
                path,
                "每个单位应为映射 {name, parent?, head?, channels?}（名称，可选上级单位、负责人、通知方式）",
                "expected a mapping {name, parent?, head?, channels?}",
                key=key,
            )
        _only(path, u, _UNIT_KEYS, key)
        units.append(
            UnitDef(
                name=_req(path, u, "name", key),
                parent=_opt(path, u, "parent", key),
                head=_opt(path, u, "head", key),
                channels=_names(path, u, "channels", key),
                given=frozenset(map(str, u)),
                aliases=_names(path, u, "aliases", key),
                digest=_opt(path, u, "digest", key),
            )
        )
    people = []
    for i, p in enumerate(doc.get("people") or []):
        key = f"people[{i}]"
        if not isinstance(p, dict):
            raise _bad(
                path,
                "每名人员应为映射 {id, name, unit?, roles, email?, phone?}（编号、姓名，可选单位、角色、邮箱、电话）",
                "expected a mapping {id, name, unit?, roles, email?, phone?}",
                key=key,
            )
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
                digest=_opt(path, p, "digest", key),
                notify=_opt(path, p, "notify", key),
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
    "digest": "digest", "每日摘要": "digest",
    "notify": "notify", "通知模式": "notify",
}  # fmt: skip
_PEOPLE_COLUMNS = {"id", "name", "unit", "roles", "channels", "accounts", "digest", "notify", *CONTACT_KEYS}
_UNIT_COLUMNS = {"unit", "parent", "head", "channels", "digest"}


def _split(cell: str) -> tuple[str, ...]:
    return tuple(x for x in (s.strip() for s in re.split(r"[;；|,，、]", cell)) if x)


def _from_csv(path: Path, text: str) -> OrgDoc:
    """A people sheet (编号, 姓名, …) or a units sheet (单位, 上级单位, 负责人), told apart by its header."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise _bad(path, "文件是空的", "the file is empty")
    header = _csv_header(path, rows[0])
    names: list[str] = [h for h in header if h]
    kind = _csv_kind(path, rows[0], header, names)
    records = _csv_records(path, rows, header, names)
    given = frozenset(names)
    if kind == "people":
        return OrgDoc((), tuple(_csv_person(path, n, r, given) for n, r in records))
    return OrgDoc(tuple(_csv_unit(path, n, r, given) for n, r in records), ())


def _csv_header(path: Path, first: list[str]) -> list[str | None]:
    """The header row as field names (Chinese or English headings); an unknown or doubled column is refused."""
    header = [_CSV_HEADERS.get(h.strip().lower(), _CSV_HEADERS.get(h.strip())) for h in first]
    unknown = [first[i] for i, h in enumerate(header) if h is None]
    if unknown:
        known = ", ".join(sorted(set(_CSV_HEADERS.values())))
        raise _bad(
            path,
            f"无法识别的列 '{unknown[0]}'（可用：编号、姓名、单位、角色、邮箱、电话、企业微信、钉钉、通知方式、"
            f"系统账号、上级单位、负责人、每日摘要、通知模式，或英文 {known.replace(', ', '、')}）",
            f"unknown column '{unknown[0]}' (known: {known})",
            key=row(1),
        )
    doubled = sorted({h for h in header if header.count(h) > 1 and h})
    if doubled:
        written = "、".join(f"'{first[i].strip()}'" for i, h in enumerate(header) if h == doubled[0])
        raise _bad(
            path, f"列 {written} 是同一列，出现了两次；请只保留一列", f"column '{doubled[0]}' appears twice", key=row(1)
        )
    return header


def _csv_kind(path: Path, first: list[str], header: list[str | None], names: list[str]) -> str:
    """people or units, by the columns; a column of the other kind of sheet is refused."""
    if "id" in names:
        allowed, kind = _PEOPLE_COLUMNS, "people"
    elif "name" in names or set(names) & {"roles", *CONTACT_KEYS}:
        raise _bad(
            path,
            "人员表须有“编号”列；单位表的列为“单位”“上级单位”“负责人”",
            "a people sheet needs an id column (编号); a units sheet has unit, parent, head",
            key=row(1),
        )
    elif "unit" in names:
        allowed, kind = _UNIT_COLUMNS, "units"
    else:
        raise _bad(
            path,
            "人员表须有“编号”“姓名”两列；单位表须有“单位”列",
            "a people sheet needs columns id, name (编号, 姓名); a units sheet needs unit (单位)",
            key=row(1),
        )
    stray = [n for n in names if n not in allowed]
    if stray:
        sheet = "人员表" if kind == "people" else "单位表"
        written = next(first[i].strip() for i, h in enumerate(header) if h == stray[0])
        raise _bad(
            path,
            f"列 '{written}' 不属于{sheet}；单位和人员请分两个文件导入",
            f"column '{stray[0]}' does not belong in a {kind} sheet",
            key=row(1),
        )
    return kind


def _csv_records(
    path: Path, rows: list[list[str]], header: list[str | None], names: list[str]
) -> list[tuple[int, dict[str, str]]]:
    """(row number, field → cell) of the rows that say anything; a row of the wrong width is refused."""
    records: list[tuple[int, dict[str, str]]] = []
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise _bad(
                path,
                f"有 {len(cells)} 格，表头有 {len(header)} 列；请补齐或删去多余的格",
                f"has {len(cells)} cells; the header has {len(header)}",
                key=row(n),
            )
        records.append((n, dict(zip(names, (c.strip() for c in cells), strict=True))))
    return records


def _csv_person(path: Path, n: int, r: dict[str, str], given: frozenset[str]) -> PersonDef:
    if not r.get("id") or not r.get("name"):
        raise _bad(path, "编号和姓名必须填写", "id and name are required", key=row(n))
    return PersonDef(
        id=r["id"],
        name=r["name"],
        unit=r.get("unit") or None,
        roles=_split(r.get("roles", "")),
        contacts={c: r[c] for c in CONTACT_KEYS if r.get(c)},
        channels=_split(r["channels"]) if r.get("channels") else None,
        given=given,
        accounts=_split(r["accounts"]) if r.get("accounts") else None,
        digest=r.get("digest") or None,
        notify=r.get("notify") or None,
    )


def _csv_unit(path: Path, n: int, r: dict[str, str], given: frozenset[str]) -> UnitDef:
    if not r.get("unit"):
        raise _bad(path, "单位名称必须填写", "the unit name is required", key=row(n))
    return UnitDef(
        name=r["unit"],
        parent=r.get("parent") or None,
        head=r.get("head") or None,
        channels=_split(r["channels"]) if r.get("channels") else None,
        given=frozenset("name" if g == "unit" else g for g in given),
        digest=r.get("digest") or None,
    )


def _only(path: Path, mapping: dict[str, Any], allowed: set[str], key: str) -> None:
    extra = sorted(set(map(str, mapping)) - allowed)
    if extra:
        raise _bad(
            path,
            f"无此键（可用：{'、'.join(sorted(allowed))}）",
            f"unknown key (allowed: {', '.join(sorted(allowed))})",
            key=f"{key}.{extra[0]}",
        )


def _scalar(path: Path, value: object, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        kind = found(value)
        raise _bad(path, f"应为文字，实为{kind.zh}", f"expected text, found {kind.en}", key=key)
    text = str(value)
    try:
        return check_text(text, key, max_len=200)
    except InvalidInput as exc:
        raise BadFile(path, exc.params["detail"], key=key) from None


def _req(path: Path, mapping: dict[str, Any], name: str, key: str) -> str:
    value = mapping.get(name)
    if value is None or not str(value).strip():
        raise _bad(path, "必须填写", "is required", key=f"{key}.{name}")
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
        raise _bad(path, "应为名称列表，如 [a, b]", "expected a list of names", key=f"{key}.{name}")
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
    _check_digests(path, doc)
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
            raise _bad(
                path,
                f"单位“{u.name}”重复定义（另见 units[{names[u.name]}]）；请删去其一",
                f"unit '{u.name}' is defined twice (also units[{names[u.name]}])",
                key=f"units[{i}].name",
            )
        names[u.name] = i
    return names


def _check_aliases(path: Path, doc: OrgDoc, names: dict[str, int]) -> None:
    """An alias names one unit only, and never another unit's name."""
    owner: dict[str, int] = {}
    for i, u in enumerate(doc.units):
        for alias in u.aliases or ():
            if alias in names and alias != u.name:
                raise _bad(
                    path,
                    f"简称 '{alias}' 是另一个单位的名称（units[{names[alias]}]）；请换一个简称",
                    f"alias '{alias}' is the name of another unit (units[{names[alias]}])",
                    key=f"units[{i}].aliases",
                )
            if alias in owner and owner[alias] != i:
                other = doc.units[owner[alias]].name
                raise _bad(
                    path,
                    f"简称 '{alias}' 同时给了两个单位（{other}和{u.name}）；一个简称只能指一个单位",
                    f"alias '{alias}' is given to two units ({other} and {u.name})",
                    key=f"units[{i}].aliases",
                )
            owner[alias] = i


def _person_ids(path: Path, doc: OrgDoc, all_units: set[str]) -> dict[str, int]:
    """person id → its index; each person's id is unique, their unit known and their roles real."""
    ids: dict[str, int] = {}
    for i, p in enumerate(doc.people):
        if p.id in ids:
            raise _bad(
                path,
                f"人员编号 '{p.id}' 重复使用（另见 people[{ids[p.id]}]）；每人编号须唯一",
                f"person id '{p.id}' is used twice (also people[{ids[p.id]}])",
                key=f"people[{i}].id",
            )
        ids[p.id] = i
        if p.unit is not None and p.unit not in all_units:
            hint = near_both(p.unit, all_units)
            raise _bad(
                path,
                f"没有单位 '{p.unit}'{hint.zh}；单位须在本文件 units 中或已导入",
                f"unknown unit '{p.unit}'{hint.en}",
                key=f"people[{i}].unit",
            )
        for role in p.roles:
            if role not in ROLES:
                raise _bad(
                    path,
                    f"没有角色 '{role}'（可用：{'、'.join(sorted(ROLES))}）",
                    f"unknown role '{role}' (known: {', '.join(sorted(ROLES))})",
                    key=f"people[{i}].roles",
                )
    return ids


def _check_accounts(path: Path, doc: OrgDoc) -> None:
    """Accounts are os:, pg: or web: names, and one account is one person."""
    owners: dict[str, int] = {}
    for i, p in enumerate(doc.people):
        for account in p.accounts or ():
            if not re.fullmatch(r"(os|pg|web):[A-Za-z0-9._@-]{1,64}", account):
                raise _bad(
                    path,
                    f"'{account}' 不是有效的账号：应写作 os:系统账号、pg:数据库角色 或 web:登录名（如 os:fenglei）",
                    f"'{account}' is not os:ACCOUNT, pg:ROLE or web:NAME (e.g. os:fenglei)",
                    key=f"people[{i}].accounts",
                )
            if account in owners:
                raise _bad(
                    path,
                    f"账号 '{account}' 同时给了两名人员（另见 people[{owners[account]}]）；一个账号只能对应一人",
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
                raise _bad(
                    path,
                    f"没有通知方式 '{c}'（可用：{'、'.join(CHANNELS)}）",
                    f"unknown channel '{c}' (known: {', '.join(CHANNELS)})",
                    key=f"{where}.channels",
                )


def _check_digests(path: Path, doc: OrgDoc) -> None:
    """digest is daily or none, notify is digest or each, and nobody asks to fold into a digest they refused."""
    entries = [(f"people[{i}]", p.digest) for i, p in enumerate(doc.people)]
    entries += [(f"units[{i}]", u.digest) for i, u in enumerate(doc.units)]
    for where, value in entries:
        if value is not None and value not in DIGESTS:
            raise _bad(
                path,
                f"没有摘要方式 '{value}'（可用：daily 每个工作日一份、none 不要摘要）",
                f"unknown digest '{value}' (known: daily, none)",
                key=f"{where}.digest",
            )
    for i, p in enumerate(doc.people):
        if p.notify is not None and p.notify not in NOTIFY_MODES:
            raise _bad(
                path,
                f"没有通知模式 '{p.notify}'（可用：digest 并入每日摘要、each 逐条发送）",
                f"unknown notify mode '{p.notify}' (known: digest, each)",
                key=f"people[{i}].notify",
            )
        if p.notify == "digest" and p.digest == "none":
            raise _bad(
                path,
                "notify: digest 要把逐条通知并入每日摘要，但 digest: none 不要摘要；请改其一",
                "notify: digest folds messages into the daily digest, but digest: none refuses it; change one",
                key=f"people[{i}].notify",
            )


def _check_unit_links(path: Path, doc: OrgDoc, all_units: set[str], all_people: set[str]) -> None:
    """A unit's parent is a unit and its head a person, in the file or already stored."""
    for i, u in enumerate(doc.units):
        if u.parent is not None and u.parent not in all_units:
            hint = near_both(u.parent, all_units)
            raise _bad(
                path,
                f"没有上级单位 '{u.parent}'{hint.zh}；上级单位须在本文件 units 中或已导入",
                f"unknown parent unit '{u.parent}'{hint.en}",
                key=f"units[{i}].parent",
            )
        if u.head is not None and u.head not in all_people:
            hint = near_both(u.head, all_people)
            raise _bad(
                path,
                f"没有人员 '{u.head}'{hint.zh}；负责人须写人员编号，且在本文件 people 中或已导入",
                f"unknown person '{u.head}'{hint.en}",
                key=f"units[{i}].head",
            )


def _check_no_cycle(path: Path, doc: OrgDoc, parents: dict[str, str | None]) -> None:
    for i, u in enumerate(doc.units):
        seen = {u.name}
        cur = parents.get(u.name)
        while cur is not None:
            if cur in seen:
                raise _bad(
                    path,
                    f"单位“{u.name}”的上级单位层层上溯又回到了它自己（上下级成环）；请改正 parent",
                    f"unit '{u.name}' is its own ancestor (a cycle of parents)",
                    key=f"units[{i}].parent",
                )
            seen.add(cur)
            cur = parents.get(cur)
