"""Channels: each turns one notification into one message to the outside world.

A channel raises ``Transient`` for what a retry may cure (a time-out, a busy
server, a 5xx) and ``Permanent`` for what it will not (no address, a 4xx).
Every message carries the notification's dedup key (as Idempotency-Key,
Message-ID or a field), so a receiver can drop the rare second copy that a
worker dying between sending and recording may cause.

Each ``send`` takes a ``guard``: the worker's last word before the first byte
of the message leaves (after the connection is made, which may take up to the
time-out). The delivery service's guard extends the worker's lease on the row
or raises ``LeaseLost`` when another worker has taken the row over, so a
worker that was paused or slow to connect never sends what another has sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import smtplib
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

from ..domain.errors import InvalidInput
from ..domain.text import Bilingual

log = logging.getLogger("duban.notify")


class Transient(Exception):
    """Worth another try later."""


class Permanent(Exception):
    """Another try would fail the same way."""


class LeaseLost(Exception):
    """The worker no longer holds the row (or cannot prove it does): it must not send."""


Guard = Callable[[], None]


def no_guard() -> None:
    """For a message sent outside the outbox (tests, a one-off): nothing to check."""


def message_id(key: str, domain: str) -> str:
    """The email Message-ID, from the dedup key alone: a re-sent copy carries the same id, so it can be dropped.

    ``email.utils.make_msgid`` mixes in the time, the pid and a random number, which made every copy a new message.
    """
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that goes with a message, for the channels that carry files (file, email)."""

    filename: str
    content_type: str
    data: bytes


ATTACHING_CHANNELS = frozenset({"file", "email"})  # the others (console, webhook, robots) carry text only


@dataclass(frozen=True, slots=True)
class Message:
    key: str
    recipient_id: str | None
    address: str | None
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()


class Channel(Protocol):
    def send(self, message: Message, guard: Guard = no_guard) -> None: ...


class ConsoleChannel:
    def send(self, message: Message, guard: Guard = no_guard) -> None:
        self.send_many([message], guard)

    def send_many(self, messages: list[Message], guard: Guard = no_guard) -> None:
        guard()
        for message in messages:
            log.info("notify %s → %s: %s", message.key, message.recipient_id, message.subject)


class BatchChannel(Protocol):
    """A channel that takes a batch in one write (one fsync): the guard is asked once, before the first byte."""

    def send(self, message: Message, guard: Guard = no_guard) -> None: ...

    def send_many(self, messages: list[Message], guard: Guard = no_guard) -> None: ...


class FileChannel:
    """JSON lines, one per message, fsynced: a log a person or another program can follow."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message, guard: Guard = no_guard) -> None:
        self.send_many([message], guard)

    def send_many(self, messages: list[Message], guard: Guard = no_guard) -> None:
        """All lines in one write and one fsync: the batch is on disk, or (on an error) retried as a whole.

        Attachments are stored first, beside the file, named by their content (``NAME-SHA256[:16].docx``, ``.pdf`` in
        ``attachments/``), and each line lists them: a line never names a file that is not there, and a
        re-sent copy finds its file already written.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lines = []
            for m in messages:
                record: dict[str, Any] = {
                    "key": m.key,
                    "to": m.recipient_id,
                    "address": m.address,
                    "subject": m.subject,
                    "body": m.body,
                }
                if m.attachments:
                    record["attachments"] = [self._store(a) for a in m.attachments]
                lines.append(json.dumps(record, ensure_ascii=False) + "\n")
            text = "".join(lines)
            with open(self.path, "a", encoding="utf-8") as fh:
                guard()
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise Transient(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _store(self, a: Attachment) -> dict[str, Any]:
        digest = hashlib.sha256(a.data).hexdigest()
        stem, dot, ext = a.filename.rpartition(".")
        name = f"{stem or ext}-{digest[:16]}{dot}{ext if stem else ''}"
        folder = self.path.parent / "attachments"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        if not target.exists():
            partial = target.with_name(f".{name}.part")
            with open(partial, "wb") as fh:
                fh.write(a.data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(partial, target)
        return {"name": a.filename, "path": str(target), "sha256": digest, "size": len(a.data)}


class SMTPChannel:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        user: str | None,
        password: str | None,
        starttls: bool,
        timeout: float = 20,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, message: Message, guard: Guard = no_guard) -> None:
        if not message.address:
            raise Permanent(f"{message.recipient_id} has no email address in the organisation file")
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.address, message.subject
        domain = self.sender.rpartition("@")[2] or "duban.local"
        mail["Message-ID"] = message_id(message.key, domain)
        mail.set_content(message.body)
        for a in message.attachments:
            maintype, _slash, subtype = a.content_type.partition("/")
            mail.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                guard()  # connected and logged in; nothing of the message has left yet
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise Permanent(f"SMTP refused {message.address}: {codes}") from None
            raise Transient(f"SMTP deferred {message.address}: {codes}") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise Transient(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
            raise Permanent(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise Transient(f"SMTP {self.host}:{self.port}: {exc}") from None


def _guarded_opener(guard: Guard) -> urllib.request.OpenerDirector:
    """urllib (proxies from the environment included) with ``guard`` run once connected, before the request is written.

    Connecting may take up to the time-out; a worker paused or stalled meanwhile learns here that its lease is
    gone, and closes the connection without having sent a byte of the request.
    """

    def connected(conn: http.client.HTTPConnection) -> None:
        try:
            guard()
        except BaseException:
            conn.close()
            raise

    class Plain(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            connected(self)

    class TLS(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            connected(self)

    class PlainHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(Plain, req)

    class TLSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(TLS, req)

    return urllib.request.build_opener(PlainHandler(), TLSHandler())


def _post(url: str, payload: object, key: str, timeout: float = 20, guard: Guard = no_guard) -> bytes:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key, "User-Agent": "duban"},
    )
    try:
        with _guarded_opener(guard).open(request, timeout=timeout) as response:  # noqa: S310 - configured URLs only
            return bytes(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise Transient(f"HTTP {exc.code} from {_safe(url)}") from None
        raise Permanent(f"HTTP {exc.code} from {_safe(url)}") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        raise Transient(f"{_safe(url)}: {getattr(exc, 'reason', exc)}") from None


def _safe(url: str) -> str:
    """A URL for messages and logs: robot URLs carry their token in the query, which must not be printed."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "…" if parts.query else "", ""))


class WebhookChannel:
    def __init__(self, url: str, timeout: float = 20) -> None:
        self.url, self.timeout = url, timeout

    def send(self, message: Message, guard: Guard = no_guard) -> None:
        _post(
            self.url,
            {
                "key": message.key,
                "to": message.recipient_id,
                "address": message.address,
                "subject": message.subject,
                "body": message.body,
            },
            message.key,
            self.timeout,
            guard,
        )


def _robot_reply(raw: bytes, url: str) -> None:
    try:
        reply = json.loads(raw or b"{}")
    except ValueError:
        raise Transient(f"{_safe(url)} answered with something that is not JSON") from None
    code = reply.get("errcode", 0)
    if code:
        raise Permanent(f"{_safe(url)} refused the message: errcode {code} {reply.get('errmsg', '')}")


class WeComChannel:
    """企业微信 group robot, markdown message."""

    def __init__(self, url: str, timeout: float = 20) -> None:
        self.url, self.timeout = url, timeout

    def send(self, message: Message, guard: Guard = no_guard) -> None:
        mention = f"\n<@{message.address}>" if message.address else ""
        payload = {"msgtype": "markdown", "markdown": {"content": f"**{message.subject}**\n{message.body}{mention}"}}
        _robot_reply(_post(self.url, payload, message.key, self.timeout, guard), self.url)


class DingTalkChannel:
    """钉钉 group robot, markdown message; signed when the robot has a secret (加签)."""

    def __init__(self, url: str, secret: str | None, timeout: float = 20) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout

    def signed_url(self, now_ms: int | None = None) -> str:
        if not self.secret:
            return self.url
        timestamp = str(now_ms if now_ms is not None else int(time.time() * 1000))
        digest = hmac.new(self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        return f"{self.url}{'&' if '?' in self.url else '?'}timestamp={timestamp}&sign={sign}"

    def send(self, message: Message, guard: Guard = no_guard) -> None:
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": message.subject, "text": f"### {message.subject}\n\n{message.body}"},
            "at": {"atMobiles": [message.address] if message.address else []},
        }
        url = self.signed_url()
        _robot_reply(_post(url, payload, message.key, self.timeout, guard), self.url)


def build_channels(config: Mapping[str, str], default_file: Path, timeout: float = 20) -> dict[str, Channel]:
    """The channels that configuration makes available; endpoints and secrets come only from it.

    ``timeout`` bounds each network step of a send (connect, each reply); the delivery policy keeps it below the
    lease, so a send that ends in time ends while its worker still holds the row.
    """
    channels: dict[str, Channel] = {
        "console": ConsoleChannel(),
        "file": FileChannel(Path(config.get("DUBAN_NOTIFY_FILE") or default_file)),
    }
    if config.get("DUBAN_SMTP_HOST"):
        port_text = config.get("DUBAN_SMTP_PORT") or "25"
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise InvalidInput(
                what="DUBAN_SMTP_PORT",
                detail=Bilingual(
                    f"'{port_text}' 不是端口号（1–65535 之间的整数，常用 25、465、587）",
                    f"'{port_text}' is not a port number",
                ),
            )
        channels["email"] = SMTPChannel(
            host=config["DUBAN_SMTP_HOST"],
            port=int(port_text),
            sender=config.get("DUBAN_SMTP_FROM") or "duban@localhost",
            user=config.get("DUBAN_SMTP_USER"),
            password=config.get("DUBAN_SMTP_PASSWORD"),
            starttls=config.get("DUBAN_SMTP_STARTTLS", "") == "1",
            timeout=timeout,
        )
    if config.get("DUBAN_WEBHOOK_URL"):
        channels["webhook"] = WebhookChannel(config["DUBAN_WEBHOOK_URL"], timeout)
    if config.get("DUBAN_WECOM_WEBHOOK"):
        channels["wecom"] = WeComChannel(config["DUBAN_WECOM_WEBHOOK"], timeout)
    if config.get("DUBAN_DINGTALK_WEBHOOK"):
        channels["dingtalk"] = DingTalkChannel(
            config["DUBAN_DINGTALK_WEBHOOK"], config.get("DUBAN_DINGTALK_SECRET"), timeout
        )
    return channels
