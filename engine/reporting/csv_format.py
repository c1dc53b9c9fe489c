"""The circular as one CSV file, for whoever wants the figures in their own spreadsheet.

UTF-8 with a byte-order mark, because Excel otherwise reads Chinese as the
local code page; sections one after another, each under a title row.
"""

from __future__ import annotations

import csv
import io

from duban.engine.domain.report import Report, headline, notes
from duban.engine.domain.text import Lang

from ..domain.formula import neutralise
from . import labels as L
from .tables import row_texts, sections


def render_csv(report: Report, lang: Lang) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([neutralise(L.title(report, lang))])
    w.writerow([neutralise(headline(report, lang))])
    for note in notes(report, lang):
        w.writerow([neutralise(note)])
    for section in sections(report, lang):
        w.writerow([])
        w.writerow([neutralise(section.title)])
        w.writerow([neutralise(c.label) for c in section.columns])
        for row in section.rows:
            # Only words from the ledger can smuggle a formula; a change like "-2" is ours and stays a number.
            texts = row_texts(section, row, lang)
            w.writerow([t if c.numeric else neutralise(t) for t, c in zip(texts, section.columns, strict=True)])
        if section.note:
            w.writerow([neutralise(section.note)])
    return out.getvalue().encode("utf-8-sig")
