"""The Celery worker and beat: `celery -A duban.engine.worker` finds the app here."""

from .celery_app import celery

__all__ = ["celery"]
