"""Alembic environment: always runs on the connection `livebeats.migrate` hands over.

That connection already holds the migration advisory lock, so this file does
not open connections of its own.
"""

from alembic import context

from livebeats.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
