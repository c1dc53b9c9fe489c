"""Celery processes: `duban worker` delivers, `duban beat` ticks (sweep, circulars, then relay).

Both check every delivery setting before anything else, so a bad value is one line and exit status 2.
"""

from __future__ import annotations

import logging
import time

import click

from .context import Ctx, pass_ctx
from .render import say


def register(cli: click.Group) -> None:
    cli.add_command(worker)
    cli.add_command(beat)


def _export(ctx: Ctx) -> None:
    """The worker builds its app from the environment: hand it what the global options said."""
    import os

    os.environ["DUBAN_DATABASE_URL"] = ctx.settings.database_url


@click.command()
@click.option("--concurrency", "-c", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--loglevel", default="INFO", show_default=True)
@pass_ctx
def worker(ctx: Ctx, concurrency: int, loglevel: str) -> None:
    """Run a Celery worker that delivers notifications (DUBAN_BROKER_URL, or the embedded SQLite broker)."""
    from duban.engine.services.delivery import check_delivery_settings

    check_delivery_settings(ctx.settings)
    ctx.app()  # refuse an unusable database before starting
    _export(ctx)
    from duban.engine.worker import celery_app as w

    w.celery.worker_main(w.worker_argv(concurrency, loglevel))


@click.command()
@click.option("--loglevel", default="INFO", show_default=True)
@pass_ctx
def beat(ctx: Ctx, loglevel: str) -> None:
    """Run the one beat: every DUBAN_SWEEP_SECONDS (default 300) a tick sweeps, issues circulars and relays.

    The tick runs in this process, not as a task on a worker, so reminders and escalations are written to the
    outbox while the broker is down; only handing them to workers waits for the broker.
    """
    from duban.engine.services.delivery import check_delivery_settings

    policy = check_delivery_settings(ctx.settings)
    app = ctx.app()
    _export(ctx)
    from duban.engine.worker import celery_app as w
    from duban.engine.worker.beat_lock import beat_lock

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    while True:
        with beat_lock(app) as held:
            if held:
                say(ctx.t("已取得 beat 锁，开始定时检查", "holding the beat lock; ticking"))
                w.run_beat(app, policy.sweep_seconds)
                return
        logging.getLogger("duban.beat").info("another beat holds the lock; standing by")
        time.sleep(10)
