"""A web workspace for the tests: accounts checked (not single-desk), a service account for the server.

Everyone in the sample organisation gets a web account ``web:<id>``; the admin
works from ``os:duban-admin``; the server runs as ``os:duban-web``, registered
as a service account by that admin. Both are real App objects on one SQLite
file; only their operating-system account is set, as a second login would be.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from duban.engine.app import App
from duban.engine.config.account import Account
from duban.engine.config.settings import Settings
from duban.engine.domain.clock import FixedClock
from duban.engine.services import accounts
from duban.engine.services.identity import SignedIn, signed_in
from duban.engine.services.workspace import init_workspace
from duban.web.app import create_app
from tests.conftest import ORG, START

ADMIN = "zhouqiang"
SERVER = Account("os", "duban-web")
ADMIN_ACCOUNT = Account("os", "duban-admin")
PASSWORD = "correct-horse-42"
PEOPLE = ("wangjun", "zhangwei", "fenglei", "liuxia", "huangtao", ADMIN)  # each has chosen PASSWORD
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def web_org(folder: Path) -> Path:
    doc = yaml.safe_load(ORG.read_text(encoding="utf-8"))
    for person in doc["people"]:
        person["accounts"] = [f"web:{person['id']}"] + ([str(ADMIN_ACCOUNT)] if person["id"] == ADMIN else [])
    path = folder / "org-web.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def build_template(folder: Path) -> Path:
    db = folder / "duban.db"
    admin = App.build(Settings(database_url=str(db)), clock=FixedClock(START))
    admin.account = ADMIN_ACCOUNT
    init_workspace(admin, web_org(folder))
    init_workspace(admin, None, None, service_account=str(SERVER))
    admin.close()
    server = App.build(Settings(database_url=str(db)), clock=FixedClock(START))
    server.account = SERVER
    for person in PEOPLE:  # Argon2 is slow on purpose: hash once per session, copy the file per test
        with signed_in_as(person):
            accounts.set_password(server, person, person, PASSWORD)
    server.close()
    return db


@dataclass
class Web:
    server: App  # the web server's engine (os:duban-web)
    admin: App  # an admin at a terminal (os:duban-admin)
    folder: Path

    def client(self) -> TestClient:
        return TestClient(create_app(engine=self.server), follow_redirects=True)

    def close(self) -> None:
        self.server.close()
        self.admin.close()


def make_web(template: Path, folder: Path, extra: dict[str, str] | None = None, clock: FixedClock | None = None) -> Web:
    db = folder / "duban.db"
    shutil.copy(template, db)
    clock = clock or FixedClock(START)
    settings = Settings(database_url=str(db), evidence_dir=folder / "evidence", extra=dict(extra or {}))
    server = App.build(settings, clock=clock)
    server.account = SERVER
    admin = App.build(settings, clock=clock)
    admin.account = ADMIN_ACCOUNT
    return Web(server, admin, folder)


@contextmanager
def signed_in_as(person: str) -> Iterator[None]:
    """Service calls in a test's setup, as that person through the web server's account."""
    token = signed_in.set(SignedIn(f"web:{person}", person))
    try:
        yield
    finally:
        signed_in.reset(token)


def own_password(web: Web, person: str, password: str = PASSWORD) -> None:
    """The person chose their password themselves: no forced change at sign-in."""
    with signed_in_as(person):
        accounts.set_password(web.server, person, person, password)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, person: str, password: str = PASSWORD) -> Any:
    page = client.get("/signin")
    return client.post(
        "/signin", data={"account": person, "password": password, "csrf": csrf_of(page.text), "next": "/"}
    )
