"""Pure domain: workflow specs, their state machines, organisation rules, errors.

Nothing here imports a database session, click or Celery, so it is tested
without any of them.
"""
