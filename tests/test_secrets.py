"""Secrets: references resolved from the environment or files, sealed at rest, never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.core.secrets import SecretBox, SecretError, redact, resolve_references

KEY = SecretBox.generate_key()
OTHER_KEY = SecretBox.generate_key()


def test_an_env_reference_resolves_to_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOOK_SECRET", "s3cr3t")
    value, paths = resolve_references({"url": "x", "secret": {"$env": "HOOK_SECRET"}}, base_dir=tmp_path)
    assert value == {"url": "x", "secret": "s3cr3t"}
    assert paths == [("secret",)]


def test_a_file_reference_resolves_relative_to_the_base_directory(tmp_path: Path) -> None:
    (tmp_path / "pw.txt").write_text("hunter2\n", encoding="utf-8")
    value, paths = resolve_references({"smtp": {"password": {"$file": "pw.txt"}}}, base_dir=tmp_path)
    assert value == {"smtp": {"password": "hunter2"}}
    assert paths == [("smtp", "password")]


def test_references_inside_lists_are_resolved_with_their_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OLD_SECRET", "old")
    value, paths = resolve_references({"secrets": ["plain", {"$env": "OLD_SECRET"}]}, base_dir=tmp_path)
    assert value == {"secrets": ["plain", "old"]}
    assert paths == [("secrets", 1)]


def test_a_missing_variable_is_an_error_naming_it_and_its_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(SecretError, match="environment variable NOT_SET_ANYWHERE is not set") as caught:
        resolve_references({"auth": {"token": {"$env": "NOT_SET_ANYWHERE"}}}, base_dir=tmp_path)
    assert caught.value.path == ("auth", "token")


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match=r"cannot read secret file .*missing\.txt") as caught:
        resolve_references({"password": {"$file": "missing.txt"}}, base_dir=tmp_path)
    assert caught.value.path == ("password",)


def test_a_dict_with_more_than_the_reference_is_plain_data(tmp_path: Path) -> None:
    value, paths = resolve_references({"x": {"$env": "A", "other": 1}}, base_dir=tmp_path)
    assert paths == []
    assert value == {"x": {"$env": "A", "other": 1}}


def test_sealed_settings_do_not_contain_the_secret() -> None:
    sealed = SecretBox([KEY]).seal({"url": "u", "secret": "s3cr3t-value"}, [("secret",)])
    assert sealed["url"] == "u"
    assert "s3cr3t-value" not in json.dumps(sealed)


def test_sealing_leaves_the_given_settings_untouched() -> None:
    settings = {"secret": "s3cr3t-value"}
    SecretBox([KEY]).seal(settings, [("secret",)])
    assert settings == {"secret": "s3cr3t-value"}


def test_sealed_settings_open_to_the_original_values() -> None:
    box = SecretBox([KEY])
    settings = {"smtp": {"password": "pw", "port": 25}, "secrets": ["a", "b"]}
    assert box.open(box.seal(settings, [("smtp", "password"), ("secrets", 1)])) == settings


def test_opening_with_another_key_is_a_clear_error() -> None:
    sealed = SecretBox([KEY]).seal({"secret": "v"}, [("secret",)])
    with pytest.raises(SecretError, match="cannot be decrypted with the configured key"):
        SecretBox([OTHER_KEY]).open(sealed)


def test_a_rotated_key_still_opens_what_the_old_key_sealed() -> None:
    sealed = SecretBox([KEY]).seal({"secret": "v"}, [("secret",)])
    assert SecretBox([OTHER_KEY, KEY]).open(sealed) == {"secret": "v"}


def test_a_malformed_key_is_refused() -> None:
    with pytest.raises(SecretError, match="malformed"):
        SecretBox(["not-a-key"])


def test_no_key_at_all_is_refused() -> None:
    with pytest.raises(SecretError, match="no secret key configured"):
        SecretBox([])


def test_the_environment_key_wins_over_the_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECADO_SECRET_KEY", KEY)
    key_file = tmp_path / "recado.key"
    key_file.write_text(OTHER_KEY + "\n")
    sealed = SecretBox.from_environment(key_file).seal({"s": "v"}, [("s",)])
    assert SecretBox([KEY]).open(sealed) == {"s": "v"}


def test_several_environment_keys_are_comma_separated_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECADO_SECRET_KEY", f"{OTHER_KEY}, {KEY}")
    old = SecretBox([KEY]).seal({"s": "v"}, [("s",)])
    box = SecretBox.from_environment(Path("/nonexistent/recado.key"))
    assert box.open(old) == {"s": "v"}
    assert SecretBox([OTHER_KEY]).open(box.seal({"s": "w"}, [("s",)])) == {"s": "w"}


def test_without_an_environment_key_a_private_key_file_is_created(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RECADO_SECRET_KEY", raising=False)
    key_file = tmp_path / "data" / "recado.key"
    sealed = SecretBox.from_environment(key_file).seal({"s": "v"}, [("s",)])
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert SecretBox.from_environment(key_file).open(sealed) == {"s": "v"}


def test_redacted_settings_show_stars_for_secrets() -> None:
    sealed = SecretBox([KEY]).seal({"url": "u", "list": [{"token": "t"}]}, [("list", 0, "token")])
    assert redact(sealed) == {"url": "u", "list": [{"token": "***"}]}


def test_a_fingerprint_depends_on_the_payload_and_the_newest_key() -> None:
    box = SecretBox([KEY])
    assert box.fingerprint(b"config") == SecretBox([KEY, OTHER_KEY]).fingerprint(b"config")
    assert box.fingerprint(b"config") != box.fingerprint(b"config2")
    assert box.fingerprint(b"config") != SecretBox([OTHER_KEY, KEY]).fingerprint(b"config")
