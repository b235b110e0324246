"""A store seen through a transaction that is already open.

Functions of the core take a `Store` and open their own transaction with `store.begin()`
(a purchase, applying a client file). Given a `JoinedStore`, they run inside the caller's
transaction instead, so that several of them commit together or not at all, each keeping
its own rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from hub.core.secrets import SecretBox
from hub.core.store import Store


class JoinedStore(Store):
    """`store` seen through an open transaction: its `begin()` and `connect()` yield that connection."""

    def __init__(self, store: Store, conn: Connection) -> None:
        # No engine of its own: everything goes through `conn`, committed by the caller.
        self.url = store.url
        self.dialect = store.dialect
        self.engine = store.engine
        self._store = store
        self._conn = conn

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """The open transaction."""
        yield self._conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """The open transaction, for reads."""
        yield self._conn

    def secret_box(self) -> SecretBox:
        """The keys of the underlying store."""
        return self._store.secret_box()
