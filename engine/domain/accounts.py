"""Web accounts: the name a person signs in with, what a password must be, and the refusals of signing in.

The sign-in name is the web account without its kind (``zhangwei`` for
``web:zhangwei``); the organisation file maps it to a person like any other
account, so one account is one person everywhere, the chain included.
"""

from __future__ import annotations

import re

from .errors import DubanError, InvalidInput
from .text import Bilingual

WEB = "web"
NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD = 10
THROTTLE_FAILURES = 5  # failures per account, or per address, within the window: then refused for the window
THROTTLE_MINUTES = 15
PASSWORD = Bilingual("密码", "password")


def web_account(name: str) -> str | None:
    """``web:NAME`` for a typed sign-in name, or None when it cannot be one (never looked up)."""
    name = name.strip().removeprefix("web:")
    return f"{WEB}:{name}" if NAME.fullmatch(name) else None


def check_password(password: str, account: str) -> str:
    """Long enough to resist guessing once throttled, and not the account's own name."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            what=PASSWORD,
            detail=Bilingual(
                f"密码至少须 {MIN_PASSWORD} 个字符", f"a password needs at least {MIN_PASSWORD} characters"
            ),
        )
    if len(password) > 1024:
        raise InvalidInput(
            what=PASSWORD, detail=Bilingual("密码最多 1024 个字符", "a password may have at most 1024 characters")
        )
    if password.lower().strip() == account.removeprefix("web:").lower():
        raise InvalidInput(
            what=PASSWORD, detail=Bilingual("密码不能与账号名相同", "a password may not be the account's name")
        )
    return password


class SignInRefused(DubanError):
    """Wrong name or password: the same words either way, so the refusal does not say which names exist."""

    exit_code = 4
    zh = "账号或密码不正确"
    en = "wrong account or password"


class SignInThrottled(DubanError):
    exit_code = 4
    zh = "登录失败次数过多，请 {minutes} 分钟后再试"
    en = "too many failed sign-ins; try again in {minutes} minutes"


class NoWebAccount(DubanError):
    exit_code = 3
    zh = "人员 {person} 没有网页账号；请在组织文件中为其加上 accounts: [web:{person}] 并重新导入"
    en = "{person} has no web account; add accounts: [web:{person}] to them in the organisation file and import it"


class NotYours(DubanError):
    exit_code = 4
    zh = "{actor} 只能为自己设置密码或令牌；为他人设置需要管理员（admin）角色"
    en = "{actor} may set a password or token only for themselves; doing it for others takes the admin role"


class NotAServiceAccount(DubanError):
    exit_code = 4
    zh = "服务器账号 {account} 不是服务账号，网页工作台无法代登录人员记录操作；请管理员运行：duban --as 管理员编号 init --service-account {account}"
    en = "the server's account {account} is not a service account, so it may not act for signed-in people; an admin runs: duban --as ADMIN_ID init --service-account {account}"
