"""复核: someone outside the unit verifies a reviewed task on site or on paper, with evidence, before it is closed.

The verifier confirms (the task moves to ``verified``) or sends it back to the unit with a reason. The
files are copied into the evidence store under their sha256 before the step's transaction (a refused step
leaves at worst an unreferenced file, as for progress reports), and the event's data names each file by
its hash, so the chain covers what was attached.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..app import App
from ..domain.errors import BadFile, InvalidInput
from ..domain.text import Bilingual
from ..domain.textcheck import check_text
from .refusals import refusals_recorded
from .tasks import FireResult, fire_within

CONFIRM, SEND_BACK = "verify", "send_back"


@dataclass(frozen=True)
class Verification:
    note: str
    on_site: bool
    files: tuple[Path, ...] = ()


def verify_task(
    app: App,
    actor_id: str | None,
    code: str,
    confirm: bool,
    note: str | None,
    *,
    on_site: bool,
    files: tuple[Path, ...],
    if_version: int | None = None,
) -> FireResult:
    trigger = CONFIRM if confirm else SEND_BACK
    with refusals_recorded(app, actor_id, trigger, code[:64]):
        code = check_text(code, "task code", max_len=32)
        text = check_text(note, "note", max_len=4000, multiline=True) if note else ""
        if not text:
            raise InvalidInput(
                what=Bilingual("复核意见", "verification note"),
                detail=Bilingual("请用 -m 写明复核了什么、结论如何", "say with -m what was checked and what was found"),
            )
        for path in files:
            if not path.is_file():
                raise BadFile(path, "no such file to attach")
        with app.uow(write=True) as uow:
            stored = [app.evidence.put(p) for p in files]
            data = {
                "on_site": on_site,
                "files": [{"sha256": s.sha256, "size": s.size, "name": s.original_name} for s in stored],
            }
            fired = fire_within(
                app,
                uow,
                actor_id,
                code,
                trigger,
                comment=text,
                data=data,
                verification=Verification(text, on_site, files),
                if_version=if_version,
            )
            uow.commit()
    return FireResult(code=code, workflow=fired.task.workflow, outcome=fired.outcome, version=fired.seq)
