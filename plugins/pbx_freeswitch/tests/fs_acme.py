"""The client `acme` of the FreeSWITCH tests: applied from a test module's clients file, under contract."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.core import accounts, directory
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan
from hub.plugins import Plugins

LISBON = ZoneInfo("Europe/Lisbon")


@contextmanager
def applied(tmp_path: Path, plugins: Plugins, clients: str, *, contract: bool = False) -> Iterator[Store]:
    """A SQLite store in `tmp_path` with the clients of the YAML text `clients`, `acme` under contract if asked."""
    store = Store(f"sqlite:///{tmp_path / 'recado.db'}")
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=clients)
    if contract:
        buy_contract(store, plugins)
    try:
        yield store
    finally:
        store.dispose()


def buy_contract(store: Store, plugins: Plugins) -> None:
    """`acme`'s 12-month contract, bought on 1 March 2026 at 08:00 in Lisbon."""
    bought = datetime(2026, 3, 1, 8, tzinfo=LISBON)
    accounts.purchase(store, plugins.registry, "acme", document_for_plan("12m"), bought, TariffConfig())
