"""Configuration from the environment, read once at the edge and passed in."""

from __future__ import annotations

import locale
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .domain.clock import DEFAULT_ZONE
from .domain.text import Lang

DEFAULT_DB = "duban.db"
_KNOWN = {
    "DUBAN_DATABASE_URL",
    "DUBAN_TZ",
    "DUBAN_LANG",
    "DUBAN_WORKFLOW_PATH",
    "DUBAN_EVIDENCE_DIR",
    "DUBAN_USER",
    "DUBAN_NOW",
    "DUBAN_CALENDAR",
    "DUBAN_CHANNELS",
    "DUBAN_NOTIFY_LANG",
    "DUBAN_CIRCULARS",
}


def lang_from_locale(env: Mapping[str, str]) -> Lang:
    for var in ("DUBAN_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        loc = locale.getlocale()[0] or ""
    except ValueError:
        loc = ""
    return "zh" if loc.lower().startswith("zh") else "en"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DB
    timezone: str = DEFAULT_ZONE
    lang: Lang = "en"
    workflow_dirs: tuple[Path, ...] = ()
    evidence_dir: Path | None = None  # default: beside the SQLite file, or ./duban-evidence
    user: str | None = None
    now: str | None = None  # DUBAN_NOW: a fixed clock, for scripted demos and tests
    calendar_overrides: Path | None = None  # DUBAN_CALENDAR: local holidays and working days (YAML)
    channels: tuple[str, ...] = ("console",)  # DUBAN_CHANNELS: for people and units that name none
    notify_lang: Lang = "zh"  # DUBAN_NOTIFY_LANG: notifications are in Chinese unless told otherwise
    circulars: Path | None = None  # DUBAN_CIRCULARS: the scheduled circulars (YAML); none without it
    extra: dict[str, str] = field(default_factory=dict)  # channel endpoints and secrets (DUBAN_SMTP_HOST, …)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        dirs = tuple(Path(p) for p in env.get("DUBAN_WORKFLOW_PATH", "").split(os.pathsep) if p)
        evidence = env.get("DUBAN_EVIDENCE_DIR")
        return cls(
            database_url=env.get("DUBAN_DATABASE_URL") or DEFAULT_DB,
            timezone=env.get("DUBAN_TZ") or DEFAULT_ZONE,
            lang=lang_from_locale(env),
            workflow_dirs=dirs,
            evidence_dir=Path(evidence) if evidence else None,
            user=env.get("DUBAN_USER") or None,
            now=env.get("DUBAN_NOW") or None,
            calendar_overrides=Path(env["DUBAN_CALENDAR"]) if env.get("DUBAN_CALENDAR") else None,
            channels=tuple(c.strip() for c in env.get("DUBAN_CHANNELS", "console").split(",") if c.strip()),
            notify_lang="en" if env.get("DUBAN_NOTIFY_LANG", "zh").lower().startswith("en") else "zh",
            circulars=Path(env["DUBAN_CIRCULARS"]) if env.get("DUBAN_CIRCULARS") else None,
            extra={k: v for k, v in env.items() if k.startswith("DUBAN_") and k not in _KNOWN},
        )
