"""Shared fixtures of the core's tests: a store on SQLite and on PostgreSQL, sample clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sample_clients import clients_yaml

from hub.core import directory
from hub.core.engine import Engine
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings

PG_ADMIN = os.environ.get("RECADO_TEST_POSTGRES", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def _postgres_reason() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL is not reachable ({PG_ADMIN}): {str(exc).strip().splitlines()[0]}"


POSTGRES_MISSING = _postgres_reason()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    if POSTGRES_MISSING:
        pytest.skip(POSTGRES_MISSING)
    name = f"recado_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    params = psycopg.conninfo.conninfo_to_dict(PG_ADMIN)
    host, port, user = (
        params.get("host", "127.0.0.1"),
        params.get("port", "5432"),
        params.get("user", "postgres"),
    )
    yield f"postgresql+psycopg://{user}@{host}:{port}/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same tests on the embedded SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        opened = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    else:
        opened = Store(request.getfixturevalue("postgres_url"))
    yield opened
    opened.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """The embedded SQLite store only."""
    opened = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    yield opened
    opened.dispose()


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    """The installed plugins (the email sink is the one these tests use)."""
    return Plugins(only={"email"})


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECADO_SECRET_KEY", "J8U7Qx3wqNwQ2n0W9m3a2Yw6sQ1y3x5k7o9q1s3u5w4=")


@pytest.fixture
def applied(store: Store, plugins: Plugins, tmp_path: Path) -> Store:
    """`store` with the sample clients applied and no balance yet."""
    text = clients_yaml(tmp_path / "maildir")
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=text)
    return store


@pytest.fixture
def engine(applied: Store, plugins: Plugins) -> Engine:
    """An engine over the sample clients."""
    return Engine(applied, plugins.registry, Settings(database_url=applied.url))
