"""Use cases: what the CLI, the Celery tasks, the demo and the tests all call."""
