"""``duban.web.asgi:app`` for uvicorn or gunicorn workers: the engine from the environment (DUBAN_DATABASE_URL, …)."""

from __future__ import annotations

from duban.engine.services import accounts

from .app import create_app

app = create_app()
accounts.check_may_serve(app.state.duban)
