"""What every command shares: settings, language, output mode, the acting person, the app."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from duban.engine.config.settings import Settings
from duban.engine.domain.text import Bilingual, Lang

if TYPE_CHECKING:
    from duban.engine.app import App


@dataclass
class Ctx:
    settings: Settings
    lang: Lang
    json: bool = False
    actor: str | None = None
    _app: App | None = field(default=None, repr=False)
    single_desk: bool = False
    absent: str | None = None  # --for: the person away whom the acting person stands in for (代理)
    _for_token: Any = field(default=None, repr=False)

    def app(self, *, check: bool = True) -> App:
        """The wired app; by default only once the database is a duban database and the operator is known."""
        if self._app is None:
            # Imported here: the app brings SQLAlchemy, which `duban --version` and `--help` need not load.
            from duban.engine.app import App
            from duban.engine.services.identity import check_operator
            from duban.engine.services.workspace import open_workspace

            self._app = App.build(self.settings)
            if self.absent:
                from duban.engine.services.identity import acting_for

                self._for_token = acting_for.set(self.absent)
            if check:
                open_workspace(self._app)
                self.single_desk = check_operator(self._app, self.actor)
        return self._app

    def t(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh" else en

    def pick(self, text: Bilingual) -> str:
        return text.pick(self.lang)

    def _desk_note_due(self) -> bool:
        """The single-desk note is said once a day per workspace: the day last said is kept beside the database."""
        if self._app is None:
            return True
        today = self._app.clock.now().astimezone(self._app.tz).date().isoformat()
        db = self._app.db
        if db.path is not None:
            marker = db.path.parent / f".{db.path.name}.desk-note"
        else:
            key = hashlib.sha256(str(self.settings.database_url).encode()).hexdigest()[:16]
            marker = Path.home() / ".cache" / "duban" / f"desk-note-{key}"
        try:
            if marker.read_text(encoding="utf-8").strip() == today:
                return False
        except (OSError, UnicodeDecodeError):
            pass
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(today + "\n", encoding="utf-8")
        except OSError:
            pass  # a read-only place: say it every time rather than never
        return True

    def close(self) -> None:
        if self._for_token is not None:  # one command's --for ends with it (tests run many in one process)
            from duban.engine.services.identity import acting_for

            acting_for.reset(self._for_token)
            self._for_token = None
        if self.single_desk and sys.exc_info()[1] is None and not self.json and self._desk_note_due():
            click.echo(
                self.t(
                    "duban：提示：单机模式——操作人按 --as 记录，未核对系统账号",
                    "duban: note: single-desk workspace: people act as typed (--as); accounts are not checked",
                ),
                err=True,
            )
        if self._app is not None:
            years = sorted(self._app.calendar.fallback_years)
            if years:
                listed = "、".join(map(str, years))
                click.echo(
                    self.t(
                        f"duban：提示：{listed} 年尚无法定节假日数据，按周一至周五（除元旦、劳动节、国庆固定日期）计算工作日；"
                        "可用 DUBAN_CALENDAR 补充本地安排",
                        f"duban: warning: no statutory holiday calendar for {', '.join(map(str, years))} yet; "
                        "working days are counted Monday to Friday (less the fixed-date holidays); "
                        "add local days with DUBAN_CALENDAR",
                    ),
                    err=True,
                )
            self._app.close()


pass_ctx = click.make_pass_decorator(Ctx)


def json_option(f):  # type: ignore[no-untyped-def]
    """``--json`` on a reading command, as well as globally before the command."""

    def _set(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.find_object(Ctx).json = True  # type: ignore[union-attr]

    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        expose_value=False,
        callback=_set,
        help="Machine-readable output with stable keys.",
    )(f)
