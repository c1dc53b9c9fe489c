"""Signing in and out, choosing a password, and the language switch."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from duban.engine.domain.accounts import SignInRefused, SignInThrottled
from duban.engine.domain.errors import InvalidInput
from duban.engine.services import accounts

from ..context import (
    LANG_COOKIE,
    SESSION_COOKIE,
    address_of,
    engine_app,
    lang_of,
    render,
    secure_cookies,
    session_of,
    signed_in_person,
)
from ..forms import Posted, text

router = APIRouter(include_in_schema=False)


def _safe_next(value: str) -> str:
    """Only a path on this site: a sign-in link must not send people elsewhere."""
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or parts.scheme or parts.netloc or "\\" in value:
        return "/"
    return value


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> Response:
    return render(request, "signin.html", next=_safe_next(next), errors={}, name="")


@router.post("/signin")
def signin(request: Request, form: Posted) -> Response:
    session_of(request)  # with a session cookie already set, this is where the form's CSRF token is checked
    app = engine_app(request)
    lang = lang_of(request)
    name, password, target = text(form, "account"), form.get("password"), _safe_next(text(form, "next") or "/")
    try:
        new = accounts.sign_in(app, name, password if isinstance(password, str) else "", address_of(request))
    except (SignInRefused, SignInThrottled) as exc:
        status = 429 if isinstance(exc, SignInThrottled) else 401
        return render(request, "signin.html", status=status, next=target, errors={"_form": exc.render(lang)}, name=name)
    response = RedirectResponse("/password" if new.must_change else target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        max_age=accounts.session_hours(app) * 3600,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path="/",
    )
    return response


@router.post("/signout")
def signout(request: Request, form: Posted) -> Response:
    session = session_of(request)
    if session is not None:
        accounts.sign_out(engine_app(request), session, address_of(request))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password")
def password_page(request: Request) -> Response:
    session = signed_in_person(request, allow_password_change=True)
    return render(request, "password.html", errors={}, forced=session.must_change)


@router.post("/password")
def change_password(request: Request, form: Posted) -> Response:
    session = signed_in_person(request, allow_password_change=True)
    lang = lang_of(request)
    current, new, again = (form.get(k) for k in ("current", "new", "again"))
    current, new, again = (v if isinstance(v, str) else "" for v in (current, new, again))
    errors: dict[str, str] = {}
    if new != again:
        errors["again"] = "两次输入的新密码不一致" if lang == "zh" else "the two new passwords differ"
    else:
        try:
            accounts.change_password(engine_app(request), session, current, new, address_of(request))
        except SignInRefused:
            errors["current"] = "当前密码不正确" if lang == "zh" else "the current password is wrong"
        except InvalidInput as exc:
            detail = str(exc.params.get("detail", ""))
            errors["new"] = _password_words(detail) if lang == "zh" else detail
    if errors:
        return render(request, "password.html", status=400, errors=errors, forced=session.must_change)
    return RedirectResponse("/", status_code=303)


def _password_words(detail: str) -> str:
    if "at least" in detail:
        return "密码至少需要 10 个字符"
    if "name" in detail:
        return "密码不能与账号名相同"
    if "differ" in detail:
        return "新密码不能与当前密码相同"
    return "密码不符合要求"


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, "en" if lang == "en" else "zh", max_age=365 * 86400, samesite="lax", httponly=True)
    return response
