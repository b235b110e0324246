"""The small part of SOQL the fake org understands: `IN` lists, equalities, ORDER BY."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_SELECT = re.compile(
    r"^SELECT\s+(?P<fields>[\w\s,]+?)\s+FROM\s+(?P<sobject>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_IN = re.compile(r"(\w+)\s+IN\s+\(((?:\s*'(?:[^'\\]|\\.)*'\s*,?)*)\)", re.IGNORECASE)
_EQ = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|true|false|null)", re.IGNORECASE)
_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")


class SoqlError(ValueError):
    """The query is outside what the fake understands, or names an unknown field."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _value(token: str) -> Any:
    lowered = token.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    return _unescape(token[1:-1])


@dataclass
class Query:
    """A parsed query: rows match when any `IN` condition and every equality holds."""

    sobject: str
    fields: list[str]
    any_in: list[tuple[str, set[str]]] = field(default_factory=list)
    all_eq: list[tuple[str, Any]] = field(default_factory=list)
    order: str | None = None
    descending: bool = False
    limit: int | None = None

    def names(self) -> set[str]:
        """Every field the query mentions."""
        return ({*self.fields} | {n for n, _ in self.any_in} | {n for n, _ in self.all_eq}
                | ({self.order} if self.order else set()))

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether `row` is selected."""
        if self.any_in and not any(row.get(n) in values for n, values in self.any_in):
            return False
        return all(row.get(n) == v for n, v in self.all_eq)


def parse(text: str) -> Query:
    """Parse `SELECT f, … FROM X [WHERE …] [ORDER BY f [DESC]] [LIMIT n]`."""
    m = _SELECT.match(text.strip())
    if not m:
        raise SoqlError("MALFORMED_QUERY", "unexpected token in query")
    query = Query(
        sobject=m["sobject"],
        fields=[f.strip() for f in m["fields"].split(",") if f.strip()],
        order=m["order"],
        descending=(m["dir"] or "").upper() == "DESC",
        limit=int(m["limit"]) if m["limit"] else None,
    )
    where = m["where"] or ""
    for name, items in _IN.findall(where):
        query.any_in.append((name, {_unescape(v) for v in _LITERAL.findall(items)}))
    rest = _IN.sub("", where)
    for name, token in _EQ.findall(rest):
        query.all_eq.append((name, _value(token)))
    leftover = re.sub(r"\b(AND|OR)\b|[()\s]", "", _EQ.sub("", rest), flags=re.IGNORECASE)
    if leftover:
        raise SoqlError("MALFORMED_QUERY", "unsupported condition in WHERE clause")
    return query
