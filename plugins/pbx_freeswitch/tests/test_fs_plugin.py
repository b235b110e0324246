"""The plugin as the hub loads it: the entry point, the source kind and its settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from recado_freeswitch.source import FreeSwitchConfig

from hub.plugins import Plugins
from hub.sources import Source


def test_entry_point_registers_the_freeswitch_source_kind() -> None:
    kind = Plugins(only={"freeswitch"}).registry.source_kind("freeswitch")
    source = kind.factory(kind.config_model.model_validate({"host": "10.0.0.5"}))
    assert isinstance(source, Source)
    assert source.kind == "freeswitch"
    assert source.config.port == 8021


def test_password_never_shows_in_settings_output() -> None:
    config = FreeSwitchConfig.model_validate({"password": "s3cret-pw"})
    assert "s3cret-pw" not in repr(config)
    assert "s3cret-pw" not in config.model_dump_json()


def test_unknown_setting_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError, match="pasword"):
        FreeSwitchConfig.model_validate({"pasword": "x"})
