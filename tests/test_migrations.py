"""The Alembic migrations build exactly the schema that `hub.core.store` describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.core.store import Store, metadata


def test_migrations_match_the_tables_the_code_uses(store: Store) -> None:
    with store.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(store: Store) -> None:
    store.migrate()
    with store.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
