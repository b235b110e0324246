"""Reading YAML and TOML configuration files with the line of every value.

Errors in configuration must name the file, the line and the field, so the
loader keeps, next to the parsed data, where each value came from.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


class ConfigError(Exception):
    """A configuration file is invalid; the message names the file, line and field."""


class _DuplicateKey(Exception):
    def __init__(self, path: tuple[str | int, ...], line: int) -> None:
        super().__init__(path, line)
        self.path = path
        self.line = line


@dataclass
class Located:
    """Parsed data plus the line (1-based) of each path into it."""

    data: Any
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)
    path: str = "<input>"

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """The line of the deepest known path that is a prefix of `loc`."""
        key = tuple(loc)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get(())


def _walk_yaml(node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            if key in seen:
                # YAML loaders keep the last value silently: a typo would drop configuration.
                raise _DuplicateKey((*path, key), key_node.start_mark.line + 1)
            seen.add(key)
            out[(*path, key)] = key_node.start_mark.line + 1
            _walk_yaml(value_node, (*path, key), out)
            out[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_yaml(item, (*path, index), out)


def _toml_lines(text: str, data: Any) -> dict[tuple[str | int, ...], int]:
    # tomllib keeps no positions: find each key's first line after its parent's line.
    source = text.splitlines()
    out: dict[tuple[str | int, ...], int] = {(): 1}

    def find(name: str, start: int) -> int:
        pattern = re.compile(rf"(^|[\s{{,.\[])\"?{re.escape(name)}\"?\s*(=|\])")
        for number in range(start, len(source)):
            if pattern.search(source[number]):
                return number + 1
        return start + 1

    def walk(value: Any, path: tuple[str | int, ...], start: int) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                line = find(str(key), start - 1)
                out[(*path, key)] = line
                walk(item, (*path, key), line)
        elif isinstance(value, list):
            line = start
            for index, item in enumerate(value):
                out[(*path, index)] = line
                walk(item, (*path, index), line)
                if isinstance(item, dict) and item:
                    last = (*path, index, list(item)[-1])
                    line = out.get(last, line)

    walk(data, (), 1)
    return out


def load_document(path: str | Path, text: str | None = None) -> Located:
    """Parse a YAML (`.yaml`, `.yml`, or anything else) or TOML (`.toml`) file."""
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{name}: cannot read the file: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if name.endswith(".toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name}: invalid TOML: {exc}") from exc
        return Located(data, _toml_lines(text, data), name)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        # An unclosed bracket or quote is found where the text ends: name where it was opened too.
        opened = exc.context_mark
        context = (
            f" ({exc.context} that starts on line {opened.line + 1}, column {opened.column + 1})"
            if exc.context and opened and (mark is None or opened.line != mark.line)
            else ""
        )
        raise ConfigError(f"{name}, {where}: invalid YAML: {exc.problem}{context}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{name}: invalid YAML: {exc}") from exc
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        try:
            _walk_yaml(node, (), lines)
        except _DuplicateKey as exc:
            raise ConfigError(f"{name}, line {exc.line}, field {dotted(exc.path)}: appears twice") from None
    return Located(data, lines, name)


def dotted(loc: Sequence[str | int]) -> str:
    """`("clients", 0, "dids", 1)` → `clients[0].dids[1]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def error_at(doc: Located, loc: Sequence[str | int], message: str) -> ConfigError:
    """A `ConfigError` for the value at `loc` of `doc`."""
    line = doc.line_of(loc)
    where = f"{doc.path}, line {line}" if line else doc.path
    return ConfigError(f"{where}, field {dotted(loc)}: {message}")


def validation_error(doc: Located, exc: ValidationError, prefix: Sequence[str | int] = ()) -> ConfigError:
    """Turn a pydantic error into one `ConfigError` listing every problem with its line."""
    problems = []
    for error in exc.errors():
        loc = [*prefix, *(part for part in error["loc"] if not _is_union_tag(part))]
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "required field is missing"
        problems.append(str(error_at(doc, loc, message)))
    return ConfigError("\n".join(problems))


def _is_union_tag(part: str | int) -> bool:
    # pydantic inserts the member type of a union into the location: not a field.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "function-after"})
