"""Reading a ledger file row by row: XLSX (openpyxl, read-only) or CSV (UTF-8 with or without BOM, GB18030).

Rows are streamed, never loaded whole: a 100,000-row ledger is validated
in one pass with memory for the compact rows only. Merged cells (责任单位
merged over the rows it covers, a title merged across the sheet) are filled
from their top-left cell, which read-only mode does not do by itself: the
merge ranges are read from the sheet's XML first. Anything unreadable is a
BadFile that says what the file is and what to do with it.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from ..domain.errors import BadFile, InvalidInput
from ..domain.formula import unquote
from ..domain.text import Bilingual
from ..domain.textcheck import strip_blank
from .cells import cell_text

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20


@dataclass
class Source:
    """An open ledger file: which sheet, how big, and its rows as (row number, cell texts)."""

    path: Path
    kind: str  # xlsx or csv
    sheet: str  # "" for a CSV
    sheets: tuple[str, ...]
    size: int | None  # rows (XLSX) or bytes (CSV), for a progress bar
    rows: Iterator[tuple[int, list[str]]]
    encoding: str | None = None
    _position: list[int] = field(default_factory=lambda: [0])

    def position(self) -> int:
        """How far reading has got, in the unit of ``size``."""
        return self._position[0]


def file_kind(path: Path) -> str:
    if path.is_dir():
        raise BadFile(
            path,
            Bilingual("是文件夹；请给出台账文件（.xlsx 或 .csv）", "is a folder; give a ledger file (.xlsx or .csv)"),
        )
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise BadFile(path, _unreadable(exc)) from None
    if magic == _OLE_MAGIC:
        raise BadFile(
            path,
            Bilingual(
                "是旧版 Excel .xls 工作簿或加密的工作簿；请在 Excel 或 WPS 中另存为 .xlsx（或 CSV），不设密码",
                "is an old Excel .xls workbook or an encrypted one; save it as .xlsx (or CSV) without a password",
            ),
        )
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES or (magic == _ZIP_MAGIC and suffix not in CSV_SUFFIXES):
        return "xlsx"
    if suffix in CSV_SUFFIXES or not suffix:
        return "csv"
    raise BadFile(
        path,
        Bilingual(
            f"duban 不读取 '{suffix}' 格式的台账；请给出 .xlsx 或 .csv 文件（.xls 请在 Excel 或 WPS 中另存为 .xlsx）",
            f"'{suffix}' is not a ledger format duban reads; give an .xlsx or .csv file",
        ),
    )


@contextlib.contextmanager
def open_source(path: Path, sheet: str | None = None) -> Iterator[Source]:
    kind = file_kind(path)
    if kind == "xlsx":
        with _open_xlsx(path, sheet) as source:
            yield source
    else:
        if sheet:
            raise BadFile(
                path, Bilingual("CSV 文件没有工作表；去掉 --sheet", "a CSV file has no sheets; leave out --sheet")
            )
        with _open_csv(path) as source:
            yield source


# --- XLSX --------------------------------------------------------------------------------------------


_XLSX_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    TypeError,
    ElementTree.ParseError,
    SyntaxError,  # lxml's XMLSyntaxError, when openpyxl parses with lxml
    OSError,
)


MAX_UNPACKED_SETTING = "DUBAN_IMPORT_MAX_UNPACKED_MB"
DEFAULT_MAX_UNPACKED_MB = 200
_MB = 1 << 20
MAX_MEMBERS = 10_000  # a workbook has a few dozen parts; a million empty ones is a way to exhaust memory too


def max_unpacked_bytes(env: Mapping[str, str] | None = None) -> int:
    """The cap on what a workbook may unpack to, from DUBAN_IMPORT_MAX_UNPACKED_MB (environment or DUBAN_CONFIG).

    Read here rather than passed in so every reader of a workbook is capped,
    whichever service opens it.
    """
    from ..config.settings import Settings

    raw = Settings.from_env(env).extra.get(MAX_UNPACKED_SETTING, "").strip()
    if not raw:
        return DEFAULT_MAX_UNPACKED_MB * _MB
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes < 1 << 20:
        raise InvalidInput(
            what=MAX_UNPACKED_SETTING,
            detail=Bilingual(
                f"“{raw}”不是正数（单位 MB，默认 {DEFAULT_MAX_UNPACKED_MB}）",
                f"'{raw}' is not a positive number of megabytes (default {DEFAULT_MAX_UNPACKED_MB})",
            ),
        )
    return int(megabytes * _MB)


def _mb(size: int) -> str:
    return f"{size / _MB:,.1f}".rstrip("0").rstrip(".")


def _too_big(path: Path, size: int, cap: int, *, understated: bool) -> BadFile:
    """The refusal: what it unpacks to (or that its headers understate it), the cap, and what to do."""
    if understated:
        zh = f"解压后超过上限 {_mb(cap)} MB（其压缩包头少报了大小），未读取；"
        en = f"unpacks to more than the {_mb(cap)} MB allowed (its zip headers understate it), so it was not read; "
    else:
        zh = f"解压后 {_mb(size)} MB，超过上限 {_mb(cap)} MB，未读取；"
        en = f"unpacks to {_mb(size)} MB, more than the {_mb(cap)} MB allowed, so it was not read; "
    return BadFile(
        path,
        Bilingual(
            zh + f"若确为台账，请删去多余内容或另存为 CSV，或调高 {MAX_UNPACKED_SETTING}",
            en
            + f"if it really is a ledger, remove what it need not hold, save it as CSV, or raise {MAX_UNPACKED_SETTING}",
        ),
    )


def check_unpacked_size(path: Path, cap: int) -> int:
    """Refuse a workbook that unpacks past ``cap`` bytes, before any XML is parsed; returns the unpacked size.

    An XLSX is a zip of XML: 2 MB on disk can unpack to 2 GB, which openpyxl
    would hold (shared strings, styles) or parse. The sizes the zip declares
    are checked first, for free; then every part is decompressed through a
    bounded stream, a megabyte at a time, counting what actually comes out,
    so a zip whose declared sizes lie is stopped at the cap too (it costs
    one extra decompression pass, a fraction of parsing).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            if len(parts) > MAX_MEMBERS:
                raise BadFile(
                    path,
                    Bilingual(
                        f"包含 {len(parts):,} 个部件，不像 Excel 工作簿；请另存为 .xlsx",
                        f"holds {len(parts):,} parts, not what an Excel workbook looks like; save it again as .xlsx",
                    ),
                )
            declared = sum(p.file_size for p in parts)
            if declared > cap:
                raise _too_big(path, declared, cap, understated=False)
            unpacked = 0
            for part in parts:
                with archive.open(part) as stream:
                    while chunk := stream.read(_CHUNK):
                        unpacked += len(chunk)
                        if unpacked > cap:
                            raise _too_big(path, unpacked, cap, understated=True)
    except _XLSX_ERRORS as exc:
        raise BadFile(path, _damaged(exc)) from None
    return unpacked


@contextlib.contextmanager
def _open_xlsx(path: Path, sheet: str | None) -> Iterator[Source]:
    import openpyxl  # 0.15 s to import: only commands that read a workbook pay it

    check_unpacked_size(path, max_unpacked_bytes())
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS + (openpyxl.utils.exceptions.InvalidFileException,) as exc:
        raise BadFile(path, _damaged(exc)) from None
    try:
        names = tuple(wb.sheetnames)
        if sheet is not None:
            if sheet not in names:
                raise BadFile(
                    path,
                    Bilingual(
                        f"没有名为 '{sheet}' 的工作表（现有：{'、'.join(names)}）",
                        f"no sheet named '{sheet}' (sheets: {', '.join(names)})",
                    ),
                )
            ws = wb[sheet]
        else:
            worksheets = [w for w in wb.worksheets if hasattr(w, "iter_rows")]
            if not worksheets:
                raise BadFile(path, Bilingual("工作簿中没有工作表", "the workbook has no worksheet"))
            ws = worksheets[0]
        try:
            merges, uncalculated = _merged_ranges(path, ws)
            size = ws.max_row
            ws.reset_dimensions()  # some writers record a wrong size; read every row there is
        except _XLSX_ERRORS as exc:
            raise BadFile(
                path,
                Bilingual(
                    f"工作簿已损坏（{_reason(exc)}）；请重新另存为 .xlsx",
                    f"the workbook is damaged ({_reason(exc)}); save it again as .xlsx",
                ),
            ) from None
        position = [0]
        yield Source(
            path=path,
            kind="xlsx",
            sheet=ws.title,
            sheets=names,
            size=size,
            rows=_xlsx_rows(path, ws, merges, position, uncalculated),
            _position=position,
        )
    finally:
        wb.close()


def _merged_ranges(path: Path, ws: Any) -> tuple[list[tuple[int, int, int, int]], dict[tuple[int, int], str]]:
    """(min_row, min_col, max_row, max_col) of each merged range, 1-based; and the formula cells with no value.

    Read-only sheets do not expose merges, so the sheet's XML is scanned for
    <mergeCell ref="A3:A7"/> (they follow the cell data); should openpyxl
    ever stop offering the sheet's source, the workbook is opened fully instead.
    The same scan finds formula cells that were never calculated (<f> without a <v>): a workbook
    written by a program rather than saved by Excel or WPS. Their value is unknown, not empty.
    """
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    uncalculated: dict[tuple[int, int], str] = {}
    from openpyxl.utils.cell import range_boundaries

    refs: list[str] = []
    get_source = getattr(ws, "_get_source", None)
    if get_source is None:  # pragma: no cover - depends on openpyxl's internals
        import openpyxl

        full = openpyxl.load_workbook(path)
        refs = [str(r) for r in full[ws.title].merged_cells.ranges]
        full.close()
    else:
        with get_source() as source:
            for _event, elem in ElementTree.iterparse(source):
                tag = elem.tag.rsplit("}", 1)[-1]
                if tag in ("f", "v", "t", "is"):
                    continue  # read with their cell
                if tag == "c":
                    parts = {child.tag.rsplit("}", 1)[-1]: child for child in elem}
                    v = parts.get("v")
                    if "f" in parts and (v is None or not (v.text or "").strip()) and elem.get("r"):
                        ref = str(elem.get("r"))
                        try:
                            letters, row_no = coordinate_from_string(ref)
                            uncalculated[(row_no, column_index_from_string(letters))] = ref
                        except ValueError:
                            pass
                elif tag == "mergeCell":
                    merged = elem.get("ref")
                    if merged:
                        refs.append(merged)
                elem.clear()
    out = []
    for ref in refs:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        if min_col and min_row and max_col and max_row:
            out.append((min_row, min_col, max_row, max_col))
    return sorted(out), uncalculated


def _xlsx_rows(
    path: Path,
    ws: Any,
    merges: list[tuple[int, int, int, int]],
    position: list[int],
    uncalculated: dict[tuple[int, int], str] | None = None,
) -> Iterator[tuple[int, list[str]]]:
    pending = list(reversed(merges))  # popped in order of their first row
    active: list[tuple[int, int, int, int]] = []
    anchors: dict[tuple[int, int], str] = {}
    number = 0
    try:
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            position[0] = number
            cells = [cell_text(v) for v in values]
            if uncalculated:
                for (r, c), ref in uncalculated.items():
                    if r == number and (c > len(values) or values[c - 1] is None):
                        raise BadFile(
                            path,
                            Bilingual(
                                f"单元格 {ref} 是从未计算过的公式，值未知；请在 Excel 或 WPS 中打开并保存后重新导入",
                                f"cell {ref} holds a formula that was never calculated, so its value is unknown; "
                                "open the file in Excel or WPS, save it, and import again",
                            ),
                        )
            while pending and pending[-1][0] <= number:
                active.append(pending.pop())
            if active:
                for gone in [m for m in active if m[2] < number]:
                    anchors.pop((gone[0], gone[1]), None)
                active = [m for m in active if m[2] >= number]
                for min_row, min_col, _max_row, max_col in active:
                    if min_row == number:
                        anchors[(min_row, min_col)] = cells[min_col - 1] if min_col <= len(cells) else ""
                    value = anchors.get((min_row, min_col), "")
                    if len(cells) < max_col:
                        cells += [""] * (max_col - len(cells))
                    for c in range(min_col, max_col + 1):
                        cells[c - 1] = value
            yield number, cells
    except _XLSX_ERRORS as exc:
        raise BadFile(
            path,
            Bilingual(
                f"工作簿在第 {number} 行之后已损坏（{_reason(exc)}）；请重新另存为 .xlsx",
                f"the workbook is damaged after row {number} ({_reason(exc)}); save it again as .xlsx",
            ),
        ) from None


# --- CSV ---------------------------------------------------------------------------------------------


class _Counting(io.RawIOBase):
    """Counts the bytes read, for a progress bar that knows how far through the file it is."""

    def __init__(self, raw: IO[bytes], position: list[int]) -> None:
        self.raw = raw
        self.position = position

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        self.position[0] += n or 0
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def detect_encoding(path: Path) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM (Excel's 'Unicode text'), else GB18030 — checked over the whole file."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
            if head.startswith(codecs.BOM_UTF8):
                candidates = ["utf-8-sig"]
            elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                candidates = ["utf-16"]
            else:
                candidates = ["utf-8", "gb18030"]
            for encoding in candidates:
                fh.seek(0)
                decoder = codecs.getincrementaldecoder(encoding)()
                try:
                    while chunk := fh.read(_CHUNK):
                        decoder.decode(chunk)
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    continue
                return encoding
    except OSError as exc:
        raise BadFile(path, _unreadable(exc)) from None
    if candidates == ["utf-8-sig"]:
        raise BadFile(
            path,
            Bilingual(
                "开头是 UTF-8，后面却不是有效的 UTF-8（文件被截断或混合了编码？）",
                "starts like UTF-8 but is not valid UTF-8 throughout (a truncated or mixed file?)",
            ),
        )
    raise BadFile(
        path,
        Bilingual(
            "不是 UTF-8 或 GB18030 编码的文本；请在 Excel 中另存为“CSV UTF-8”",
            "is not text in UTF-8 or GB18030; save it as CSV UTF-8 from Excel",
        ),
    )


def _unreadable(exc: OSError) -> Bilingual:
    reason = exc.strerror or exc
    return Bilingual(f"无法读取（{reason}）", f"cannot read it ({reason})")


def _damaged(exc: BaseException) -> Bilingual:
    """An unreadable workbook: the clerk saves it again as .xlsx."""
    return Bilingual(
        f"不是可读取的 Excel 工作簿（{_reason(exc)}）；请重新另存为 .xlsx",
        f"is not a readable Excel workbook ({_reason(exc)}); save it again as .xlsx",
    )


def _delimiter(sample: str) -> str:
    """The separator on which most lines agree: the one that splits the most of the first 30 lines into the same
    number of fields (counted outside quoted cells), then the more fields, then ',' before tab before ';'.

    A table's rows agree on their columns; cells that happen to hold semicolons (measures, a remark) do not, so
    they no longer turn a comma-separated ledger into one read by ';', as counting the most on one line did."""
    lines = [re.sub(r'"(?:[^"]|"")*"', "", line) for line in sample.splitlines()[:30]]
    best, score = ",", (0, 0)
    for d in (",", "\t", ";"):
        splits = collections.Counter(n for line in lines if (n := line.count(d)))
        if splits:
            fields, agreeing = max(splits.items(), key=lambda kv: (kv[1], kv[0]))
            if (agreeing, fields) > score:
                best, score = d, (agreeing, fields)
    return best


@contextlib.contextmanager
def _open_csv(path: Path) -> Iterator[Source]:
    encoding = detect_encoding(path)
    position = [0]
    size = path.stat().st_size
    raw = path.open("rb", buffering=0)
    counting = _Counting(raw, position)
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(65536)
    text = io.TextIOWrapper(io.BufferedReader(counting, _CHUNK), encoding=encoding, newline="")
    try:
        yield Source(
            path=path,
            kind="csv",
            sheet="",
            sheets=(),
            size=size,
            rows=_csv_rows(path, text, _delimiter(sample), position),
            encoding=encoding,
            _position=position,
        )
    finally:
        text.close()


def _csv_rows(path: Path, text: IO[str], delimiter: str, position: list[int]) -> Iterator[tuple[int, list[str]]]:
    number = 0
    try:
        for number, row in enumerate(csv.reader(text, delimiter=delimiter), start=1):
            cells = [strip_blank(c) for c in row]  # a cell that only looks empty is empty (see cell_text)
            yield number, [unquote(c) if c[:1] == "'" else c for c in cells]
    except csv.Error as exc:
        raise BadFile(
            path,
            Bilingual(
                f"第 {number + 1} 行：无法按 CSV 读取（“{exc}”）；请在 Excel 中打开后另存为“CSV UTF-8”",
                f"row {number + 1}: not readable as CSV ({exc})",
            ),
        ) from None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"\s+", " ", text)[:200]
