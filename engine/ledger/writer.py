"""Writing the ledger as a spreadsheet that is safe and pleasant to open.

Safe: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would run as a formula in Excel or WPS (CSV injection: a task title
like ``=HYPERLINK(…)`` typed by anyone who may assign). In XLSX such a cell is
written as text with Excel's own quote prefix, never as a formula; in CSV it is
prefixed with an apostrophe (which the importer removes again).
Pleasant: column widths, wrapped text, a frozen header, overdue rows in red.
The file appears whole or not at all (written beside, then renamed).
"""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from ..domain.errors import BadFile
from ..domain.formula import neutralise, starts_formula
from ..domain.osreason import os_reason
from ..domain.text import Bilingual

RED_FILL = "FFC7CE"
RED_FONT = "9C0006"
HEADER_FILL = "D9E1F2"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    width: int  # in Excel's character units
    wrap: bool = False


Cell = str | int | date | None


def export_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".csv":
        return "csv"
    raise BadFile(
        path,
        Bilingual(
            "台账导出为 .xlsx 或 .csv 文件，请用这两种扩展名之一命名",
            "the export is written as .xlsx or .csv; name the file accordingly",
        ),
    )


def write_ledger(
    path: Path, columns: list[Column], rows: Iterable[tuple[list[Cell], bool]], sheet_title: str = "整改台账"
) -> int:
    """Write the rows ((cells, overdue) pairs); returns how many. The file appears only once complete."""
    kind = export_format(path)
    with _replacing(path) as tmp:
        if kind == "csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                return _write_csv(fh, columns, rows)
        return _write_xlsx(tmp, columns, rows, sheet_title)


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise BadFile(path, Bilingual(f"文件夹 {folder} 不存在；请先建好文件夹", f"no folder {folder} to write into"))
    if path.is_dir():
        raise BadFile(
            path,
            Bilingual(
                "是文件夹；请给出以 .xlsx 或 .csv 结尾的文件名", "is a folder; give a file name ending in .xlsx or .csv"
            ),
        )
    # created like any file the user writes (umask applies), unlike mkstemp's private 0600
    tmp = folder / f".{path.name}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        why = os_reason(exc)
        raise BadFile(path, Bilingual(f"无法写入（{why.zh}）", f"cannot write it ({why.en})")) from None
    finally:
        tmp.unlink(missing_ok=True)


def _write_csv(fh: IO[str], columns: list[Column], rows: Iterable[tuple[list[Cell], bool]]) -> int:
    writer = csv.writer(fh)
    writer.writerow([neutralise(c.header) for c in columns])
    n = 0
    for cells, _overdue in rows:
        writer.writerow(["" if v is None else neutralise(v) if isinstance(v, str) else str(v) for v in cells])
        n += 1
    return n


def _write_xlsx(path: Path, columns: list[Column], rows: Iterable[tuple[list[Cell], bool]], title: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.styles.cell_style import StyleArray
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for i, col in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    thin = Side(style="thin", color="BFBFBF")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def styled(*, wrap: bool, overdue: bool, day: bool, quote: bool, header: bool = False) -> StyleArray:
        """A cell's style, built once through openpyxl's setters and copied to every cell like it.

        Setting border, fill and font on each of a million cells costs nine times as much.
        """
        c = WriteOnlyCell(ws)
        c.border = border
        if header:
            c.font = Font(bold=True)
            c.fill = PatternFill("solid", fgColor=HEADER_FILL)
            c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        else:
            c.alignment = Alignment(wrap_text=wrap, vertical="top")
            if overdue:
                c.fill = PatternFill("solid", fgColor=RED_FILL)
                c.font = Font(color=RED_FONT)
        if day:
            c.number_format = "yyyy-mm-dd"
        if quote:
            c.quotePrefix = True  # type: ignore[attr-defined]
        return StyleArray(c._style)

    styles: dict[tuple[bool, bool, bool, bool], StyleArray] = {}

    def cell(value: Any, column: Column, overdue: bool, header: bool = False) -> WriteOnlyCell:
        quote = False
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
            quote = starts_formula(value)
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # never a formula, whatever the text begins with
        key = (column.wrap and not header, overdue, isinstance(value, date), quote)
        template = styles.get(key) if not header else None
        if template is None:
            template = styled(wrap=key[0], overdue=overdue, day=key[2], quote=quote, header=header)
            if not header:
                styles[key] = template
        c._style = StyleArray(template)
        return c

    ws.append([cell(c.header, c, False, header=True) for c in columns])
    n = 0
    for values, overdue in rows:
        ws.append([cell(v, columns[i], overdue) for i, v in enumerate(values)])
        n += 1
    wb.save(path)
    return n
