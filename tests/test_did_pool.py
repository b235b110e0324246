"""The pool of numbers handed to new clients: lowest free first, never one a client already has."""

from __future__ import annotations

from pathlib import Path

import pytest
from sample_clients import clients_yaml, lisbon

from hub.core import did_pool, directory
from hub.core.store import Store
from hub.plugins import Plugins

AT = lisbon("2026-03-01 09:00")


def test_the_lowest_free_number_is_taken_first(sqlite_store: Store) -> None:
    with sqlite_store.begin() as conn:
        did_pool.add(conn, ["+351217000110", "+351217000102"], AT)
        assert did_pool.take_lowest_free(conn, "padaria", AT) == "+351217000102"
        assert did_pool.take_lowest_free(conn, "clinica", AT) == "+351217000110"
        assert did_pool.take_lowest_free(conn, "oficina", AT) is None
        assigned = {row["did"]: row["client"] for row in did_pool.listing(conn)}
    assert assigned == {"+351217000102": "padaria", "+351217000110": "clinica"}


def test_reserved_numbers_are_never_handed_out(sqlite_store: Store) -> None:
    with sqlite_store.begin() as conn:
        did_pool.add(conn, ["+351217000100"], AT, reserved=True)
        did_pool.add(conn, ["+351217000101"], AT)
        assert did_pool.take_lowest_free(conn, "padaria", AT) == "+351217000101"
        assert did_pool.free_count(conn) == 0


def test_a_number_a_client_already_has_is_recorded_as_assigned_to_it(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "c.yaml", text=clients_yaml(tmp_path / "m"))
    with sqlite_store.begin() as conn:
        report = did_pool.add(conn, ["+351217000001", "+351217000103"], AT)
    assert report.in_use == {"+351217000001": "acme"}
    assert report.added == ["+351217000103"]


def test_a_free_number_a_client_file_took_meanwhile_is_skipped(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path
) -> None:
    with sqlite_store.begin() as conn:
        did_pool.add(conn, ["+351217000001", "+351217000103"], AT)
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "c.yaml", text=clients_yaml(tmp_path / "m"))
    with sqlite_store.begin() as conn:
        assert did_pool.take_lowest_free(conn, "padaria", AT) == "+351217000103"
        assert {row["did"]: row["client"] for row in did_pool.listing(conn)}["+351217000001"] == "acme"


def test_numbers_are_read_in_e164_and_bad_ones_named() -> None:
    assert did_pool.parse_numbers(["217000101", "+351 21 700 0102", "217000101"]) == ["+351217000101", "+351217000102"]
    with pytest.raises(ValueError, match=r"^NUMBER line 2: '12' is not a valid phone number"):
        did_pool.parse_numbers(["217000101", "12"], where="NUMBER ")
