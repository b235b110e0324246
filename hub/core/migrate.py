"""Running the Alembic migrations from inside the application."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Any constant works: it only has to be the same for every process of Recado.
_ADVISORY_LOCK = 7_312_044


def alembic_config() -> Config:
    """An Alembic configuration pointing at Recado's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Upgrade the schema to `revision`; safe when several processes start at once."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several workers starting together must not run the same migration twice.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
