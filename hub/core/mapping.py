"""Field mappings: a destination's target fields computed from the call.

A mapping is `{target field: template}` where a template is a Jinja2
expression over `call.*`, `answers.*`, `client.*` and `account.*`, e.g.
`"{{ answers.name | upper }}"`. Templates run in Jinja2's sandbox; a template
that is a single expression keeps its type (a number stays a number).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from itertools import chain, islice
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.nativetypes import NativeCodeGenerator, NativeTemplate
from jinja2.sandbox import SandboxedEnvironment

from hub.core.models import CallRecord

LISBON = ZoneInfo("Europe/Lisbon")

#: What `call.*` offers: every field of a record.
CALL_FIELDS = frozenset(CallRecord.model_fields)
CLIENT_FIELDS = frozenset({"id", "name", "nif", "dids", "languages", "category"})
ACCOUNT_FIELDS = frozenset({"balance_cents", "held_cents", "calls_this_month", "outbound_this_month"})


class MappingError(ValueError):
    """A mapping refers to something that does not exist, or does not parse."""


def _typed_concat(values: Iterator[Any]) -> Any:
    # A lone expression keeps the type of its value. Unlike Jinja2's native_concat,
    # a string is never parsed as a Python literal: "+351912345678" stays a string.
    head = list(islice(values, 2))
    if not head:
        return ""
    if len(head) == 1:
        if isinstance(head[0], Undefined):
            str(head[0])  # a strict undefined raises here, naming what is missing
        return head[0]
    return "".join(str(value) for value in chain(head, values))


class _TypedTemplate(NativeTemplate):
    def render(self, *args: Any, **kwargs: Any) -> Any:
        context = self.new_context(dict(*args, **kwargs))
        try:
            return _typed_concat(self.root_render_func(context))
        except Exception:
            return self.environment.handle_exception()


class _NativeSandbox(SandboxedEnvironment):
    # Jinja2's sandbox generating native code: a lone expression keeps its type.
    code_generator_class = NativeCodeGenerator
    template_class = _TypedTemplate


def _e164(value: Any, region: str = "PT") -> str:
    if value in (None, ""):
        return ""
    try:
        number = phonenumbers.parse(str(value), region)
    except phonenumbers.NumberParseException:
        return str(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _as_datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _sf_datetime(value: Any) -> str:
    moment = _as_datetime(value)
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _lisbon(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    moment = _as_datetime(value)
    return "" if moment is None else moment.astimezone(LISBON).strftime(fmt)


def _date(value: Any) -> str:
    moment = _as_datetime(value)
    return "" if moment is None else moment.astimezone(LISBON).date().isoformat()


def _eur(cents: Any) -> str:
    amount = int(cents or 0)
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100},{abs(amount) % 100:02d} €"


BUILTIN_FILTERS: dict[str, Callable[..., Any]] = {
    "e164": _e164,
    "sf_datetime": _sf_datetime,
    "lisbon": _lisbon,
    "date_only": _date,
    "eur": _eur,
}


class Mapper:
    """Validates and renders field mappings with the built-in and registered filters."""

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self.env = _NativeSandbox(undefined=StrictUndefined, autoescape=False)
        self.env.filters.update(BUILTIN_FILTERS)
        self.env.filters.update(filters or {})

    def problems(self, mapping: Mapping[str, str], script_fields: Iterable[str]) -> list[str]:
        """Every problem with `mapping` (unknown source fields, unknown filters, syntax)."""
        allowed = {
            "call": CALL_FIELDS,
            "answers": frozenset(script_fields),
            "client": CLIENT_FIELDS,
            "account": ACCOUNT_FIELDS,
        }
        found: list[str] = []
        for target, template in mapping.items():
            if not isinstance(template, str):
                found.append(f"{target}: expected a template string, got {type(template).__name__}")
                continue
            try:
                tree = self.env.parse(template)
            except TemplateSyntaxError as exc:
                found.append(f"{target}: cannot parse {template!r}: {exc.message}")
                continue
            for filter_node in tree.find_all(nodes.Filter):
                if filter_node.name not in self.env.filters:
                    known = ", ".join(sorted(self.env.filters))
                    found.append(f"{target}: unknown filter {filter_node.name!r} (known: {known})")
            for name_node in tree.find_all(nodes.Name):
                if name_node.ctx == "load" and name_node.name not in allowed:
                    found.append(
                        f"{target}: unknown name {name_node.name!r} (use call.*, answers.*, client.*, account.*)"
                    )
            for getattr_node in tree.find_all(nodes.Getattr):
                base = getattr_node.node
                if not isinstance(base, nodes.Name) or base.name not in allowed:
                    continue
                if getattr_node.attr not in allowed[base.name]:
                    known = ", ".join(sorted(allowed[base.name])) or "(none)"
                    found.append(f"{target}: unknown field {base.name}.{getattr_node.attr} (known: {known})")
        return found

    def validate(self, mapping: Mapping[str, str], script_fields: Iterable[str]) -> None:
        """Raise `MappingError` listing every problem with `mapping`."""
        problems = self.problems(mapping, script_fields)
        if problems:
            raise MappingError("; ".join(problems))

    def render(self, mapping: Mapping[str, str], context: Mapping[str, Any]) -> dict[str, Any]:
        """Compute the target fields of one record. Missing answers render as empty."""
        out: dict[str, Any] = {}
        for target, template in mapping.items():
            value = self.env.from_string(template).render(**context)
            out[target] = value
        return out


def mapping_context(
    record: CallRecord,
    script_fields: Iterable[str],
    client: Mapping[str, Any],
    account: Mapping[str, Any],
) -> dict[str, Any]:
    """The names a mapping sees for `record`: optional answers not given are empty strings."""
    answers = {name: "" for name in script_fields}
    answers.update(record.answers)
    return {
        "call": record.model_dump(mode="json"),
        "answers": answers,
        "client": {key: client.get(key) for key in CLIENT_FIELDS},
        "account": {key: account.get(key, 0) for key in ACCOUNT_FIELDS},
    }
