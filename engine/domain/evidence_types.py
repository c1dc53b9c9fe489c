"""Which evidence files the web workspace accepts: photos, PDF and office documents, recognised by their bytes.

The name's extension must agree with the file's first bytes, so a script
renamed to .jpg is refused rather than stored and served back to a browser.
"""

from __future__ import annotations

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .xls, .ppt
ZIP = b"PK\x03\x04"  # .docx, .xlsx, .pptx
KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".doc": ("application/msword", (OLE,)),
    ".xls": ("application/vnd.ms-excel", (OLE,)),
    ".ppt": ("application/vnd.ms-powerpoint", (OLE,)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (ZIP,)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (ZIP,)),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (ZIP,)),
}
ACCEPTED = ", ".join(sorted(KINDS))


def extension(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot >= 0 else ""


def accepted(name: str, head: bytes) -> str | None:
    """The media type of an acceptable file, or None (unknown extension, or bytes that do not match it)."""
    kind = KINDS.get(extension(name))
    if kind is None:
        return None
    media, magics = kind
    if not any(head.startswith(m) for m in magics):
        return None
    if media == "image/webp" and head[8:12] != b"WEBP":
        return None
    return media


def media_type(name: str) -> str:
    kind = KINDS.get(extension(name))
    return kind[0] if kind else "application/octet-stream"


def safe_name(name: str) -> str:
    """A file name to store and offer back: no folders, no control characters, not empty, not too long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    if not base:
        base = "file"
    if len(base) > 120:
        ext = extension(base)
        base = base[: 120 - len(ext)] + ext
    return base
