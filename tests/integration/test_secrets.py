"""Secrets come from the environment or a config file outside the repository, and are never shown."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from duban.engine.config.secrets import MASK, SecretFilter, mask, secret_values
from duban.engine.config.settings import Settings
from duban.engine.domain.errors import BadFile

SECRETS = {
    "DUBAN_SMTP_PASSWORD": "hunter2-smtp",
    "DUBAN_DINGTALK_SECRET": "SECabcdef0123456789",
    "DUBAN_WECOM_WEBHOOK": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wecom-token-42",
    "DUBAN_DATABASE_URL": "postgresql+psycopg://duban:pg-pass-77@db.example/duban",
    "DUBAN_BROKER_URL": "amqp://guest:rabbit-pass-9@mq.example:5672//",
}


def test_masks_by_name_and_in_urls() -> None:
    assert mask("DUBAN_SMTP_PASSWORD", "x" * 10) == MASK
    assert mask("DUBAN_DINGTALK_SECRET", "abc") == MASK
    assert mask("DUBAN_WECOM_WEBHOOK", SECRETS["DUBAN_WECOM_WEBHOOK"]) == (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?****"
    )
    assert (
        mask("DUBAN_DATABASE_URL", SECRETS["DUBAN_DATABASE_URL"]) == "postgresql+psycopg://duban:****@db.example/duban"
    )
    assert mask("DUBAN_TZ", "Asia/Shanghai") == "Asia/Shanghai"


def test_config_show_never_prints_a_secret(call, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    for args in (("config", "show"), ("config", "show", "--json")):
        r = call(*args)
        assert r.code == 0, r.err
        for value in ("hunter2-smtp", "SECabcdef0123456789", "wecom-token-42", "pg-pass-77", "rabbit-pass-9"):
            assert value not in r.out and value not in r.err
    shown = {row["name"]: row for row in call("config", "show", "--json").json()}
    assert shown["DUBAN_SMTP_PASSWORD"] == {"name": "DUBAN_SMTP_PASSWORD", "value": MASK, "source": "environment"}
    assert shown["DUBAN_TZ"]["source"] == "default"


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("duban.test.secrets")
    flt = SecretFilter(secret_values(SECRETS))
    logger.addFilter(flt)
    try:
        with caplog.at_level(logging.WARNING, logger="duban.test.secrets"):
            logger.warning("send failed for %s", SECRETS["DUBAN_WECOM_WEBHOOK"])
            logger.warning("login refused with password hunter2-smtp")
    finally:
        logger.removeFilter(flt)
    assert "wecom-token-42" not in caplog.text and "hunter2-smtp" not in caplog.text
    assert caplog.text.count(MASK) == 2


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_a_config_file_outside_the_repo_fills_in_under_the_environment(tmp_path: Path) -> None:
    conf = _write(tmp_path / "duban.env", "# secrets\nDUBAN_SMTP_PASSWORD='from-file-pw'\nexport DUBAN_TZ=UTC\n")
    settings = Settings.from_env({"DUBAN_CONFIG": str(conf), "DUBAN_TZ": "Asia/Shanghai"})
    assert settings.extra["DUBAN_SMTP_PASSWORD"] == "from-file-pw"
    assert settings.timezone == "Asia/Shanghai"  # the environment wins
    assert dict((n, s) for n, _v, s in settings.shown())["DUBAN_SMTP_PASSWORD"] == str(conf)


def test_a_config_file_inside_a_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "deploy").mkdir()
    conf = _write(tmp_path / "deploy" / "duban.env", "DUBAN_SMTP_PASSWORD=x1234\n")
    with pytest.raises(BadFile, match="inside the repository"):
        Settings.from_env({"DUBAN_CONFIG": str(conf)})


def test_a_world_readable_secret_file_is_refused(tmp_path: Path) -> None:
    conf = _write(tmp_path / "duban.env", "DUBAN_SMTP_PASSWORD=x1234\n", 0o644)
    with pytest.raises(BadFile, match="chmod 600"):
        Settings.from_env({"DUBAN_CONFIG": str(conf)})


@pytest.mark.parametrize("text", ["SMTP_PASSWORD=x\n", "DUBAN_X\n", "DUBAN_A B=1\n"])
def test_bad_config_lines_name_the_line(tmp_path: Path, text: str) -> None:
    conf = _write(tmp_path / "duban.env", "# ok\n" + text)
    with pytest.raises(BadFile, match="line 2"):
        Settings.from_env({"DUBAN_CONFIG": str(conf)})


def test_a_bad_config_file_is_one_line_at_the_cli(call, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DUBAN_CONFIG", str(tmp_path / "missing.env"))
    r = call("config", "show")
    assert r.code == 2 and "missing.env" in r.err and len(r.err.strip().splitlines()) == 1
