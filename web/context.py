"""What every view shares: the wired engine, the signed-in person, their language, CSRF, and rendering.

Starlette runs a sync view in a worker thread; ``as_person`` sets the identity
ContextVar in that same thread around the one service call, so the engine
records the server's account with ``via`` = the signed-in web account.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import Response

from duban.engine.app import App
from duban.engine.domain.text import Bilingual, Lang
from duban.engine.services import accounts
from duban.engine.services.accounts import CurrentSession
from duban.engine.services.identity import SignedIn, signed_in

SESSION_COOKIE = "duban_session"
PRE_CSRF_COOKIE = "duban_csrf"  # before signing in: a double-submit token for the sign-in form
LANG_COOKIE = "duban_lang"
T = TypeVar("T")

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.auto_reload = False  # the templates ship in the package: no stat() of every file on every page


class SignInNeeded(Exception):
    """Raised by a page view when nobody is signed in: the handler redirects to the sign-in page."""


class PasswordChangeNeeded(Exception):
    """Signed in with a password someone else set: nothing but choosing a new one until then."""


class CsrfRefused(Exception):
    pass


def engine_app(request: Request) -> App:
    return request.app.state.duban  # type: ignore[no-any-return]


def lang_of(request: Request) -> Lang:
    value = request.cookies.get(LANG_COOKIE)
    return "en" if value == "en" else "zh"  # Chinese by default


def address_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def session_of(request: Request) -> CurrentSession | None:
    """The signed-in session, read once per request; a posted form's CSRF token is checked on that first read."""
    if not hasattr(request.state, "session"):
        request.state.session = accounts.current_session(engine_app(request), request.cookies.get(SESSION_COOKIE))
        if getattr(request.state, "csrf_due", False):
            request.state.csrf_due = False
            check_csrf(request, request.state.csrf_sent)
    return request.state.session  # type: ignore[no-any-return]


def defer_csrf(request: Request, sent: str | None) -> None:
    """A form posted with a session cookie: its token is checked when the view first reads the session."""
    request.state.csrf_sent = sent
    request.state.csrf_due = True
    if hasattr(request.state, "session"):  # already read: check now
        request.state.csrf_due = False
        check_csrf(request, sent)


def signed_in_person(request: Request, *, allow_password_change: bool = False) -> CurrentSession:
    session = session_of(request)
    if session is None:
        raise SignInNeeded()
    if session.must_change and not allow_password_change:
        raise PasswordChangeNeeded()
    return session


def as_person(session: CurrentSession, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call one service as the signed-in person, in this thread."""
    token = signed_in.set(SignedIn(session.account, session.person_id))
    try:
        return fn(*args, **kwargs)
    finally:
        signed_in.reset(token)


def csrf_token(request: Request) -> str:
    session = session_of(request)
    if session is not None:
        return session.csrf
    if not hasattr(request.state, "pre_csrf"):
        request.state.pre_csrf = request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(32)
    return request.state.pre_csrf  # type: ignore[no-any-return]


def check_csrf(request: Request, sent: str | None) -> None:
    session = session_of(request)
    expected = session.csrf if session is not None else request.cookies.get(PRE_CSRF_COOKIE)
    if not expected or not sent or not secrets.compare_digest(str(expected), str(sent)):
        raise CsrfRefused()


def secure_cookies(request: Request) -> bool:
    app = engine_app(request)
    base = app.settings.extra.get("DUBAN_BASE_URL", "")
    flag = app.settings.extra.get("DUBAN_WEB_SECURE_COOKIES", "").lower() in ("1", "true", "yes")
    return base.startswith("https://") or flag or request.url.scheme == "https"


def _make_tr(lang: Lang) -> Callable[..., str]:
    def tr(zh: str | Bilingual, en: str | None = None) -> str:
        if isinstance(zh, Bilingual):
            return zh.pick(lang)
        return zh if lang == "zh" or en is None else en

    return tr


# One translator per language, made once: every page used to build its own closure, and ``light_badge`` tells
# the language from which of the two it was handed instead of calling it fifty times a page to find out.
_TR: dict[Lang, Callable[..., str]] = {"zh": _make_tr("zh"), "en": _make_tr("en")}


def tr_for(lang: Lang) -> Callable[..., str]:
    return _TR[lang]


_SPECIAL = re.compile("[&<>'\"]").search


def escape_text(value: object) -> str:
    """``value`` as HTML text: the same five characters, and the same entities, as markupsafe's ``escape``.

    Most of a page's values (codes, dates, Chinese titles and unit names) hold none of the five: one regex
    scan returns them as they are, where five ``replace`` calls would each copy the string."""
    if type(value) is str:
        if _SPECIAL(value) is None:
            return value
    elif hasattr(value, "__html__"):
        return str(value.__html__())
    return (
        str(value)
        .replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


_LIGHT_WORDS = {
    "zh": {
        "red": "红灯",
        "yellow": "黄灯",
        "green": "绿灯",
        "late": "逾期",
        "left": "剩",
        "days": "个工作日",
        "days_late": "个工作日",
        "stopped": "计时暂停",
    },
    "en": {
        "red": "red",
        "yellow": "yellow",
        "green": "green",
        "late": "",
        "left": "",
        "days": " working days left",
        "days_late": " working days late",
        "stopped": "clock stopped",
    },
}
_LIGHT_WORDS_BY_TR = {id(_TR["zh"]): _LIGHT_WORDS["zh"], id(_TR["en"]): _LIGHT_WORDS["en"]}


def light_badge(s: Any, tr: Callable[..., str]) -> Markup:
    """A task's light with its working days, as a badge: a Python function, not a macro, because the ledger
    draws fifty on every page and a Jinja macro call costs more than the rest of the row."""
    w = _LIGHT_WORDS_BY_TR.get(id(tr)) or _LIGHT_WORDS["en" if tr("中", "en") == "en" else "zh"]
    light = s.light
    if light == "red":
        text = f"{w['red']} · {w['late']}{s.days_overdue}{w['days_late']}"
    elif light == "yellow":
        text = f"{w['yellow']} · {w['left']}{s.days_left}{w['days']}"
    elif light == "green":
        text = w["green"] + (f" · {w['left']}{s.days_left}{w['days']}" if s.days_left is not None else "")
    else:
        return Markup(f'<span class="light none">{escape(w["stopped"])}</span>')
    return Markup(f'<span class="light {light}">{escape_text(text)}</span>')


templates.env.globals["light"] = light_badge


# Sent with every page: no sniffing a page's type, no framing it elsewhere, no address leaking to other sites.
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    lang = lang_of(request)
    app = engine_app(request)
    session = session_of(request)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "lang": lang,
            "tr": tr_for(lang),
            "me": session,
            "csrf": csrf_token(request),
            "tz": app.tz,
            **context,
        },
        status_code=status,
        headers=PAGE_HEADERS,
    )
    if session is None and not request.cookies.get(PRE_CSRF_COOKIE):
        response.set_cookie(
            PRE_CSRF_COOKIE, csrf_token(request), httponly=True, samesite="lax", secure=secure_cookies(request)
        )
    return response
