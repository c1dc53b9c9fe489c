"""What the ledger, board, circulars, assign and admin pages share: words in the person's language,
file downloads with safe headers, the roles the nav needs, and reading an uploaded file within bounds."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from ..context import engine_app, lang_of, session_of, templates
from ..forms import max_upload_bytes


def words(request: Request, zh: str, en: str) -> str:
    return zh if lang_of(request) == "zh" else en


def download(name: str, media_type: str, content: bytes, *, cache: str = "private, no-store") -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": cache,
        },
    )


def my_roles(request: Request) -> frozenset[str]:
    """The signed-in person's roles, once per request, so the nav offers only the pages they may open."""
    if not hasattr(request.state, "roles"):
        session = session_of(request)
        # read with the session, in the same query: the pages themselves check roles through the services
        request.state.roles = session.roles if session is not None else frozenset()
    return request.state.roles  # type: ignore[no-any-return]


templates.env.globals["my_roles"] = my_roles


def read_upload(request: Request, form: FormData, name: str) -> tuple[str, bytes] | None:
    """The uploaded file's name and bytes, or None when none was chosen; larger than the limit is refused."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    limit = max_upload_bytes(engine_app(request))
    upload.file.seek(0)
    content = upload.file.read(limit + 1)
    if len(content) > limit:
        from fastapi import HTTPException

        raise HTTPException(status_code=413)
    return upload.filename, content
