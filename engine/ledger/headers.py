"""Column headers as offices write them, read as duban's fields.

Every office names its columns a little differently (问题 / 存在问题 / 问题描述
/ 反馈问题 …), in Chinese or English, sometimes with a hint in brackets
("整改时限（年月日）") or a required-field star. Headers are compared after
normalising all of that away; a ``--mapping`` file names the unusual ones.
The header row is looked for below the title rows a ledger usually starts with.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.errors import BadFile
from ..domain.text import Bilingual
from ..domain.yamlload import load_yaml

# field → its label (the export's header), then the variants recognised on import
FIELDS: dict[str, tuple[Bilingual, tuple[str, ...]]] = {
    "seq": (Bilingual("序号", "No."), ("序号", "序", "no", "no.", "#", "number", "seq", "item")),
    "problem": (
        Bilingual("问题", "Problem"),
        (
            "问题",
            "存在问题",
            "问题描述",
            "反馈问题",
            "问题清单",
            "主要问题",
            "具体问题",
            "问题表现",
            "problem",
            "problems",
            "issue",
            "problem description",
            "description",
        ),
    ),
    "measures": (
        Bilingual("整改措施", "Measures"),
        ("整改措施", "整改举措", "措施", "整改方案", "measures", "measure", "rectification measures", "actions"),
    ),
    "leader": (
        Bilingual("责任领导", "Lead leader"),
        ("责任领导", "牵头领导", "分管领导", "包保领导", "lead leader", "leader", "responsible leader"),
    ),
    "unit": (
        Bilingual("责任单位", "Responsible unit"),
        (
            "责任单位",
            "责任部门",
            "牵头单位",
            "牵头部门",
            "责任科室",
            "responsible unit",
            "unit",
            "lead unit",
            "department",
        ),
    ),
    "co_units": (
        Bilingual("配合单位", "Co-units"),
        ("配合单位", "配合部门", "协办单位", "co-units", "co-unit", "supporting units", "cooperating units"),
    ),
    "person": (
        Bilingual("责任人", "Responsible person"),
        ("责任人", "具体责任人", "经办人", "responsible person", "person in charge", "person"),
    ),
    "deadline": (
        Bilingual("整改时限", "Deadline"),
        ("整改时限", "完成时限", "整改期限", "时限", "deadline", "time limit", "due date", "due"),
    ),
    "status": (
        Bilingual("整改进展", "Progress"),
        (
            "整改进展",
            "完成情况",
            "整改情况",
            "整改结果",
            "进展情况",
            "整改进度",
            "progress",
            "completion",
            "result",
            "status of rectification",
        ),
    ),
    "category": (
        Bilingual("问题类别", "Category"),
        ("问题类别", "类别", "问题类型", "类型", "问题分类", "category", "type"),
    ),
    "title": (Bilingual("标题", "Title"), ("标题", "任务名称", "title")),
    # 立项: where the problem comes from, one of the workflow's sources, with its document number and date
    "source": (Bilingual("问题来源", "Source"), ("问题来源", "来源", "问题出处", "立项来源", "交办来源", "source")),
    "source_ref": (
        Bilingual("来源文号", "Source reference"),
        ("来源文号", "来源依据", "文号", "source reference", "source ref"),
    ),
    "source_date": (Bilingual("来源日期", "Source date"), ("来源日期", "来源文件日期", "source date")),
    "priority": (Bilingual("优先级", "Priority"), ("优先级", "priority")),
    "campaign": (Bilingual("批次", "Campaign"), ("批次", "专项", "campaign")),
    "code": (Bilingual("编号", "Code"), ("编号", "任务编号", "code")),
    "state": (Bilingual("状态", "State"), ("状态", "state", "status")),
    "note": (
        Bilingual("最新进展", "Last progress note"),
        ("最新进展", "进展说明", "last progress note", "latest progress", "note"),
    ),
    "closed_on": (
        Bilingual("销号日期", "Closed on"),
        ("销号日期", "销号时间", "完成时间", "完成日期", "办结时间", "办结日期", "closed on"),
    ),
    "assigned_on": (
        Bilingual("交办日期", "Assigned on"),
        ("交办日期", "交办时间", "下发日期", "下发时间", "assigned on"),
    ),
    "target": (
        Bilingual("整改目标", "Target"),
        ("整改目标", "整改标准", "销号标准", "整改目标及标准", "target", "closing standard"),
    ),
    # the export's computed date beside the deadline as written; read back as that date
    "deadline_date": (Bilingual("完成时限(日期)", "Deadline (date)"), ("完成时限(日期)", "deadline (date)")),
    # 签收时限 and 签收时间 come from the workflow's policy and the start step: exported, never imported
    "sign_by": (Bilingual("签收时限", "Sign for by"), ("签收时限", "sign for by")),
    "signed_at": (Bilingual("签收时间", "Signed for at"), ("签收时间", "signed for at")),
    # 牵头/配合: each co-unit's part as the export's day found it; exported, never imported
    "co_unit_parts": (Bilingual("配合情况", "Co-units' parts"), ("配合情况", "co-units' parts")),
    # written by an export or a rejects file, read back without complaint
    "light": (Bilingual("灯", "Light"), ("灯", "红黄绿灯", "light")),
    "days_overdue": (Bilingual("逾期天数", "Days overdue"), ("逾期天数", "逾期工作日", "days overdue")),
    "source_row": (Bilingual("原行号", "Source row"), ("原行号", "source row")),
    "reason": (Bilingual("错误原因", "Reason"), ("错误原因", "reason")),
}
INFORMATIONAL = frozenset(
    {"light", "days_overdue", "source_row", "reason", "sign_by", "signed_at", "co_unit_parts"}
)  # recognised, never imported
REQUIRED = ("problem", "unit", "leader")
IGNORE = "ignore"
FIELD_PREFIX = "field:"  # a workflow's own field, e.g. field:household
LOOKAHEAD_ROWS = 30


def normalise(header: str) -> str:
    """Full-width forms, case, spaces, line breaks, stars and a trailing colon do not matter."""
    text = unicodedata.normalize("NFKC", header).lower()
    text = re.sub(r"\s+", "", text)
    return text.strip("*※").rstrip(":")


def _without_hint(norm: str) -> str:
    return re.sub(r"\([^)]*\)", "", norm)


def _builtin_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for key, (_label, variants) in FIELDS.items():
        for v in variants:
            index.setdefault(normalise(v), key)
    return index


_INDEX = _builtin_index()


def label(field_key: str) -> Bilingual:
    spec = FIELDS.get(field_key)
    return spec[0] if spec else Bilingual(field_key, field_key)


@dataclass(frozen=True)
class Vocabulary:
    """Which header means which field: the built-in variants, a workflow's fields, a mapping file."""

    mapping: Mapping[str, str] = field(default_factory=dict)  # normalised header → field (or IGNORE)
    extra: Mapping[str, str] = field(default_factory=dict)  # normalised header → field:KEY

    def field_of(self, header: str) -> str | None:
        norm = normalise(header)
        if not norm:
            return None
        for candidate in (norm, _without_hint(norm)):
            for index in (self.mapping, self.extra, _INDEX):
                if candidate in index:
                    return index[candidate]
        return None


def workflow_headers(fields: Mapping[str, Bilingual]) -> dict[str, str]:
    """A workflow's typed fields are columns too, by key or by either label (帮扶户 / household)."""
    out: dict[str, str] = {}
    for key, lab in fields.items():
        for name in (key, lab.zh, lab.en):
            out.setdefault(normalise(name), FIELD_PREFIX + key)
    return out


def load_mapping(path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return read_mapping(path, extra)[0]


def read_mapping(path: Path, extra: Mapping[str, str] | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """``--mapping FILE``: (headers → fields, status words → states).

    A YAML mapping may have a ``status:`` section of the office's own status words:
    ``status: {未完成: in_progress}``; the states are checked against the workflow by the caller.

    ``--mapping FILE``: YAML (``原表头: 问题``) or CSV (two columns: header, field).

    The target may be a field key (problem), any header duban knows (问题, 问题描述),
    a workflow field, or ``ignore`` to leave a column out.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadFile(path, f"cannot read it ({exc.strerror or exc})") from None
    text = decode_text(path, raw)
    pairs: list[tuple[str, str]] = []
    statuses: dict[str, str] = {}
    if path.suffix.lower() == ".csv":
        for i, row in enumerate(csv.reader(io.StringIO(text)), 1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if len(cells) < 2:
                raise BadFile(path, "expected two columns: the header in the ledger, and the field", key=f"row {i}")
            if i == 1 and normalise(cells[1]) in ("field", "字段", "对应字段", "目标"):
                continue  # a header row
            pairs.append((cells[0], cells[1]))
    else:
        doc = load_yaml(text, path)
        if not isinstance(doc, dict):
            raise BadFile(path, "expected a mapping of ledger headers to fields, e.g. '反馈问题内容: 问题'")
        words = doc.get("status") if isinstance(doc.get("status"), dict) else None
        if words is not None:
            for word, state in words.items():
                if not str(word).strip() or not isinstance(state, str) or not state.strip():
                    raise BadFile(
                        path, "expected a status word and a state, e.g. '未完成: in_progress'", key=f"status.{word}"
                    )
                statuses[str(word).strip()] = state.strip()
        pairs = [
            (str(k), "" if v is None else str(v)) for k, v in doc.items() if not (k == "status" and words is not None)
        ]
    known = {**_INDEX, **(extra or {})}
    out: dict[str, str] = {}
    for source, target in pairs:
        norm_target = normalise(target)
        if norm_target in ("", IGNORE, "忽略"):
            resolved = IGNORE
        elif target in FIELDS:
            resolved = target
        elif norm_target in known:
            resolved = known[norm_target]
        else:
            fields = ", ".join(k for k in FIELDS if k not in INFORMATIONAL)
            raise BadFile(path, f"'{target}' is not a field (fields: {fields}, or ignore)", key=source)
        out[normalise(source)] = resolved
    return out, statuses


def decode_text(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030: what Chinese office software saves."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            raise BadFile(path, "not text in UTF-8 or GB18030") from None


@dataclass(frozen=True)
class Header:
    row: int  # its row number in the sheet
    columns: dict[int, str]  # column index → field
    texts: dict[int, str]  # column index → the header as written
    ignored: tuple[str, ...]  # headers no field was found for
    extras: dict[int, str] = field(default_factory=dict)  # column index → header, of the unrecognised columns

    def column_of(self, field_key: str) -> int | None:
        for i, f in self.columns.items():
            if f == field_key:
                return i
        return None

    def text_of(self, field_key: str) -> str:
        i = self.column_of(field_key)
        return self.texts[i] if i is not None else label(field_key).zh


def find_header(path: Path, rows: Iterator[tuple[int, list[str]]], vocabulary: Vocabulary) -> Header:
    """The header row, below any title rows; ``rows`` is left at the first row after it."""
    seen: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        recognised = {i: vocabulary.field_of(c) for i, c in enumerate(cells) if c}
        fields = [f for f in recognised.values() if f and f != IGNORE]
        if len(set(fields)) >= 3 or ("problem" in fields and len(set(fields)) >= 2):
            return _header(path, number, cells, recognised)
        seen.append((number, cells))
        if len(seen) >= LOOKAHEAD_ROWS:
            break
    found = "; ".join(" | ".join(c for c in cells if c)[:120] for _n, cells in seen[:3] if any(cells))
    raise BadFile(
        path,
        f"no header row (序号, 问题, 整改措施, 责任单位, 责任领导, …) in the first {LOOKAHEAD_ROWS} rows"
        + (f"; the first rows read: {found}" if found else "; the sheet is empty")
        + "; name unusual headers with --mapping FILE",
    )


def _header(path: Path, number: int, cells: list[str], recognised: dict[int, str | None]) -> Header:
    columns: dict[int, str] = {}
    texts: dict[int, str] = {}
    ignored: list[str] = []
    extras: dict[int, str] = {}
    first_of: dict[str, str] = {}
    for i, f in recognised.items():
        if f is None:
            ignored.append(cells[i])
            extras[i] = cells[i]
            continue
        if f == IGNORE:
            continue
        if f in first_of:
            raise BadFile(
                path,
                f"columns '{first_of[f]}' and '{cells[i]}' both read as {label(f).zh} ({f}); "
                "say which is which with --mapping FILE",
                key=f"row {number}",
            )
        first_of[f] = cells[i]
        columns[i] = f
        texts[i] = cells[i]
    missing = [f for f in REQUIRED if f not in first_of]
    if missing:
        names = "、".join(f"{label(f).zh} ({f})" for f in missing)
        found = " | ".join(c for c in cells if c)
        raise BadFile(
            path,
            Bilingual(
                f"表头缺少这些列：{'、'.join(label(f).zh for f in missing)}；现有表头：{found}；"
                "请改表头，或用 --mapping 文件 指明哪一列是它",
                f"the header row has no column for {names}; headers found: {found}; name the column with --mapping FILE",
            ),
            key=Bilingual(f"第{number}行", f"row {number}"),
        )
    return Header(number, columns, texts, tuple(ignored), extras)
