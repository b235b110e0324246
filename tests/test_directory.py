"""Applying client files: validation before any write, exclusive DIDs, sealed secrets, idempotence."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from hub.core import directory
from hub.core import store as t
from hub.core.clients import ClientsFile
from hub.core.config_files import ConfigError
from hub.core.secrets import SecretBox, SecretError
from hub.core.store import Store
from hub.plugins import Plugins

SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()

HEAD = 'clients:\n  - id: acme\n    name: Acme\n    nif: "509999999"\n    dids: ["+351217000001"]\n'

WEBHOOK = (
    "    script: {version: 1, fields: [{name: name, label: {pt: Nome}}]}\n"
    "    destinations:\n"
    "      - id: hook\n"
    "        kind: webhook\n"
    '        settings: {url: "http://127.0.0.1:9/calls", secret: {"$env": "ACME_HOOK_SECRET"}}\n'
    '        mapping: {caller: "{{ call.caller }}", name: "{{ answers.name }}"}\n'
)


@pytest.fixture(scope="module")
def registry_plugins() -> Plugins:
    """The email and webhook plugins, as installed."""
    return Plugins(only={"email", "webhook"})


@pytest.fixture(autouse=True)
def _webhook_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RECADO_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("ACME_HOOK_SECRET", SECRET)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    """An empty SQLite store."""
    opened = Store(f"sqlite:///{tmp_path / 'data' / 'recado.db'}")
    yield opened
    opened.dispose()


def apply(
    store: Store, plugins: Plugins, tmp_path: Path, text: str, name: str = "clients.yaml"
) -> directory.ApplyReport:
    """Write `text` to a file in `tmp_path` and apply it by its name (`tmp_path` is the working directory)."""
    (tmp_path / name).write_text(text, encoding="utf-8")
    return directory.apply_file(store, plugins.registry, Path(name))


def error_of(store: Store, plugins: Plugins, tmp_path: Path, text: str, name: str = "clients.yaml") -> str:
    """The message of the `ConfigError` that applying `text` raises."""
    with pytest.raises(ConfigError) as caught:
        apply(store, plugins, tmp_path, text, name)
    return str(caught.value)


def stored_settings(store: Store) -> list[str]:
    """The raw JSON of every destination's stored settings."""
    with store.connect() as conn:
        return [json.dumps(row.settings) for row in conn.execute(select(t.destinations.c.settings))]


def client_ids(store: Store) -> list[str]:
    """The ids of the stored clients."""
    with store.connect() as conn:
        return [c.id for c in directory.list_clients(conn)]


def test_applying_a_file_creates_its_clients(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    report = apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    assert report.as_dict() == {"created": ["acme"], "updated": [], "unchanged": []}
    with db.connect() as conn:
        assert directory.client_for_did(conn, "+351217000001") == "acme"


def test_applying_the_same_file_again_reports_unchanged(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    assert apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK).unchanged == ["acme"]


def test_a_changed_field_makes_the_client_updated(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    report = apply(db, registry_plugins, tmp_path, HEAD.replace("name: Acme", "name: Acme Lda") + WEBHOOK)
    assert report.updated == ["acme"]


def test_a_changed_secret_makes_the_client_updated(
    db: Store, registry_plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    monkeypatch.setenv("ACME_HOOK_SECRET", OTHER_SECRET)
    assert apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK).updated == ["acme"]


def test_a_destination_left_out_of_the_file_is_removed(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    apply(db, registry_plugins, tmp_path, HEAD)
    with db.connect() as conn:
        assert list(directory.destination_rows(conn, "acme")) == []


def test_a_secret_from_the_environment_is_stored_encrypted(
    db: Store, registry_plugins: Plugins, tmp_path: Path
) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    (settings,) = stored_settings(db)
    assert SECRET not in settings and "$secret" in settings


def test_a_secret_written_as_a_plain_value_is_stored_encrypted_too(
    db: Store, registry_plugins: Plugins, tmp_path: Path
) -> None:
    text = HEAD + WEBHOOK.replace('{"$env": "ACME_HOOK_SECRET"}', f'"{SECRET}"')
    text += (
        "      - id: mail\n        kind: email\n"
        "        settings: {to: [a@acme.example], smtp: {host: localhost, username: u, password: hunter2-pw}}\n"
    )
    apply(db, registry_plugins, tmp_path, text)
    settings = " ".join(stored_settings(db))
    assert SECRET not in settings and "hunter2-pw" not in settings
    with db.connect() as conn:
        shown = directory.get_client(conn, "acme")
    assert shown is not None
    assert [d.settings.get("secret") for d in shown.destinations if d.kind == "webhook"] == ["***"]
    assert [d.settings["smtp"]["password"] for d in shown.destinations if d.kind == "email"] == ["***"]


def test_sealed_secrets_open_to_their_values_with_the_key(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    with db.connect() as conn:
        (row,) = directory.destination_rows(conn, "acme")
    assert SecretBox.from_environment(db.key_file()).open(row.settings)["secret"] == SECRET


def test_shown_clients_have_their_secrets_as_stars(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    with db.connect() as conn:
        shown = directory.get_client(conn, "acme")
    assert shown is not None
    assert shown.destinations[0].settings["secret"] == "***"
    assert SECRET not in shown.model_dump_json()


def test_re_applying_after_a_key_rotation_seals_the_secrets_with_the_new_key(
    db: Store, registry_plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_key = SecretBox.generate_key()
    new_key = SecretBox.generate_key()
    monkeypatch.setenv("RECADO_SECRET_KEY", old_key)
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    monkeypatch.setenv("RECADO_SECRET_KEY", f"{new_key},{old_key}")
    assert apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK).updated == ["acme"]
    with db.connect() as conn:
        (row,) = directory.destination_rows(conn, "acme")
    assert SecretBox([new_key]).open(row.settings)["secret"] == SECRET


def test_the_stored_digest_is_no_plain_hash_of_the_configuration_and_its_secrets(
    db: Store, registry_plugins: Plugins, tmp_path: Path
) -> None:
    # A plain hash would let whoever reads the database test guesses of a secret offline.
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    client = ClientsFile.model_validate(yaml.safe_load(HEAD + WEBHOOK)).clients[0]
    plain = [{"url": "http://127.0.0.1:9/calls", "secret": SECRET}]
    guess = json.dumps([client.model_dump(mode="json"), plain], sort_keys=True, default=str).encode()
    with db.connect() as conn:
        stored = conn.execute(select(t.clients.c.config_hash)).scalar_one()
    assert stored != hashlib.sha256(guess).hexdigest()
    assert stored == SecretBox.from_environment(db.key_file()).fingerprint(guess)


def test_a_secret_can_come_from_a_file_beside_the_client_file(
    db: Store, registry_plugins: Plugins, tmp_path: Path
) -> None:
    (tmp_path / "hook.secret").write_text(SECRET + "\n", encoding="utf-8")
    apply(
        db, registry_plugins, tmp_path, HEAD + WEBHOOK.replace('"$env": "ACME_HOOK_SECRET"', '"$file": "hook.secret"')
    )
    with db.connect() as conn:
        (row,) = directory.destination_rows(conn, "acme")
    assert SecretBox.from_environment(db.key_file()).open(row.settings)["secret"] == SECRET


def test_without_a_key_in_the_environment_the_key_file_is_created_beside_the_database(
    db: Store, registry_plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RECADO_SECRET_KEY")
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    key_file = tmp_path / "data" / "recado.key"
    assert db.key_file() == key_file
    assert key_file.is_file() and key_file.stat().st_mode & 0o077 == 0


def test_with_a_key_in_the_environment_no_key_file_is_written(
    db: Store, registry_plugins: Plugins, tmp_path: Path
) -> None:
    apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    assert not db.key_file().exists()


def test_a_malformed_key_is_a_secret_error(
    db: Store, registry_plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECADO_SECRET_KEY", "not-a-key")
    with pytest.raises(SecretError, match="malformed"):
        apply(db, registry_plugins, tmp_path, HEAD + WEBHOOK)


def test_unknown_field_names_file_line_and_field(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    message = error_of(db, registry_plugins, tmp_path, HEAD + "    colour: red\n")
    assert message == "clients.yaml, line 6, field clients[0].colour: unknown field"


def test_unknown_field_in_toml_names_its_line(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    text = '[[clients]]\nid = "acme"\nname = "Acme"\nnif = "509999999"\ndids = ["+351217000001"]\ncolour = "red"\n'
    message = error_of(db, registry_plugins, tmp_path, text, "clients.toml")
    assert message == "clients.toml, line 6, field clients[0].colour: unknown field"


def test_missing_required_field_is_named(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    message = error_of(db, registry_plugins, tmp_path, HEAD.replace('    nif: "509999999"\n', ""))
    assert "field clients[0].nif: required field is missing" in message


def test_invalid_did_is_named_with_what_was_expected(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    message = error_of(db, registry_plugins, tmp_path, HEAD.replace("+351217000001", "+35121700"))
    assert "clients.yaml, line 5, field clients[0].dids" in message
    assert "'+35121700' is not a valid phone number (expected E.164" in message


def test_bad_nif_is_named_with_what_was_expected(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    message = error_of(db, registry_plugins, tmp_path, HEAD.replace("509999999", "5099"))
    assert message == "clients.yaml, line 4, field clients[0].nif: '5099' is not a NIF (expected 9 digits)"


def test_the_same_client_twice_in_a_file_is_refused(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    second = HEAD.removeprefix("clients:\n").replace("+351217000001", "+351217000002")
    message = error_of(db, registry_plugins, tmp_path, HEAD + second)
    assert message == "clients.yaml, line 6, field clients[1].id: client 'acme' appears twice in the file"


def test_the_same_did_for_two_clients_of_a_file_is_refused(
    db: Store, registry_plugins: Plugins, tmp_path: Path
) -> None:
    second = (
        HEAD.removeprefix("clients:\n").replace("id: acme", "id: beta").replace("+351217000001", "+351 217 000 001")
    )
    message = error_of(db, registry_plugins, tmp_path, HEAD + second)
    assert message == (
        "clients.yaml, line 9, field clients[1].dids[0]: DID +351217000001 is already listed for client 'acme'"
    )


def test_a_did_of_a_stored_client_is_refused_to_another(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    apply(db, registry_plugins, tmp_path, HEAD)
    message = error_of(db, registry_plugins, tmp_path, HEAD.replace("id: acme", "id: beta"), "beta.yaml")
    assert message == "beta.yaml, line 5, field clients[0].dids[0]: DID +351217000001 already belongs to client 'acme'"
    assert client_ids(db) == ["acme"]


def test_a_did_can_move_between_clients_applied_together(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    apply(db, registry_plugins, tmp_path, HEAD)
    moved = HEAD.replace("+351217000001", "+351217000003") + HEAD.removeprefix("clients:\n").replace(
        "id: acme", "id: beta"
    )
    apply(db, registry_plugins, tmp_path, moved)
    with db.connect() as conn:
        assert directory.client_for_did(conn, "+351217000001") == "beta"
        assert directory.client_for_did(conn, "+351217000003") == "acme"


def test_unknown_sink_kind_names_the_installed_kinds(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    message = error_of(db, registry_plugins, tmp_path, HEAD + "    destinations:\n      - {id: x, kind: fax}\n")
    assert message == (
        "clients.yaml, line 7, field clients[0].destinations[0].kind: "
        "no installed plugin provides the sink kind 'fax' (installed kinds: email, webhook)"
    )


def test_invalid_sink_settings_are_named_with_their_line(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    text = (
        HEAD
        + "    destinations:\n      - id: mail\n        kind: email\n        settings: {to: [nobody], maildir: m}\n"
    )
    message = error_of(db, registry_plugins, tmp_path, text)
    assert "clients.yaml, line 9, field clients[0].destinations[0].settings.to[0]" in message
    assert "'nobody' is not an email address" in message


def test_missing_environment_variable_for_a_secret_is_named(
    db: Store, registry_plugins: Plugins, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ACME_HOOK_SECRET")
    message = error_of(db, registry_plugins, tmp_path, HEAD + WEBHOOK)
    assert message == (
        "clients.yaml, line 10, field clients[0].destinations[0].settings.secret: "
        "environment variable ACME_HOOK_SECRET is not set"
    )


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("{{ answers.nope }}", "name: unknown field answers.nope (known: name)"),
        ("{{ call.nope }}", "name: unknown field call.nope (known: agent, "),
        ("{{ answers.name | shout }}", "name: unknown filter 'shout'"),
    ],
)
def test_unknown_names_in_a_mapping_are_named(
    db: Store, registry_plugins: Plugins, tmp_path: Path, expression: str, problem: str
) -> None:
    message = error_of(db, registry_plugins, tmp_path, HEAD + WEBHOOK.replace("{{ answers.name }}", expression))
    assert message.startswith("clients.yaml, line 11, field clients[0].destinations[0].mapping: ")
    assert problem in message


def test_nothing_is_written_when_one_client_of_the_file_is_bad(
    db: Store, registry_plugins: Plugins, tmp_path: Path
) -> None:
    bad = HEAD.removeprefix("clients:\n").replace("id: acme", "id: beta").replace("+351217000001", "+351217000002")
    error_of(db, registry_plugins, tmp_path, HEAD + bad + "    destinations:\n      - {id: x, kind: fax}\n")
    assert client_ids(db) == []


def test_a_document_that_is_not_a_mapping_is_refused(db: Store, registry_plugins: Plugins, tmp_path: Path) -> None:
    assert error_of(db, registry_plugins, tmp_path, "- acme\n") == (
        "clients.yaml: expected a mapping with a `clients` list"
    )
