"""Evidence files posted with a form (progress reports, 复核): each checked by its bytes and size, written to a
temporary folder the view removes, so a refused form leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from duban.engine.domain.evidence_types import ACCEPTED, accepted, safe_name

from .context import engine_app, lang_of
from .forms import max_upload_bytes


class UploadRefused(Exception):
    """One file may not be taken: the message, in the person's language, goes beside the file field."""


def saved_uploads(request: Request, form: FormData, folder: Path, name: str = "files") -> list[Path]:
    """The chosen files, written under ``folder`` with safe names; the first bad one refuses them all."""
    zh = lang_of(request) == "zh"
    limit = max_upload_bytes(engine_app(request))
    uploads = [f for f in form.getlist(name) if isinstance(f, UploadFile) and f.filename]
    paths: list[Path] = []
    for i, upload in enumerate(uploads):
        filename = safe_name(upload.filename or "file")
        size = upload.size if upload.size is not None else 0
        upload.file.seek(0)
        head = upload.file.read(16)
        if size > limit:
            mb = limit // (1024 * 1024)
            raise UploadRefused(
                f"文件 {filename} 超过 {mb} MB 的上限" if zh else f"{filename} is larger than the {mb} MB limit"
            )
        if accepted(filename, head) is None:
            raise UploadRefused(
                f"文件 {filename} 的类型不被接受（可用：{ACCEPTED}）"
                if zh
                else f"{filename} is not an accepted type ({ACCEPTED})"
            )
        sub = folder / str(i)
        sub.mkdir()
        target = sub / filename
        upload.file.seek(0)
        written = 0
        with open(target, "wb") as out:
            while chunk := upload.file.read(1 << 20):
                written += len(chunk)
                if written > limit:  # the client's stated size is not trusted
                    break
                out.write(chunk)
        if written > limit:
            raise UploadRefused(f"文件 {filename} 超过上限" if zh else f"{filename} is larger than the limit")
        paths.append(target)
    return paths
