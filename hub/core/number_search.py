"""Finding a phone number wherever it is written in the database.

Numbers live inside JSON documents (records, call states, payloads) and free
text (notes, delivery logs, alerts), so they are found by a substring search
over every text and JSON column: slow (full scans), and done only for exports
and erasures, which are rare.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Engine, String, Table, Text, case, cast, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Column

from hub.core import store as t


def contains(column: Column[Any], needle: str) -> Any:
    """A condition: `column` (text, or JSON read as text) holds `needle`."""
    text = cast(column, Text) if isinstance(column.type, JSON) else column
    return text.contains(needle, autoescape=True)


def text_columns(table: Table) -> list[Column[Any]]:
    """The columns of `table` that can hold a number in text."""
    return [column for column in table.columns if isinstance(column.type, JSON | String | Text)]


def find_in(conn: Connection, table: Table, needle: str) -> dict[str, list[tuple[Any, ...]]]:
    """Where `needle` is written in `table`: "table.column" -> primary keys of the rows holding it."""
    places: dict[str, list[tuple[Any, ...]]] = {}
    key = list(table.primary_key.columns)
    columns = text_columns(table)
    if not columns:
        return places
    # One scan per table: each row says which of its columns hold the needle.
    hits = [contains(column, needle) for column in columns]
    query = select(*key, *(case((hit, 1), else_=0) for hit in hits)).where(or_(*hits))
    for row in conn.execute(query):
        for index, column in enumerate(columns):
            if row[len(key) + index]:
                places.setdefault(f"{table.name}.{column.name}", []).append(tuple(row[: len(key)]))
    return places


def find(engine: Engine, needle: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every place `needle` is written, table by table, each table read in a short connection of its own.

    (On SQLite a reading transaction holds the write lock: a scan of the whole
    database must not keep calls from being written meanwhile.)
    """
    places: dict[str, list[tuple[Any, ...]]] = {}
    for table in t.metadata.sorted_tables:
        with engine.connect() as conn:
            places |= find_in(conn, table, needle)
    return places
