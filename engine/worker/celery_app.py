"""The Celery app: thin shells around the same service functions that `duban sweep` and the tests call.

Broker: ``DUBAN_BROKER_URL`` (``redis://…`` or ``amqp://…``); without it, kombu's
SQLAlchemy transport on a SQLite file beside the database, so one machine
needs no server. The broker only carries hints: what a broker loses (kombu's
SQLAlchemy transport forgets unacknowledged messages when a worker is
SIGKILLed; Redis hands them back only after its visibility timeout) the relay
hands out again from the outbox within one tick. Deadlines are never Celery
ETA/countdown messages; the sweep computes them from the database.

The beat does not go through the broker for its own work: each tick sweeps
and issues due circulars in the beat process itself, so reminders and
escalations reach the outbox while the broker is down; only the relay (handing
row ids to workers) needs the broker, and it waits in the outbox until then.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery, signals
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import sqlalchemy as kombu_sqlalchemy

from ..app import App
from ..config.secrets import SecretFilter, secret_values
from ..config.settings import Settings
from ..domain.errors import DubanError, InvalidInput, StoreError
from ..services.audit import anchor_if_due
from ..services.circulars import issue_due
from ..services.delivery import DeliveryPolicy, channels_for, check_delivery_settings, deliver_batch, relay_all
from ..services.digest import write_due_digests
from ..services.sweep import sweep

log = logging.getLogger("duban.worker")

_app: App | None = None


def duban_app() -> App:
    """One App per worker process, built from the environment the worker was started with."""
    global _app
    if _app is None:
        _app = App.build(Settings.from_env())
    return _app


def broker_url(settings: Settings) -> str:
    url = settings.extra.get("DUBAN_BROKER_URL")
    if url:
        if not url.startswith(("redis://", "rediss://", "amqp://", "amqps://", "pyamqp://", "sqla+")):
            raise InvalidInput(
                what="DUBAN_BROKER_URL",
                detail=(
                    f"'{url.split('://')[0]}://…' is not a broker duban runs on; use redis://, amqp:// or leave it unset "
                    "for the embedded one"
                ),
            )
        return url
    from ..persistence.db import Database

    db = Database(settings.database_url)
    folder = db.path.parent if db.path is not None else Path.cwd()
    return f"sqla+sqlite:///{(folder / 'duban-broker.sqlite').resolve()}"


RELAY_BATCH = 200  # rows per broker message
EMBEDDED_POLL_SECONDS = 0.05  # kombu's virtual transports poll an empty (or, at the prefetch limit, a full) queue
PREFETCH = 1  # a reserved message's hint runs while it waits: slow network sends must not wait behind it


class EmbeddedTransport(kombu_sqlalchemy.Transport):  # type: ignore[misc]
    """kombu's SQLAlchemy transport, polling every 50 ms instead of every second.

    At one poll a second, a worker with two processes took two 50-row messages a second: about 100
    notifications a second, whatever the database could do. The option cannot go through
    ``broker_transport_options``: this transport hands those to ``create_engine``, which refuses it.
    """

    polling_interval = EMBEDDED_POLL_SECONDS


TRANSPORT_ALIASES["sqla"] = f"{__name__}:EmbeddedTransport"


def make_celery(settings: Settings) -> Celery:
    """The Celery app for workers and for publishing; every delivery setting is checked first (one clear line)."""
    policy = check_delivery_settings(settings)
    url = broker_url(settings)
    app = Celery("duban", broker=url, set_as_current=True)
    # Redis only: how long an unacknowledged message waits before it is handed back (the SQLAlchemy
    # transport would pass the option on to create_engine and fail).
    transport_options = {"visibility_timeout": 3600} if url.startswith(("redis", "rediss")) else {}
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,  # a message is acknowledged after the work, so a dead worker's message is redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=PREFETCH,
        # Per batch, from the per-row budget: a full batch of a slow receiver must not be killed mid-send. The
        # relay sets the limit on each message for its own number of rows; this is for messages without one.
        task_time_limit=policy.batch_time_limit(RELAY_BATCH),
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1},
        worker_hijack_root_logger=False,
        task_default_queue=settings.extra.get("DUBAN_QUEUE", "duban"),
        timezone="UTC",
        duban_policy=policy,
    )
    return app


celery = make_celery(Settings.from_env())


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _mask_secrets(logger: logging.Logger, *_args: Any, **_kwargs: Any) -> None:
    """Celery builds its own log handlers; secrets are masked on those too."""
    flt = SecretFilter(secret_values(os.environ))
    for handler in logger.handlers:
        handler.addFilter(flt)


@celery.task(
    name="duban.deliver",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(StoreError,),  # a busy or briefly unreachable database; a failed send is the outbox's business
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=5,
)
def deliver(ids: list[int]) -> dict[str, int]:
    """Deliver a batch of outbox rows; each is claimed first, so a redelivered message does not send twice."""
    app = duban_app()
    policy = DeliveryPolicy.from_config(app.settings.extra)
    return dict(deliver_batch(app, ids, channels_for(app, policy), policy))


def publisher(app: Celery) -> Callable[[list[int]], None]:
    """Publishing by task name: the relay can run in any process that knows the broker.

    Each message carries a hard time limit for its own number of rows (see ``DeliveryPolicy.batch_time_limit``).
    """
    policy: DeliveryPolicy = app.conf.get("duban_policy") or DeliveryPolicy()

    def publish(ids: list[int]) -> None:
        app.send_task("duban.deliver", args=[ids], time_limit=policy.batch_time_limit(len(ids)))

    return publish


def beat_tick(app: App, publish: Callable[[list[int]], None] | None = None) -> dict[str, Any]:
    """One tick of the beat, in the beat's own process: sweep, issue due circulars, then relay.

    The sweep and the circulars need only the database, so they are written while the broker is down; the
    relay alone needs the broker, and when it is down the rows wait in the outbox for a later tick.
    """
    relayed = {"rows": 0, "failed": False}
    with app.uow(write=False) as uow:  # what the sweep writes comes after this; the last relay sees the rest
        cursor = [uow.outbox.last_id()]  # moved on by each relay between batches

    def relay_batch() -> None:
        """After each sweep batch, unless the broker already refused once this tick (then the rows wait)."""
        if not relayed["failed"]:
            handed = _relay_or_none(app, publish, cursor)
            relayed["rows"] += handed or 0
            relayed["failed"] = handed is None

    result = sweep(app, after_batch=relay_batch)
    digests = write_digests_safely(app)
    issued = issue_circulars_safely(app)
    anchored = anchor_safely(app)
    handed = relayed["rows"] + relay_safely(app, publish)
    return {
        "tasks": result.tasks,
        "notifications": result.notifications,
        "circulars": issued,
        "digests": digests,
        "anchored": anchored,
        "relayed": handed,
    }


def anchor_safely(app: App) -> int | None:
    """The chain's head, signed and stored on schedule: a forged append after it cannot pass as older history.

    Returns the anchored position, or None when none was due (or no DUBAN_AUDIT_KEY is set)."""
    try:
        policy = DeliveryPolicy.from_config(app.settings.extra)
        anchor = anchor_if_due(app, timedelta(seconds=policy.anchor_seconds))
    except DubanError as exc:
        log.error("no anchor taken: %s", exc.render("en"))
        return None
    return anchor.chain_seq if anchor else None


def run_beat(app: App, seconds: float, stop: threading.Event | None = None) -> None:
    """Tick every ``seconds`` until ``stop`` is set; a failed tick is logged and the next one tries again."""
    stop = stop or threading.Event()
    while not stop.is_set():
        started = time.monotonic()
        try:
            figures = beat_tick(app)
            log.info("tick: %s", figures)
        except DubanError as exc:  # the database is unreachable or busy: the next tick catches up
            log.error("tick failed: %s", exc.render("en"))
        except Exception as exc:  # noqa: BLE001 - a beat that dies stops every reminder; log and go on
            log.error("tick failed: %s: %s", type(exc).__name__, exc)
        stop.wait(max(seconds - (time.monotonic() - started), 0.0))


@celery.task(name="duban.tick")
def tick() -> dict[str, Any]:
    """A tick message from an older beat still in the queue: do what the beat now does in its own process."""
    return beat_tick(duban_app())


def write_digests_safely(app: App) -> int:
    """Today's digests once DUBAN_DIGEST_AT has passed; a bad setting is logged each tick and stops nothing else."""
    try:
        return write_due_digests(app)
    except DubanError as exc:
        log.error("digests not written: %s", exc.render("en"))
        return 0


def issue_circulars_safely(app: App) -> list[int]:
    """Due circulars; a broken schedule file is logged each tick and does not stop the sweep or delivery."""
    try:
        return issue_due(app)
    except DubanError as exc:
        log.error("circulars not issued: %s", exc.render("en"))
        return []


def relay_safely(app: App, publish: Callable[[list[int]], None] | None = None) -> int:
    """Relay; if the broker is down the rows stay in the outbox, marked to be handed out again next tick."""
    handed = _relay_or_none(app, publish)
    return 0 if handed is None else handed


def _relay_or_none(
    app: App, publish: Callable[[list[int]], None] | None = None, cursor: list[int] | None = None
) -> int | None:
    """The rows handed to the broker, or None when it refused them (they wait in the outbox)."""
    try:
        policy = DeliveryPolicy.from_config(app.settings.extra)
        return relay_all(app, publish or publisher(celery), batch=RELAY_BATCH, policy=policy, cursor=cursor)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the outbox keeps the work
        log.warning("broker unavailable, notifications stay pending in the outbox: %s", exc)
        with app.uow(write=True) as uow:
            uow.outbox.clear_hints(app.clock.now())
            uow.commit()
        return None


def worker_argv(concurrency: int, loglevel: str) -> list[str]:
    pool = "solo" if concurrency == 1 else "prefork"
    return [
        "worker",
        f"--concurrency={concurrency}",
        f"--pool={pool}",
        f"--loglevel={loglevel}",
        f"--hostname=duban-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
