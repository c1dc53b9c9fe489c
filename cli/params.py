"""Parameter types with messages a user can act on."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from duban.engine.domain.clock import parse_date
from duban.engine.domain.errors import InvalidInput
from duban.engine.domain.text import Lang, pick

from . import zh


class DateParam(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value))
        except InvalidInput as exc:
            if _lang(ctx) == "zh":
                self.fail(f"'{value}' 不是 2000–2100 年间的日期，应写作 2026-06-30", param, ctx)
            self.fail(pick(exc.params["detail"], "en"), param, ctx)


class KeyValue(click.ParamType):
    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        key, sep, val = str(value).partition("=")
        if not sep or not key.strip():
            if _lang(ctx) == "zh":
                self.fail(f"'{value}' 应写作 键=值，如 households=3", param, ctx)
            self.fail(f"'{value}' should be KEY=VALUE, e.g. households=3", param, ctx)
        return key.strip(), val


def _lang(_ctx: click.Context | None) -> Lang:
    return zh.current()  # read from the command line before parsing, wherever --lang stands


DATE = DateParam()
KEY_VALUE = KeyValue()
