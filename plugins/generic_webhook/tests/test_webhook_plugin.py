"""The installed distribution plugs the sink kind and the `recado webhook` commands in."""

from __future__ import annotations

import base64

import typer
from recado_webhook import plugin
from recado_webhook.config import WebhookConfig
from recado_webhook.sink import WebhookSink
from typer.testing import CliRunner

from hub.plugins import Plugins


def _root() -> typer.Typer:
    root = typer.Typer(name="recado")

    @root.command()
    def version() -> None:
        """A root command, so that `webhook` stays a group as under the real CLI."""

    plugin.register_commands(cli=root)
    return root


def test_entry_point_registers_the_webhook_sink_kind() -> None:
    plugins = Plugins(only={"webhook"})
    registration = plugins.registry.sink_kind("webhook")
    assert registration.factory is WebhookSink
    assert registration.config_model is WebhookConfig
    assert plugins.registry.accepts_notices("webhook")
    info = plugins.infos["webhook"]
    assert info.errors == [] and info.sinks == ["webhook"]
    assert {"register_sinks", "register_commands"} <= set(info.hooks)


def test_webhook_secret_prints_a_new_secret() -> None:
    result = CliRunner().invoke(_root(), ["webhook", "secret"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_webhook_secret_size_can_be_chosen() -> None:
    result = CliRunner().invoke(_root(), ["webhook", "secret", "--bytes", "48"])
    assert result.exit_code == 0, result.output
    assert len(base64.b64decode(result.output.strip().removeprefix("whsec_"))) == 48


def test_webhook_secret_refuses_a_size_below_24_bytes() -> None:
    result = CliRunner().invoke(_root(), ["webhook", "secret", "--bytes", "8"])
    assert result.exit_code != 0
    assert "--bytes" in result.output


def test_webhook_help_describes_the_secret_command() -> None:
    result = CliRunner().invoke(_root(), ["webhook", "--help"])
    assert result.exit_code == 0
    assert "secret" in result.output and "Signed webhook destinations" in result.output
