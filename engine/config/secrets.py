"""Secrets (SMTP passwords, robot tokens, signing keys): told apart from settings, and never shown.

A value is secret by its name (…PASSWORD, …SECRET, …TOKEN, …KEY) or by where it
hides (the credentials or the query string of a URL: WeCom and DingTalk robots
carry their access token there). Whatever prints settings or logs goes through
``mask``, and the log filter replaces any secret value that slips into a
message, such as a URL quoted in a driver's error.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from collections.abc import Iterable, Mapping

MASK = "****"
_SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|(^|_)KEY$|APIKEY|CREDENTIAL)", re.IGNORECASE)
_MIN_SECRET = 4  # shorter values would mask ordinary words in log lines


def is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def mask_url(value: str) -> str:
    """Keep scheme, host and path; hide a password and the whole query (where robot tokens live)."""
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return MASK
    if not parts.scheme or not parts.netloc:
        return value
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    query = MASK if parts.query else ""
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def mask(name: str, value: str) -> str:
    """The value as it may be shown."""
    if is_secret_name(name):
        return MASK if value else ""
    if "://" in value:
        return mask_url(value)
    return value


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Every secret string in the configuration, longest first, to be blotted out of any text."""
    found: set[str] = set()
    for name, value in env.items():
        if not value:
            continue
        if is_secret_name(name) and len(value) >= _MIN_SECRET:
            found.add(value)
        elif "://" in value:
            parts = urllib.parse.urlsplit(value)
            if parts.password and len(parts.password) >= _MIN_SECRET:
                found.add(parts.password)
            if parts.query and len(parts.query) >= _MIN_SECRET:
                found.add(parts.query)
                found.update(v for _k, v in urllib.parse.parse_qsl(parts.query) if len(v) >= _MIN_SECRET)
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class SecretFilter(logging.Filter):
    """Masks secret values in every record that passes, whatever logger or library wrote it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            cleaned = scrub(message, self.secrets)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def install_log_filter(env: Mapping[str, str]) -> SecretFilter:
    """On the root handlers, so Celery's and the drivers' records are masked too."""
    flt = SecretFilter(secret_values(env))
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(flt)
    root.addFilter(flt)
    return flt
