"""Refused attempts are on record: who tried what on which task, and why it was refused.

The refused transaction wrote nothing; the refusal is written afterwards in a
transaction of its own, under the account that ran the command (which a user
cannot choose), beside the name they typed.
"""

from __future__ import annotations

from types import TracebackType
from typing import Literal

from ..app import App
from ..domain.audit import RecordFacts
from ..domain.errors import DubanError, StoreError
from .identity import accounts, operator_label, signed_in

REFUSAL = "refusal"


def record_refusal(app: App, actor: str | None, action: str, code: str | None, error: DubanError) -> None:
    """On the chain like an event: deleting a refusal leaves a gap, editing one breaks its hash."""
    session = signed_in.get()
    try:
        with app.uow(write=True) as uow:
            uow.records.append(
                RecordFacts(
                    kind=REFUSAL,
                    subject=(code or "")[:64],
                    body={
                        "actor": (actor or "")[:200] or None,
                        "operator": operator_label(app)[:200],
                        "action": action[:64],
                        "reason": error.render("en")[:2000],
                        "exit_code": error.exit_code,
                    },
                    at=app.clock.now(),
                    account=str(accounts(app, uow)[0]),
                    operator_id=None,
                    via=session.account if session else None,
                )
            )
            uow.commit()
    except DubanError:  # the store itself is failing: the user still hears the first refusal
        pass


class refusals_recorded:  # noqa: N801  (used as a function: ``with refusals_recorded(...)``)
    """Around a command that changes data: a refusal (not a store failure) is recorded, then raised.

    A class rather than a ``@contextmanager`` generator: every firing goes through it, and the generator's
    frame and wrapper cost a few microseconds per firing that this does not."""

    __slots__ = ("app", "actor", "action", "code")

    def __init__(self, app: App, actor: str | None, action: str, code: str | None = None) -> None:
        self.app, self.actor, self.action, self.code = app, actor, action, code

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        if isinstance(exc, DubanError) and not isinstance(exc, StoreError):
            record_refusal(self.app, self.actor, self.action, self.code, exc)
        return False  # raised as it was
