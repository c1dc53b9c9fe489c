"""Configuration from the environment, read once at the edge and passed in."""

from __future__ import annotations

import locale
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..domain.clock import DEFAULT_ZONE
from ..domain.errors import BadFile
from ..domain.text import Bilingual, Lang
from .secrets import is_secret_name, mask

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
    "DUBAN_CONFIG",
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

    sources: dict[str, str] = field(default_factory=dict)  # DUBAN_* name -> "environment" or the config file

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        sources = {k: "environment" for k in env if k.startswith("DUBAN_")}
        if env.get("DUBAN_CONFIG"):
            path = Path(env["DUBAN_CONFIG"]).expanduser()
            for key, value in load_config_file(path).items():
                if key not in env:  # the environment wins over the file
                    env[key] = value
                    sources[key] = str(path)
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
            sources=sources,
        )

    def shown(self) -> list[tuple[str, str, str]]:
        """(name, value as it may be shown, where it came from) for every DUBAN_* setting in force."""
        values = {
            "DUBAN_DATABASE_URL": self.database_url,
            "DUBAN_TZ": self.timezone,
            "DUBAN_LANG": self.lang,
            "DUBAN_WORKFLOW_PATH": os.pathsep.join(map(str, self.workflow_dirs)),
            "DUBAN_EVIDENCE_DIR": str(self.evidence_dir or ""),
            "DUBAN_USER": self.user or "",
            "DUBAN_NOW": self.now or "",
            "DUBAN_CALENDAR": str(self.calendar_overrides or ""),
            "DUBAN_CHANNELS": ",".join(self.channels),
            "DUBAN_NOTIFY_LANG": self.notify_lang,
            "DUBAN_CIRCULARS": str(self.circulars or ""),
            **self.extra,
        }
        return [(k, mask(k, v), self.sources.get(k, "default")) for k, v in sorted(values.items()) if v]


def load_config_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (``#`` comments, optional quotes), kept outside the repository and unreadable to others.

    A file inside a Git work tree would sooner or later be committed with its passwords, so it is refused.
    """
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise BadFile(
            path,
            Bilingual(
                "配置文件不存在（由 DUBAN_CONFIG 指定）；请改正路径或取消 DUBAN_CONFIG",
                "no such configuration file (DUBAN_CONFIG)",
            ),
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        why = Bilingual(
            "不是 UTF-8 编码的文本" if isinstance(exc, UnicodeDecodeError) else "没有读取权限或不是普通文件",
            exc.__class__.__name__,
        )
        raise BadFile(path, Bilingual(f"无法读取（{why.zh}）", f"cannot read it ({why.en})")) from None
    for parent in path.resolve().parents:
        if (parent / ".git").exists():
            raise BadFile(
                path,
                Bilingual(
                    f"位于代码仓库 {parent} 之内；含密码等机密的配置文件请放在仓库之外",
                    f"is inside the repository {parent}; keep configuration with secrets outside it",
                ),
            )
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.startswith("DUBAN_") or not key.replace("_", "").isalnum():
            raise BadFile(
                path,
                Bilingual("应写作 DUBAN_名称=值", "expected DUBAN_NAME=value"),
                key=Bilingual(f"第 {number} 行", f"line {number}"),
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    if mode & stat.S_IROTH and any(is_secret_name(k) for k in values):
        raise BadFile(
            path,
            Bilingual(
                "含有密码等机密，但任何人都能读取；请用 'chmod 600' 限制为仅本人可读",
                "holds secrets and everyone may read it; chmod 600 it",
            ),
        )
    return values
