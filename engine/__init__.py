"""duban engine: workflow interpretation, persistence, services.

The domain (``engine.domain``) knows nothing of databases, click or Celery;
``engine.persistence`` and ``engine.services`` build on it, and ``cli`` on those.
"""
