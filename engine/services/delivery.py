"""Delivering the outbox: claim a row, send it through its channel, record the outcome.

The database is the source of truth and a broker message only a hint: the
relay hands due rows to the broker (or, inline, to ``deliver_pending``), a
worker claims a row with a lease before sending, and a row whose lease or
hand-out lapsed is handed out again. Transient failures are retried with
exponential backoff up to the attempt limit; then the row is ``failed`` with
its error until ``duban notifications retry``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..app import App
from ..config.settings import Settings
from ..delivery.channels import Attachment, Channel, LeaseLost, Message, Permanent, Transient, build_channels
from ..domain.digest import parse_digest_at
from ..domain.errors import InvalidInput
from ..domain.text import Bilingual
from ..persistence.outbox import Claimed

log = logging.getLogger("duban.delivery")

STATUSES = ("pending", "sending", "sent", "failed", "folded")  # folded: kept for a daily digest, not sent


@dataclass(frozen=True)
class DeliveryPolicy:
    """Every delivery setting, parsed and checked together before anything is written.

    A bad value is refused at start-up (``duban sweep --deliver``, ``duban worker``, ``duban beat``) with one
    line naming the variable, rather than after a sweep has committed or inside a running worker.
    """

    lease_seconds: int = 300  # a worker holds a row this long from its claim, and again from just before the send
    max_attempts: int = 5
    retry_base_seconds: int = 30
    relay_hint_seconds: int = 120  # a broker message not acted on within this is handed out again
    sweep_seconds: float = 300  # the beat's tick
    send_timeout_seconds: float = 20  # each network step of a send (connect, each reply); below the lease
    anchor_seconds: float = 3600  # the beat signs and stores the chain's head this often (with DUBAN_AUDIT_KEY)

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> DeliveryPolicy:
        def number(
            key: str, default: float, what: Bilingual, low: float = 1, high: float = 10**7, whole: bool = True
        ) -> Any:
            raw = config.get(key)
            if raw is None or raw.strip() == "":
                return default
            fix = Bilingual(zh=f"请设为{what.zh}（默认 {default:g}）", en=f"set it to {what.en} (default {default:g})")
            try:
                value: float = int(raw) if whole else float(raw)
            except ValueError:
                kind = Bilingual(zh="整数", en="a whole number") if whole else Bilingual(zh="数字", en="a number")
                raise InvalidInput(
                    what=key,
                    detail=Bilingual(zh=f"'{raw}' 不是{kind.zh}；{fix.zh}", en=f"'{raw}' is not {kind.en}; {fix.en}"),
                ) from None
            if not low <= value <= high or value != value:  # NaN compares false
                raise InvalidInput(
                    what=key,
                    detail=Bilingual(
                        zh=f"{raw} 不在 {low:g} 到 {high:g} 之间；{fix.zh}",
                        en=f"{raw} is outside {low:g} to {high:g}; {fix.en}",
                    ),
                )
            return value

        policy = cls(
            lease_seconds=number(
                "DUBAN_LEASE_SECONDS",
                cls.lease_seconds,
                Bilingual(zh="工作进程持有一条通知的秒数", en="the seconds a worker may hold a notification"),
            ),
            max_attempts=number(
                "DUBAN_MAX_ATTEMPTS",
                cls.max_attempts,
                Bilingual(zh="判定失败前的投递次数", en="the tries before a notification fails"),
                high=1000,
            ),
            retry_base_seconds=number(
                "DUBAN_RETRY_BASE_SECONDS",
                cls.retry_base_seconds,
                Bilingual(zh="首次重试前等待的秒数", en="the first retry's delay in seconds"),
            ),
            relay_hint_seconds=number(
                "DUBAN_RELAY_HINT_SECONDS",
                cls.relay_hint_seconds,
                Bilingual(zh="重新派发未处理消息前等待的秒数", en="the seconds before a lost hand-out is repeated"),
            ),
            sweep_seconds=number(
                "DUBAN_SWEEP_SECONDS",
                cls.sweep_seconds,
                Bilingual(zh="beat 两次定时检查之间的秒数", en="the seconds between beat ticks"),
                high=86400,
                whole=False,
            ),
            anchor_seconds=number(
                "DUBAN_ANCHOR_SECONDS",
                cls.anchor_seconds,
                Bilingual(zh="beat 两次保存审计锚点之间的秒数", en="the seconds between anchors the beat stores"),
                low=60,
                high=7 * 86400,
                whole=False,
            ),
            send_timeout_seconds=number(
                "DUBAN_SEND_TIMEOUT_SECONDS",
                cls.send_timeout_seconds,
                Bilingual(zh="发送渠道等待接收方的秒数", en="the seconds a channel waits for a receiver"),
                low=0.1,
                high=3600,
                whole=False,
            ),
        )
        if policy.send_timeout_seconds >= policy.lease_seconds:
            timeout, lease = f"{policy.send_timeout_seconds:g}", policy.lease_seconds
            raise InvalidInput(
                what="DUBAN_SEND_TIMEOUT_SECONDS",
                detail=Bilingual(
                    zh=(
                        f"{timeout} 秒不小于 DUBAN_LEASE_SECONDS（{lease} 秒）：发送必须在工作进程仍持有该通知时结束；"
                        "请调低超时或调高租期"
                    ),
                    en=(
                        f"{timeout} s is not less than DUBAN_LEASE_SECONDS ({lease} s): a send must end while its "
                        "worker still holds the row; lower the time-out or raise the lease"
                    ),
                ),
            )
        return policy

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.retry_base_seconds * 2 ** max(attempts - 1, 0), 6 * 3600))

    @property
    def row_budget_seconds(self) -> float:
        """The longest one row may take in a worker: the claim, the connection, the reply, the record.

        Connecting and each reply may each take up to the time-out (SMTP has several replies), plus the database.
        """
        return 3 * self.send_timeout_seconds + 10

    def batch_time_limit(self, rows: int) -> float:
        """Celery's hard time limit for a batch: per row, never one lease for the whole batch.

        Sized from the lease, a batch of 50 to a receiver slower than a few seconds was killed mid-send and
        handed out again, and the row in flight went out twice.
        """
        return max(rows, 1) * self.row_budget_seconds + 10


def check_delivery_settings(settings: Settings) -> DeliveryPolicy:
    """Parse every delivery setting (policy, channel endpoints, ports) or refuse with one line; writes nothing."""
    policy = DeliveryPolicy.from_config(settings.extra)
    build_channels(settings.extra, Path("notifications.jsonl"), policy.send_timeout_seconds)
    parse_digest_at(settings.extra.get("DUBAN_DIGEST_AT"))  # the beat writes digests: refuse a bad time at start-up
    return policy


def channels_for(app: App, policy: DeliveryPolicy | None = None) -> dict[str, Channel]:
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    default_file = (app.db.path.parent if app.db.path else app.evidence.root.parent) / "notifications.jsonl"
    return build_channels(app.settings.extra, default_file, policy.send_timeout_seconds)


def deliver_one(
    app: App, notification_id: int, channels: dict[str, Channel] | None = None, policy: DeliveryPolicy | None = None
) -> str:
    """'sent', 'retry', 'failed', or 'skipped' (already sent, held by a live worker, or overtaken by another).

    The row is claimed under a lease, and the lease is extended once more right before the message leaves (the
    channel's guard, after connecting). A worker that was paused or stalled past its lease and lost the row to
    another gives up there without sending; if the extension cannot be written it does not send either.
    """
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    channels = channels if channels is not None else channels_for(app, policy)
    lease = timedelta(seconds=policy.lease_seconds)
    now = app.clock.now()
    with app.uow(write=True) as uow:
        claimed = uow.outbox.claim(notification_id, now, now + lease)
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
    row = claimed

    def guard() -> None:
        try:
            with app.uow(write=True) as uow:
                held = uow.outbox.extend_lease(row.id, row.attempts, app.clock.now() + lease)
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - no proof of the lease, no send
            raise LeaseLost(
                f"the lease on notification {row.id} could not be extended ({type(exc).__name__})"
            ) from None
        if not held:
            raise LeaseLost(f"notification {row.id} was taken over by another worker after this one's lease ran out")

    try:
        channel = channels.get(claimed.channel)
        if channel is None:
            raise Permanent(f"channel '{claimed.channel}' is not configured (see DUBAN_CHANNELS and the README)")
        channel.send(_message(app, claimed), guard)
    except LeaseLost as exc:
        log.warning("not sent: %s", exc)
        return "skipped"
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


def deliver_batch(
    app: App, ids: list[int], channels: dict[str, Channel] | None = None, policy: DeliveryPolicy | None = None
) -> Counter[str]:
    """A broker message's rows: those for a channel that writes a batch at once go out together, the rest one by one.

    For a batch channel (the file, the console) the rows are claimed in one statement, the guard checks once
    (after the file is open, before the first byte) that every claim still owns its row with nearly a whole
    lease ahead, extending the leases when it does not, and the sends are recorded in one commit. The claims and
    the check are the same as ``deliver_one``'s, so a paused worker whose rows were taken over sends none of them.
    What is given up: a worker killed between the write and the record leaves the whole batch, not one row, to
    be sent again with the same keys (the receiver drops them by the key, as for one row).
    Network channels (webhook, email, robots) send one message per exchange, so each row keeps its own claim.
    """
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    channels = channels if channels is not None else channels_for(app, policy)
    outcomes: Counter[str] = Counter()
    with app.uow(write=False) as uow:
        names = uow.outbox.channels_of(ids)
    by_channel: dict[str, list[int]] = {}
    for i in ids:
        name = names.get(i)
        if name is not None and hasattr(channels.get(name), "send_many"):
            by_channel.setdefault(name, []).append(i)
        else:
            outcomes[deliver_one(app, i, channels, policy)] += 1
    for name, rows in by_channel.items():
        outcomes.update(_deliver_together(app, rows, channels[name], policy))
    return outcomes


def _deliver_together(app: App, ids: list[int], channel: Any, policy: DeliveryPolicy) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    lease = timedelta(seconds=policy.lease_seconds)
    now = app.clock.now()
    with app.uow(write=True) as uow:
        claimed = uow.outbox.claim_many(ids, now, now + lease)
        worn = [c for c in claimed if c.attempts > policy.max_attempts]
        for c in worn:  # claimed again and again without an outcome: the workers sending it keep dying
            uow.outbox.mark_failed(c.id, f"no outcome after {c.attempts - 1} attempts", c.attempts)
        uow.commit()
    outcomes.update({"failed": len(worn), "skipped": len(ids) - len(claimed)})
    rows = [c for c in claimed if c.attempts <= policy.max_attempts]
    if not rows:
        return +outcomes  # unary plus drops the zero counts
    claims = [(c.id, c.attempts) for c in rows]
    # A check that writes nothing is enough while every lease has nearly all of its length ahead: nobody can
    # take a row over before its lease ends. Otherwise (a slow open, a pause) the leases are extended, as one.
    fresh_until = lease - timedelta(seconds=policy.send_timeout_seconds)

    def guard() -> None:
        try:
            at = app.clock.now()
            with app.uow(write=False) as uow:
                held = uow.outbox.held(claims)
            if len(held) == len(claims) and all(until - at >= fresh_until for until in held.values()):
                return
            with app.uow(write=True) as uow:
                extended = uow.outbox.extend_many(claims, app.clock.now() + lease)
                if extended != len(claims):  # leaving without a commit rolls the extensions back
                    raise LeaseLost(
                        f"{len(claims) - extended} of {len(claims)} notifications were taken over by another worker "
                        "after this one's lease ran out"
                    )
                uow.commit()
        except LeaseLost:
            raise
        except Exception as exc:  # noqa: BLE001 - no proof of the leases, no send
            raise LeaseLost(
                f"the leases on {len(claims)} notifications could not be checked ({type(exc).__name__})"
            ) from None

    try:
        channel.send_many([_message(app, c) for c in rows], guard)
    except LeaseLost as exc:
        # Rows still owned go back to pending at once; those taken over are the other worker's. Nothing was sent.
        log.warning("not sent: %s", exc)
        with app.uow(write=True) as uow:
            uow.outbox.release_many(claims)
            uow.commit()
        outcomes["skipped"] += len(rows)
        return +outcomes
    except (Permanent, Transient) as exc:
        outcome = "failed" if isinstance(exc, Permanent) else "retry"
        for c in rows:
            outcomes[_record(app, c.id, c.attempts, outcome, str(exc), policy)] += 1
        return +outcomes
    except Exception as exc:  # noqa: BLE001 - a channel bug: retry, never get stuck
        error = f"{type(exc).__name__} in channel '{rows[0].channel}' (details withheld: they may carry secrets)"
        for c in rows:
            outcomes[_record(app, c.id, c.attempts, "retry", error, policy)] += 1
        return +outcomes
    with app.uow(write=True) as uow:
        recorded = uow.outbox.mark_sent_many(claims, app.clock.now())
        uow.commit()
    outcomes.update({"sent": recorded, "skipped": len(rows) - recorded})
    return +outcomes


def _message(app: App, c: Claimed) -> Message:
    """The row as its channel sends it, with its attachments (a 督办单 as Word and PDF) rendered now."""
    return Message(c.dedup_key, c.recipient_id, c.address, c.subject, c.body, attachments(app, c.attachment))


def attachments(app: App, ref: str | None) -> tuple[Attachment, ...]:
    """What ``notifications.attachment`` names, rendered; a reference nothing answers is logged and left out."""
    if not ref:
        return ()
    from .supervision_notices import notice_attachments  # python-docx, reportlab: loaded only by a row that needs them

    found = notice_attachments(app, ref)
    if not found:
        log.warning("attachment %s not found; the message goes without it", ref)
    return found


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
    after: int | None = None,
    cursor: list[int] | None = None,
) -> int:
    """Hand due rows to ``publish`` in batches; the rows are marked first, so a lost hint is re-sent later.

    Rows for the channels that write a batch at once (the file, the console) go ``batch`` to a message; rows for
    network channels go at most ``NETWORK_BATCH``, as before batching: a message of slow sends must be claimed
    row by row within the relay's hint, or its last rows are handed out again while it still works.
    """
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    now = app.clock.now()
    with app.uow(write=True) as uow:
        taken = uow.outbox.take_for_relay(now, now + timedelta(seconds=policy.relay_hint_seconds), limit, after)
        uow.commit()
    if taken and cursor is not None:
        cursor[0] = max(cursor[0], max(i for i, _channel in taken))
    together = [i for i, channel in taken if channel in BATCH_CHANNELS]
    one_by_one = [i for i, channel in taken if channel not in BATCH_CHANNELS]
    for ids, size in ((together, batch), (one_by_one, min(batch, NETWORK_BATCH))):
        for i in range(0, len(ids), size):
            publish(ids[i : i + size])
    return len(taken)


BATCH_CHANNELS = frozenset({"file", "console"})  # channels whose rows a worker writes together (send_many)
NETWORK_BATCH = 50  # rows per broker message for the other channels


def relay_all(
    app: App,
    publish: Callable[[list[int]], None],
    batch: int = 50,
    policy: DeliveryPolicy | None = None,
    cursor: list[int] | None = None,
) -> int:
    """The beat's relay: every due row in one tick, ``RELAY_CHUNK`` rows per transaction.

    One relay of 5,000 per tick left a morning's storm waiting for tick after tick (one every five minutes).
    ``cursor`` (a one-item list, the highest id handed out so far): only rows after it are looked at, and it is
    moved on; the relays between sweep batches use it, the tick's last relay looks at every row.
    """
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    total = 0
    while True:
        after = None if cursor is None else cursor[0]
        handed = relay(app, publish, limit=RELAY_CHUNK, batch=batch, policy=policy, after=after, cursor=cursor)
        total += handed
        if handed < RELAY_CHUNK:
            return total


RELAY_CHUNK = 5000


def deliver_pending(app: App, limit: int = 5000, policy: DeliveryPolicy | None = None) -> Counter[str]:
    """Inline delivery (``duban sweep --deliver``, cron users, the demo): relay straight to ``deliver_one``."""
    outcomes: Counter[str] = Counter()
    policy = policy or DeliveryPolicy.from_config(app.settings.extra)
    channels = channels_for(app, policy)

    def publish(ids: list[int]) -> None:
        outcomes.update(deliver_batch(app, ids, channels, policy))

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
        raise InvalidInput(
            what=Bilingual("状态", "status"),
            detail=Bilingual(
                f"'{status}' 不是通知状态（可用：{'、'.join(STATUSES)}）",
                f"'{status}' is not one of {', '.join(STATUSES)}",
            ),
        )
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
