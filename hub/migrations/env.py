"""Alembic environment: migrations run on the connection that `hub.core.migrate` passes."""

from alembic import context

from hub.core.store import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through hub.core.migrate.upgrade (recado migrate)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
