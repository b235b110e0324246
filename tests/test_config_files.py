"""Configuration files: YAML and TOML parsed with the line of every value, errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from hub.core.config_files import ConfigError, Located, dotted, error_at, load_document, validation_error

YAML = """\
clients:
  - id: acme
    dids:
      - "+351217000001"
      - "+351217000002"
    script:
      version: 1
"""

TOML = """\
[[clients]]
id = "acme"
dids = ["+351217000001"]

[clients.script]
version = 1

[[clients]]
id = "beta"
name = "Beta"
"""


class _Client(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    version: int = 1


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clients: list[_Client]


def test_yaml_values_keep_their_lines() -> None:
    doc = load_document("c.yaml", YAML)
    assert doc.data["clients"][0]["dids"][1] == "+351217000002"
    assert doc.line_of(("clients", 0, "id")) == 2
    assert doc.line_of(("clients", 0, "dids", 1)) == 5
    assert doc.line_of(("clients", 0, "script", "version")) == 7


def test_a_path_deeper_than_the_document_takes_the_line_of_its_nearest_parent() -> None:
    doc = load_document("c.yaml", YAML)
    assert doc.line_of(("clients", 0, "script", "version", "extra")) == 7


def test_toml_keys_keep_their_lines() -> None:
    doc = load_document("c.toml", TOML)
    assert doc.line_of(("clients", 0, "dids")) == 3
    assert doc.line_of(("clients", 0, "script", "version")) == 6
    assert doc.line_of(("clients", 1, "name")) == 10


def test_a_file_is_read_from_disk_when_no_text_is_given(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(YAML, encoding="utf-8")
    assert load_document(tmp_path / "c.yaml").data["clients"][0]["id"] == "acme"


def test_a_missing_file_is_a_config_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read the file: No such file"):
        load_document(tmp_path / "nope.yaml")


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_bytes(b"clients: [\xff]\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: not UTF-8 text"):
        load_document(tmp_path / "c.yaml")


def test_malformed_yaml_names_where_the_problem_was_found_and_where_it_started() -> None:
    with pytest.raises(ConfigError) as caught:
        load_document("c.yaml", "clients:\n  - id: [acme\n  - id: beta\n")
    assert str(caught.value) == (
        "c.yaml, line 3, column 7: invalid YAML: expected ',' or ']', but got ':'"
        " (while parsing a flow sequence that starts on line 2, column 9)"
    )


def test_a_key_written_twice_in_yaml_is_refused_with_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_document("c.yaml", "clients:\n  - id: acme\n    name: A\n    name: B\n")
    assert str(caught.value) == "c.yaml, line 4, field clients[0].name: appears twice"


def test_a_yaml_merge_key_may_override_a_merged_value() -> None:
    doc = load_document("c.yaml", "base: &b {to: a}\nmail:\n  <<: *b\n  to: b\n")
    assert doc.data["mail"] == {"to": "b"}


def test_malformed_toml_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"^c\.toml: invalid TOML: .*line 1"):
        load_document("c.toml", "[[clients]\n")


def test_dotted_paths_read_like_the_file() -> None:
    assert dotted(("clients", 0, "dids", 1)) == "clients[0].dids[1]"
    assert dotted(("clients", 2, "destinations", 0, "settings", "to")) == "clients[2].destinations[0].settings.to"


def test_error_at_names_file_line_and_field() -> None:
    doc = load_document("c.yaml", YAML)
    assert str(error_at(doc, ("clients", 0, "dids", 0), "bad")) == "c.yaml, line 4, field clients[0].dids[0]: bad"


def test_error_at_without_a_known_line_names_file_and_field() -> None:
    doc = Located({"clients": []}, {}, "c.yaml")
    assert str(error_at(doc, ("clients", 0), "bad")) == "c.yaml, field clients[0]: bad"


def test_validation_error_lists_every_problem_with_its_line() -> None:
    doc = load_document("c.yaml", "clients:\n  - id: acme\n    version: many\n  - colour: red\n")
    with pytest.raises(ValidationError) as caught:
        _File.model_validate(doc.data)
    message = str(validation_error(doc, caught.value))
    assert message.splitlines() == [
        "c.yaml, line 3, field clients[0].version: "
        "Input should be a valid integer, unable to parse string as an integer",
        "c.yaml, line 4, field clients[1].id: required field is missing",
        "c.yaml, line 4, field clients[1].colour: unknown field",
    ]
