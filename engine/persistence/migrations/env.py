"""Alembic environment: always handed a live connection by duban.engine.persistence.migrate."""

from alembic import context

from duban.engine.persistence.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
