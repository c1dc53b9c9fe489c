"""Parameter types with messages a user can act on."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from engine.domain.clock import parse_date
from engine.domain.errors import InvalidInput


class DateParam(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_date(str(value))
        except InvalidInput as exc:
            self.fail(exc.params["detail"], param, ctx)


class KeyValue(click.ParamType):
    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        if isinstance(value, tuple):
            return value
        key, sep, val = str(value).partition("=")
        if not sep or not key.strip():
            self.fail(f"'{value}' should be KEY=VALUE, e.g. households=3", param, ctx)
        return key.strip(), val


DATE = DateParam()
KEY_VALUE = KeyValue()
