"""duban engine: workflow interpretation, persistence, services.

The domain (``duban.engine.domain``) knows nothing of databases, click or Celery;
``duban.engine.persistence`` and ``duban.engine.services`` build on it, and ``cli`` on those.
"""
