"""Signing in to the web workspace: passwords, sessions, throttling, API tokens, and their records.

The web server acts through its own account (os:NAME, pg:ROLE); who is signed in
is the web account (web:zhangwei), carried as ``via`` on every entry the server
writes for them. Sign-ins, sign-outs, failures and throttled attempts are
records of kind ``signin`` on the chain, so a forged or deleted one is evident.

``Authenticator`` is the seam for other ways in (OIDC): anything that turns a
typed name and a secret, or a provider's answer, into a web account and its
person can open a session here.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..app import App
from ..domain.accounts import (
    THROTTLE_FAILURES,
    THROTTLE_MINUTES,
    NotAServiceAccount,
    NotYours,
    NoWebAccount,
    SignInRefused,
    SignInThrottled,
    check_password,
    web_account,
)
from ..domain.audit import SERVICE_ACCOUNTS, RecordFacts
from ..domain.errors import UnknownPerson, UnknownToken
from ..domain.text import Bilingual
from ..persistence.uow import UnitOfWork
from .identity import accounts, acting, is_single_desk

SIGNIN = "signin"  # the kind of the records
SESSION_HOURS = 12
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("a password nobody has, so unknown names cost as much as known ones")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Authenticated:
    account: str  # web:zhangwei
    person_id: str
    must_change: bool  # the password was set by someone else: choose one before anything else


@dataclass(frozen=True, slots=True)
class NewSession:
    token: str  # for the cookie; only its hash is stored
    csrf: str
    account: str
    person_id: str
    must_change: bool
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class CurrentSession:
    token_hash: str
    account: str
    person_id: str
    csrf: str
    must_change: bool
    expires_at: datetime
    roles: frozenset[str] = frozenset()  # the person's roles when the session was read: the nav, not the rules
    unit_id: int | None = None


class Authenticator(Protocol):
    """One way of proving who someone is. It reads, and raises ``SignInRefused``; recording is done here."""

    def authenticate(self, app: App, uow: UnitOfWork, account: str, secret: str) -> Authenticated: ...


class PasswordAuthenticator:
    def authenticate(self, app: App, uow: UnitOfWork, account: str, secret: str) -> Authenticated:
        store = uow.web
        cred = store.credential(account)
        try:
            _hasher.verify(cred.password_hash if cred else _DUMMY, secret)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise SignInRefused() from None
        if cred is None:
            raise SignInRefused()
        # The organisation decides who an account is: a remapped or removed account no longer signs anyone in.
        if _owner(app, uow, account) != cred.person_id:
            raise SignInRefused()
        return Authenticated(account, cred.person_id, cred.must_change)


def session_hours(app: App) -> int:
    try:
        return max(1, int(app.settings.extra.get("DUBAN_WEB_SESSION_HOURS", SESSION_HOURS)))
    except ValueError:
        return SESSION_HOURS


def sign_in(app: App, name: str, secret: str, address: str, authenticator: Authenticator | None = None) -> NewSession:
    """Throttle, authenticate, open a session; every outcome is a record on the chain."""
    authenticator = authenticator or PasswordAuthenticator()
    account = web_account(name)
    now = app.clock.now()
    subject = account or "web:?"
    with app.uow(write=True) as uow:
        store = uow.web
        by_account, by_address = store.failures_since(subject, address, now - timedelta(minutes=THROTTLE_MINUTES))
        if by_account >= THROTTLE_FAILURES or by_address >= THROTTLE_FAILURES:
            _record(app, uow, subject, "throttled", address, None, None)
            uow.commit()
            raise SignInThrottled(minutes=THROTTLE_MINUTES)
        try:
            if account is None:
                raise SignInRefused()
            who = authenticator.authenticate(app, uow, account, secret)
        except SignInRefused:
            store.add_failure(subject, address, now)
            _record(app, uow, subject, "failed", address, None, None)
            uow.commit()
            raise
        store.clear_failures(who.account)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = now + timedelta(hours=session_hours(app))
        store.add_session(token_hash(token), who.account, who.person_id, csrf, now, expires, address)
        store.forget_expired(now - timedelta(days=1))
        _record(app, uow, who.account, "ok", address, who.person_id, who.account)
        uow.commit()
    return NewSession(token, csrf, who.account, who.person_id, who.must_change, expires)


def current_session(app: App, token: str | None) -> CurrentSession | None:
    if not token or len(token) > 200:
        return None
    with app.uow(write=False) as uow:
        live = uow.web.live_session(token_hash(token), app.clock.now())
        if live is None or live.roles is None:
            return None
        row = live.row
        # The account must still be this person's: mapped to them (one account is one person), or on a
        # single desk their own web:<id> that nobody else has been given since.
        if row.account not in live.accounts:
            owner = None if live.unclaimed else uow.web.owner_of(row.account)
            own_on_single_desk = (
                owner is None and row.account == f"web:{row.person_id}" and is_single_desk(app, uow)
            )  # the person exists: the session's query found them
            if owner != row.person_id and not own_on_single_desk:
                return None  # the account was taken away or given to someone else since
    return CurrentSession(
        row.token_hash, row.account, row.person_id, row.csrf, live.must_change, row.expires_at, live.roles, live.unit_id
    )


def sign_out(app: App, session: CurrentSession, address: str) -> None:
    with app.uow(write=True) as uow:
        uow.web.end_session(session.token_hash, app.clock.now())
        _record(app, uow, session.account, "signed_out", address, session.person_id, session.account)
        uow.commit()


def change_password(app: App, session: CurrentSession, current: str, new: str, address: str) -> None:
    """The person's own change: the current password proves it is them; other browsers are signed out."""
    check_password(new, session.account)
    with app.uow(write=True) as uow:
        store = uow.web
        cred = store.credential(session.account)
        try:
            _hasher.verify(cred.password_hash if cred else _DUMMY, current)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise SignInRefused() from None
        if cred is None:
            raise SignInRefused()
        if secrets.compare_digest(current, new):
            from ..domain.errors import InvalidInput

            raise InvalidInput(
                what=Bilingual("密码", "password"),
                detail=Bilingual("新密码不能与当前密码相同", "the new password must differ from the current one"),
            )
        now = app.clock.now()
        store.put_credential(session.account, session.person_id, _hasher.hash(new), False, now)
        store.end_sessions_of(session.account, now, keep=session.token_hash)
        _record(app, uow, session.account, "password_changed", address, session.person_id, session.account)
        uow.commit()


def set_password(app: App, actor_id: str | None, person_id: str, password: str) -> str:
    """An admin sets someone's password (they must change it at first sign-in), or a person sets their own.

    Returns the web account. Every session of that account ends.
    """
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        account = _account_of(app, uow, person_id)
        check_password(password, account)
        _may_manage(uow, who.actor_id, person_id)
        now = app.clock.now()
        store = uow.web
        store.put_credential(account, person_id, _hasher.hash(password), who.actor_id != person_id, now)
        store.end_sessions_of(account, now)
        store.clear_failures(account)
        record = RecordFacts(
            SIGNIN,
            account,
            {"outcome": "password_set", "by": who.actor_id},
            now,
            who.account,
            who.operator_id,
            who.via,
        )
        uow.records.append(record)
        uow.commit()
    return account


def issue_token(app: App, actor_id: str | None, person_id: str) -> str:
    """A token for the JSON API, acting as ``person_id``; printed once, stored as its hash."""
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        account = _account_of(app, uow, person_id)
        _may_manage(uow, who.actor_id, person_id)
        token = "dbn_" + secrets.token_urlsafe(32)
        now = app.clock.now()
        uow.web.add_token(token_hash(token), account, person_id, now)
        uow.records.append(
            RecordFacts(
                SIGNIN,
                account,
                {"outcome": "token_issued", "by": who.actor_id},
                now,
                who.account,
                who.operator_id,
                who.via,
            )
        )
        uow.commit()
    return token


TOKEN_ID_LENGTH = 12  # a token is named by the start of its SHA-256: safe to show, enough to tell tokens apart


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str  # the first TOKEN_ID_LENGTH hex digits of the token's SHA-256
    account: str
    person: str
    created_at: datetime
    revoked_at: datetime | None


def list_tokens(app: App, actor_id: str | None, person_id: str | None = None) -> list[TokenInfo]:
    """The API tokens of one person (anyone for themselves, an admin for anyone), or all of them (admin)."""
    with app.uow(write=False) as uow:
        who = acting(app, uow, actor_id)
        _may_manage(uow, who.actor_id, person_id or "")
        account = _account_of(app, uow, person_id) if person_id is not None else None
        rows = uow.web.tokens(account)
    return [TokenInfo(r.token_hash[:TOKEN_ID_LENGTH], r.account, r.person_id, r.created_at, r.revoked_at) for r in rows]


def revoke_token(app: App, actor_id: str | None, token_id: str) -> TokenInfo:
    """Revoke a token by its id (its owner, or an admin): the API refuses it from then on; on record."""
    wanted = token_id.strip().lower()
    if not (6 <= len(wanted) <= 64) or any(ch not in "0123456789abcdef" for ch in wanted):
        raise UnknownToken(id=token_id[:80])
    with app.uow(write=True) as uow:
        who = acting(app, uow, actor_id)
        store = uow.web
        found = store.tokens_by_prefix(wanted)
        if len(found) != 1:
            raise UnknownToken(id=wanted)  # none, or the id is too short to tell two apart
        row = found[0]
        _may_manage(uow, who.actor_id, row.person_id)
        now = app.clock.now()
        if row.revoked_at is None:
            store.revoke_token(row.token_hash, now)
            uow.records.append(
                RecordFacts(
                    SIGNIN,
                    row.account,
                    {"outcome": "token_revoked", "by": who.actor_id, "token": row.token_hash[:TOKEN_ID_LENGTH]},
                    now,
                    who.account,
                    who.operator_id,
                    who.via,
                )
            )
            uow.commit()
        revoked = row.revoked_at or now
    return TokenInfo(row.token_hash[:TOKEN_ID_LENGTH], row.account, row.person_id, row.created_at, revoked)


def reset_password(app: App, actor_id: str | None, person_id: str) -> tuple[str, str]:
    """An admin's reset from the web: a new random password, shown once to the admin, to be changed at the
    person's next sign-in (``set_password`` by someone else forces that); every session of the account ends."""
    with app.uow(write=False) as uow:
        _may_manage(uow, acting(app, uow, actor_id).actor_id, "")  # an admin's act, even on their own account
    temporary = secrets.token_urlsafe(12)
    account = set_password(app, actor_id, person_id, temporary)
    return account, temporary


def token_owner(app: App, token: str | None) -> tuple[str, str] | None:
    """(web account, person) for a live API token whose account still belongs to that person."""
    if not token or len(token) > 200:
        return None
    with app.uow(write=False) as uow:
        found = uow.web.token(token_hash(token))
        if found is None or _owner(app, uow, found[0]) != found[1]:
            return None
    return found


def check_may_serve(app: App) -> str:
    """The server's own account, once it may act for signed-in people: on a workspace that checks accounts,
    only an account an admin registered as a service (``duban init --service-account``)."""
    with app.uow(write=False) as uow:
        account = str(accounts(app, uow)[0])
        if is_single_desk(app, uow):
            return account
        services = {a.strip() for a in (uow.settings.get(SERVICE_ACCOUNTS) or "").split(",") if a.strip()}
    if account not in services:
        raise NotAServiceAccount(account=account)
    return account


@dataclass(frozen=True, slots=True)
class SignInEntry:
    at: datetime
    account: str  # the web account tried (web:? for a name that cannot be one)
    outcome: str  # ok, failed, throttled, signed_out, password_changed, password_set, token_issued
    address: str | None
    person_id: str | None
    written_by: str | None  # the server's account (or the admin's, for password_set and token_issued)


def signin_log(app: App, limit: int = 200) -> list[SignInEntry]:
    """The latest sign-in records, newest first (for an admin page; ``duban audit log`` shows refusals)."""
    with app.uow(write=False) as uow:
        rows = uow.web.signin_records(limit)
    out = []
    for r in rows:
        body = r["body"] if isinstance(r["body"], dict) else {}
        out.append(
            SignInEntry(
                r["at"], r["subject"], str(body.get("outcome", "")), body.get("address"), r["operator_id"], r["account"]
            )
        )
    return out


# --- helpers -----------------------------------------------------------------------------------------------


def _owner(app: App, uow: UnitOfWork, account: str) -> str | None:
    """Who a web account is: its mapping in the organisation; on a single desk, the person of that id."""
    store = uow.web
    owner = store.owner_of(account)
    if owner is None and is_single_desk(app, uow):
        pid = account.removeprefix("web:")
        if store.viewer(pid) is not None:
            return pid
    return owner


def _account_of(app: App, uow: UnitOfWork, person_id: str) -> str:
    store = uow.web
    mapped = store.person_accounts(person_id)
    if mapped is None:
        raise UnknownPerson(person=person_id, near="")
    web = [a for a in mapped if a.startswith("web:")]
    if web:
        return web[0]
    account = f"web:{person_id}"
    if is_single_desk(app, uow) and store.owner_of(account) is None:
        return account
    raise NoWebAccount(person=person_id)


def _may_manage(uow: UnitOfWork, actor_id: str, person_id: str) -> None:
    if actor_id == person_id:
        return
    me = uow.tasks.actor(actor_id)
    if me is None or "admin" not in me.roles:
        raise NotYours(actor=actor_id)


def _record(
    app: App, uow: UnitOfWork, subject: str, outcome: str, address: str, person_id: str | None, via: str | None
) -> None:
    uow.records.append(
        RecordFacts(
            SIGNIN,
            subject[:250],
            {"outcome": outcome, "address": address[:100]},
            app.clock.now(),
            str(accounts(app, uow)[0]),
            person_id,
            via,
        )
    )
