"""The supervision notice (督办单) as PDF: a PDF, the same paragraphs as the Word document, the same bytes each time."""

from __future__ import annotations

import io
from datetime import date

from docx import Document
from pypdf import PdfReader

from duban.engine.domain.supervision_notices import NoticeReply, SupervisionNotice, demand_text
from duban.engine.reporting.notice_docx import notice_docx
from duban.engine.reporting.notice_pdf import notice_pdf

NOTICE = SupervisionNotice(
    key="ZG-2026-001:L3:v1",
    number="督办〔2026〕第12号",
    year=2026,
    seq=12,
    task="ZG-2026-001",
    title="老旧小区<雨污>分流 & 改造",  # markup characters print as themselves
    unit="城建局",
    leader="王建国",
    color="red",
    level=3,
    deadline=date(2026, 9, 11),
    deadline_version=1,
    days_overdue=10,
    issued_on=date(2026, 9, 24),
    reply_by=date(2026, 9, 29),
    issuer="市委督查室",
    earlier=("督办〔2026〕第3号",),
    demand=demand_text("red", date(2026, 9, 29)),
)


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _squeeze(text: str) -> str:
    return "".join(text.split())  # lines break anywhere between Chinese characters


def test_the_pdf_says_what_the_word_document_says() -> None:
    reply = NoticeReply(NOTICE.number, "fenglei", date(2026, 9, 30), "已完成管网铺设", late=True)
    data = notice_pdf(NOTICE, reply)
    assert data.startswith(b"%PDF-")
    words = _squeeze(_pdf_text(data))
    paragraphs = [p.text for p in Document(io.BytesIO(notice_docx(NOTICE, reply))).paragraphs]
    for paragraph in paragraphs:
        assert _squeeze(paragraph) in words
    for expected in (
        "市委督查室",
        "红色督办单",
        "督办〔2026〕第12号",
        "老旧小区<雨污>分流&改造",
        "反馈期限：2026年9月29日前",
    ):
        assert expected in words
    assert "逾期反馈" in words and "此前已就该任务下发督办〔2026〕第3号" in words


def test_the_same_notice_gives_the_same_bytes() -> None:
    assert notice_pdf(NOTICE) == notice_pdf(NOTICE)
    assert notice_pdf(NOTICE) != notice_pdf(NOTICE, NoticeReply(NOTICE.number, "x", date(2026, 9, 25), "好", False))


def test_the_pdf_names_its_notice_in_its_properties() -> None:
    meta = PdfReader(io.BytesIO(notice_pdf(NOTICE))).metadata
    assert meta is not None and meta.title == "红色督办单 督办〔2026〕第12号" and meta.author == "市委督查室"
