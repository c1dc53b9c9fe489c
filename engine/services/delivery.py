"""Delivering the outbox: claim a row, send it through its channel, record the outcome.

The database is the source of truth and a broker message only a hint: the
relay hands due rows to the broker (or, inline, to ``deliver_pending``), a
worker claims a row with a lease before sending, and a row whose lease or
hand-out lapsed is handed out again. Transient failures are retried with
exponential backoff up to the attempt limit; then the row is ``failed`` with
its error until ``duban notifications retry``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..app import App
from ..delivery.channels import Channel, Message, Permanent, Transient, build_channels
from ..domain.errors import InvalidInput

STATUSES = ("pending", "sending", "sent", "failed")


@dataclass(frozen=True)
class DeliveryPolicy:
    lease_seconds: int = 300  # a worker must finish a send within this; Celery's time limit is set below it
    max_attempts: int = 5
    retry_base_seconds: int = 30
    relay_hint_seconds: int = 120  # a broker message not acted on within this is handed out again

    @classmethod
    def from_config(cls, config: dict[str, str]) -> DeliveryPolicy:
        def number(key: str, default: int) -> int:
            raw = config.get(key)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise InvalidInput(what=key, detail=f"'{raw}' is not a whole number") from None
            if value < 1:
                raise InvalidInput(what=key, detail=f"{value} must be at least 1")
            return value

        return cls(
            lease_seconds=number("DUBAN_LEASE_SECONDS", cls.lease_seconds),
            max_attempts=number("DUBAN_MAX_ATTEMPTS", cls.max_attempts),
            retry_base_seconds=number("DUBAN_RETRY_BASE_SECONDS", cls.retry_base_seconds),
            relay_hint_seconds=number("DUBAN_RELAY_HINT_SECONDS", cls.relay_hint_seconds),
        )

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_base_seconds * 2 ** max(attempts - 1, 0), 6 * 3600))


def channels_for(app: App) -> dict[str, Channel]:
    default_file = (app.db.path.parent if app.db.path else app.evidence.root.parent) / "notifications.jsonl"
    return build_channels(app.settings.extra, default_file)


def deliver_one(
    app: App, notification_id: int, channels: dict[str, Channel] | None = None, policy: DeliveryPolicy | None = None
) -> str:
    """'sent', 'retry', 'failed', or 'skipped' (already sent, held by a live worker, or overtaken by another)."""
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    channels = channels if channels is not None else channels_for(app)
    now = app.clock.now()
    with app.uow(write=True) as uow:
        claimed = uow.outbox.claim(notification_id, now, now + timedelta(seconds=policy.lease_seconds))
        if claimed is not None and claimed.attempts > policy.max_attempts:
            # claimed again and again without an outcome: the workers sending it keep dying
            uow.outbox.mark_failed(
                notification_id, f"no outcome after {claimed.attempts - 1} attempts", claimed.attempts
            )
            uow.commit()
            return "failed"
        uow.commit()
    if claimed is None:
        return "skipped"
    try:
        channel = channels.get(claimed.channel)
        if channel is None:
            raise Permanent(f"channel '{claimed.channel}' is not configured (see DUBAN_CHANNELS and the README)")
        channel.send(Message(claimed.dedup_key, claimed.recipient_id, claimed.address, claimed.subject, claimed.body))
    except Permanent as exc:
        return _record(app, claimed.id, claimed.attempts, "failed", str(exc), policy)
    except Transient as exc:
        return _record(app, claimed.id, claimed.attempts, "retry", str(exc), policy)
    except Exception as exc:  # noqa: BLE001 - a channel bug or a surprise from a library: retry, never get stuck
        return _record(
            app,
            claimed.id,
            claimed.attempts,
            "retry",
            f"{type(exc).__name__} in channel '{claimed.channel}' (details withheld: they may carry secrets)",
            policy,
        )
    with app.uow(write=True) as uow:
        recorded = uow.outbox.mark_sent(claimed.id, app.clock.now(), claimed.attempts)
        uow.commit()
    return "sent" if recorded else "skipped"


def _record(app: App, notification_id: int, attempts: int, outcome: str, error: str, policy: DeliveryPolicy) -> str:
    with app.uow(write=True) as uow:
        if outcome == "retry" and attempts >= policy.max_attempts:
            outcome, error = "failed", f"after {attempts} attempts: {error}"
        if outcome == "failed":
            recorded = uow.outbox.mark_failed(notification_id, error, attempts)
        else:
            recorded = uow.outbox.mark_retry(
                notification_id, app.clock.now() + policy.backoff(attempts), error, attempts
            )
        uow.commit()
    return outcome if recorded else "skipped"


def relay(
    app: App,
    publish: Callable[[list[int]], None],
    limit: int = 5000,
    batch: int = 50,
    policy: DeliveryPolicy | None = None,
) -> int:
    """Hand due rows to ``publish`` in batches; the rows are marked first, so a lost hint is re-sent later."""
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    now = app.clock.now()
    with app.uow(write=True) as uow:
        ids = uow.outbox.take_for_relay(now, now + timedelta(seconds=policy.relay_hint_seconds), limit)
        uow.commit()
    for i in range(0, len(ids), batch):
        publish(ids[i : i + batch])
    return len(ids)


def deliver_pending(app: App, limit: int = 5000) -> Counter[str]:
    """Inline delivery (``duban sweep --deliver``, cron users, the demo): relay straight to ``deliver_one``."""
    outcomes: Counter[str] = Counter()
    channels = channels_for(app)
    policy = DeliveryPolicy.from_config(app.settings.extra)

    def publish(ids: list[int]) -> None:
        for i in ids:
            outcomes[deliver_one(app, i, channels, policy)] += 1

    relay(app, publish, limit=limit, policy=policy)
    return outcomes


@dataclass(frozen=True)
class NotificationView:
    id: int
    code: str | None
    rule: str
    level: int
    recipient: str | None
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    subject: str


def list_notifications(app: App, status: str | None = None, limit: int = 200) -> list[NotificationView]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(what="status", detail=f"'{status}' is not one of {', '.join(STATUSES)}")
    from ..persistence.types import decode_instant

    with app.uow(write=False) as uow:
        rows = uow.outbox.listing(status, limit)
    return [
        NotificationView(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            decode_instant(r[8]),
            None if r[9] is None else decode_instant(r[9]),
            r[10],
            r[11],
        )
        for r in rows
    ]


def retry_notifications(app: App, ids: list[int] | None) -> int:
    """Failed rows back to pending with their attempts reset; ``None`` means every failed row."""
    with app.uow(write=True) as uow:
        count = uow.outbox.requeue(ids, app.clock.now())
        uow.commit()
    return count
