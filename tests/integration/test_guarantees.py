"""The promises of the README's "What duban guarantees" that no other module tests on its own."""

from __future__ import annotations

import pytest

from duban.engine.app import App
from duban.engine.domain.errors import StoreError
from duban.engine.domain.text import Bilingual
from duban.engine.persistence.outbox import OutboxRepository
from duban.engine.services.audit import verify
from duban.engine.services.tasks import fire
from tests.conftest import DEPUTY
from tests.helpers import check_history, new_task, snapshot, to_submitted


def test_a_transition_and_its_notifications_commit_together_or_not_at_all(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reject tells the unit: if writing that notice fails, the state change and its event are not kept either."""
    code = new_task(app)
    to_submitted(app, code)
    before = snapshot(app)

    def failing_add(self: OutboxRepository, notice: object, now: object) -> bool:
        raise StoreError(db="test", detail=Bilingual("写入通知失败", "the outbox write failed"))

    monkeypatch.setattr(OutboxRepository, "add", failing_add)
    with pytest.raises(StoreError, match="outbox write failed"):
        fire(app, DEPUTY, code, "reject", comment="材料不全")
    assert snapshot(app) == before  # no state change, no event, no ledger step
    monkeypatch.undo()
    fire(app, DEPUTY, code, "reject", comment="材料不全")
    with app.db.engine.connect() as conn:
        from sqlalchemy import text

        told = conn.execute(text("SELECT COUNT(*) FROM notifications WHERE dedup_key LIKE '%:event:5:%'")).scalar()
    assert told and told > 0
    check_history(app)
    assert verify(app).ok
