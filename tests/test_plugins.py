"""The plugin manager: plugins found by entry point, their failures reported, never fatal."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from hub.core.mapping import Mapper
from hub.plugins import Plugins, plugin_names

SINK_PLUGIN = """\
from pydantic import BaseModel
from hub import hookimpl


class Config(BaseModel):
    url: str


@hookimpl
def register_sinks(register):
    register("{kind}", lambda config: object(), Config)
"""

RAISES_AT_IMPORT = 'raise RuntimeError("cannot start: missing licence file")\n'

RAISES_IN_HOOK = """\
from hub import hookimpl


@hookimpl
def register_sinks(register):
    raise ValueError("no connection string")


@hookimpl
def register_mapping_filters(register):
    register("shout", lambda value: str(value).upper())
"""

RAISES_IN_NOTIFICATION = """\
from hub import hookimpl


@hookimpl
def purchase_made(client, document):
    raise KeyError("invoice")
"""


class Site:
    """A directory on sys.path holding installed distributions made up by a test."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def install(self, name: str, source: str, version: str = "1.0.0") -> str:
        """Install a distribution `recado-NAME` whose plugin module is `source`; return the module name."""
        module = f"recado_test_{name}_{uuid.uuid4().hex[:8]}"
        dist = self.root / f"recado_test_{name}-{version}.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: recado-test-{name}\nVersion: {version}\n")
        (dist / "entry_points.txt").write_text(f"[recado]\n{name} = {module}\n")
        (self.root / f"{module}.py").write_text(source)
        return module


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """An empty directory put first on sys.path."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return Site(root)


def test_installed_plugins_are_listed_with_version_hooks_and_kinds() -> None:
    infos = {info.name: info for info in Plugins(only={"email"}).list()}
    assert infos["email"].version == "0.1.0"
    assert infos["email"].module == "recado_email.plugin"
    assert infos["email"].hooks == ["register_sinks"]
    assert infos["email"].sinks == ["email"]
    assert infos["email"].errors == []


def test_the_core_registers_the_demo_simulator_like_a_plugin() -> None:
    infos = {info.name: info for info in Plugins(only=set()).list()}
    assert infos["builtin"].sources == ["simulator"]


def test_a_plugin_from_an_entry_point_registers_its_sink_kind(site: Site) -> None:
    site.install("fax", SINK_PLUGIN.format(kind="fax"), version="2.3.4")
    plugins = Plugins(only={"fax"})
    assert plugins.registry.sink_kind("fax").plugin == "fax"
    info = {i.name: i for i in plugins.list()}["fax"]
    assert (info.version, info.hooks, info.sinks) == ("2.3.4", ["register_sinks"], ["fax"])


def test_a_plugin_that_raises_at_import_is_reported_with_its_error(site: Site) -> None:
    site.install("broken", RAISES_AT_IMPORT)
    info = {i.name: i for i in Plugins(only={"broken"}).list()}["broken"]
    assert info.errors == ["cannot load: RuntimeError: cannot start: missing licence file"]
    assert info.as_dict()["error"] == "cannot load: RuntimeError: cannot start: missing licence file"


def test_the_other_plugins_load_when_one_raises_at_import(site: Site) -> None:
    site.install("broken", RAISES_AT_IMPORT)
    plugins = Plugins(only={"broken", "email"})
    assert sorted(plugins.registry.sinks) == ["email"]


def test_a_hook_that_raises_is_reported_with_the_hook_and_the_error(site: Site) -> None:
    site.install("flaky", RAISES_IN_HOOK)
    info = {i.name: i for i in Plugins(only={"flaky"}).list()}["flaky"]
    assert info.errors == ["register_sinks raised ValueError: no connection string"]


def test_the_other_hooks_of_a_plugin_still_run_when_one_raises(site: Site) -> None:
    site.install("flaky", RAISES_IN_HOOK)
    plugins = Plugins(only={"flaky", "email"})
    assert "shout" in plugins.registry.filters
    assert sorted(plugins.registry.sinks) == ["email"]


def test_a_filter_registered_by_a_plugin_is_usable_in_mappings(site: Site) -> None:
    site.install("flaky", RAISES_IN_HOOK)
    mapper = Mapper(Plugins(only={"flaky"}).registry.filters)
    assert mapper.render({"n": "{{ name | shout }}"}, {"name": "rui"}) == {"n": "RUI"}


def test_a_kind_registered_twice_is_reported_on_the_second_plugin(site: Site) -> None:
    site.install("one", SINK_PLUGIN.format(kind="crm"))
    site.install("two", SINK_PLUGIN.format(kind="crm"))
    plugins = Plugins(only={"one", "two"})
    infos = {i.name: i for i in plugins.list()}
    assert plugins.registry.sink_kind("crm").plugin == "one"
    assert infos["two"].errors == ["register_sinks raised ValueError: kind 'crm' is already registered by one"]


def test_a_notification_hook_that_raises_is_reported_and_not_raised(site: Site) -> None:
    site.install("invoices", RAISES_IN_NOTIFICATION)
    plugins = Plugins(only={"invoices"})
    plugins.call_guarded("purchase_made", client="acme", document={"number": 1})
    info = {i.name: i for i in plugins.list()}["invoices"]
    assert info.errors == ["purchase_made raised KeyError: 'invoice'"]


def test_recado_plugins_limits_which_installed_plugins_load(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("fax", SINK_PLUGIN.format(kind="fax"))
    monkeypatch.setenv("RECADO_PLUGINS", "email, fax")
    assert {i.name for i in Plugins().list()} == {"builtin", "email", "fax"}


def test_without_recado_plugins_every_installed_plugin_loads(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    site.install("fax", SINK_PLUGIN.format(kind="fax"))
    monkeypatch.delenv("RECADO_PLUGINS", raising=False)
    assert {"builtin", "email", "fax"} <= {i.name for i in Plugins().list()}


def test_the_listing_is_in_name_order(site: Site) -> None:
    site.install("zeta", SINK_PLUGIN.format(kind="zeta"))
    site.install("alpha", SINK_PLUGIN.format(kind="alpha"))
    assert [i.name for i in Plugins(only={"zeta", "alpha"}).list()] == ["alpha", "builtin", "zeta"]


def test_plugin_names_are_comma_separated() -> None:
    assert plugin_names(" email, webhook ,") == {"email", "webhook"}


def test_no_plugin_names_means_every_installed_plugin() -> None:
    assert plugin_names(None) is None
    assert plugin_names("  ") is None
