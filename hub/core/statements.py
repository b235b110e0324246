"""Bank statements as the operator downloads them: ISO 20022 camt.053 (XML) or CSV.

Each credit or debit becomes a `StatementLine` with its amount in integer cents (parsed
from text, never through a float), the booking date, the payer and the remittance text
the payer wrote. XML is parsed with defusedxml: a statement file comes from outside and
must not be able to expand entities or reach the network.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

Format = Literal["csv", "camt053"]
FORMATS: tuple[Format, ...] = ("csv", "camt053")


class StatementError(ValueError):
    """A statement that cannot be read; the message names the file, the place and what was expected."""


@dataclass(frozen=True)
class StatementLine:
    """One movement of the account."""

    #: Where it is in the file, for people ("line 4", "entry 2").
    position: str
    booked_on: date | None
    amount_cents: int
    credit: bool
    currency: str
    payer: str | None
    #: Everything the payer wrote that can carry a reference (free text, structured reference, end-to-end id).
    remittance: str
    #: The bank's own id of the movement, when the statement gives one.
    bank_id: str | None = None

    def digest_parts(self) -> list[str]:
        """What identifies the movement when the bank gives no id."""
        return [
            self.booked_on.isoformat() if self.booked_on else "",
            str(self.amount_cents),
            "C" if self.credit else "D",
            self.currency,
            self.payer or "",
            self.remittance,
        ]


@dataclass
class Statement:
    """The movements of one statement file."""

    format: Format
    lines: list[StatementLine] = field(default_factory=list)

    def keys(self) -> list[str]:
        """A stable key per line: the bank's id, else a digest (the n-th identical line gets its own)."""
        seen: Counter[str] = Counter()
        keys = []
        for line in self.lines:
            if line.bank_id:
                keys.append(f"{self.format}:{line.bank_id}"[:128])
                continue
            digest = hashlib.sha256("\x1f".join(line.digest_parts()).encode()).hexdigest()
            seen[digest] += 1
            keys.append(f"sha256:{digest}:{seen[digest]}")
        return keys


# -- amounts and dates ---------------------------------------------------------------

_GROUPED = re.compile(r"\d{1,3}([.,]\d{3})+")


def parse_amount(text: str) -> int:
    """Signed cents from "1 234,56", "1.234,56", "1234.56", "1,234.56", "-20", "50,00 €"; ValueError if unclear."""
    value = text.strip().replace("€", "").replace("EUR", "").strip()
    value = re.sub(r"[\s\u00a0\u202f']", "", value)
    negative = value.startswith("-") or value.endswith("-")
    value = value.strip("+-")
    if not value or not re.fullmatch(r"[\d.,]+", value):
        raise ValueError(f"{text!r} is not an amount (expected e.g. 1234,56 or 1234.56)")
    decimal_at = max(value.rfind(","), value.rfind("."))
    if decimal_at >= 0 and len(value) - decimal_at - 1 in (1, 2):
        whole, cents = value[:decimal_at], value[decimal_at + 1 :].ljust(2, "0")
    elif decimal_at < 0 or (_GROUPED.fullmatch(value) and len(set(re.findall(r"[.,]", value))) == 1):
        whole, cents = value, "00"
    else:
        raise ValueError(f"{text!r} is not an amount (expected at most 2 decimals, e.g. 1234,56)")
    if whole and not _GROUPED.fullmatch(whole) and not whole.isdigit():
        raise ValueError(f"{text!r} is not an amount (thousands grouped by 3 digits, e.g. 1.234,56)")
    total = int(re.sub(r"[.,]", "", whole) or "0") * 100 + int(cents)
    return -total if negative else total


def parse_day(text: str) -> date:
    """A booking date: 2026-03-02, 02/03/2026, 02-03-2026 or 02.03.2026 (day first)."""
    value = text.strip()[:10]
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value)
        found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", value)
        if found:
            return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a date (expected 2026-03-02 or 02/03/2026)")


# -- format detection ----------------------------------------------------------------


def detect_format(data: bytes) -> Format:
    """The format of `data`: "camt053" for an ISO 20022 camt.053 document, "csv" otherwise."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return "camt053"
    return "csv"


def parse_statement(data: bytes, *, name: str, format: Format | None = None) -> Statement:
    """The movements in `data` (the file `name`), read as `format` or as detected from the content."""
    chosen = format or detect_format(data)
    if chosen == "camt053":
        return Statement("camt053", _parse_camt053(data, name))
    return Statement("csv", _parse_csv(data, name))


# -- camt.053 --------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((item for item in element if _local(item.tag) == name), None)
    return element


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [item for item in element if _local(item.tag) == name]


def _text(element: Element | None, *path: str) -> str | None:
    found = _child(element, *path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _parse_camt053(data: bytes, name: str) -> list[StatementLine]:
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StatementError(
            f"{name}: refused XML ({type(exc).__name__}): a statement has no DTD or entities"
        ) from None
    except ElementTree.ParseError as exc:
        raise StatementError(f"{name}: not well-formed XML: {exc}") from None
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != "Document" or ":camt.053." not in namespace:
        raise StatementError(
            f'{name}: not a camt.053 statement (expected <Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
            f'camt.053.001.02"> or .08, found <{_local(root.tag)}> in {namespace or "no namespace"})'
        )
    report = _child(root, "BkToCstmrStmt")
    if report is None:
        raise StatementError(f"{name}: camt.053 without <BkToCstmrStmt>")
    lines: list[StatementLine] = []
    entries = [entry for stmt in _children(report, "Stmt") for entry in _children(stmt, "Ntry")]
    for index, entry in enumerate(entries, start=1):
        lines += _entry_lines(entry, f"entry {index}", name)
    return lines


def _amount(element: Element | None, where: str, name: str) -> tuple[int, str]:
    if element is None or element.text is None:
        raise StatementError(f'{name}: {where}: <Amt Ccy="EUR"> is missing')
    try:
        cents = parse_amount(element.text)
    except ValueError as exc:
        raise StatementError(f"{name}: {where}: <Amt>: {exc}") from None
    return abs(cents), (element.get("Ccy") or "").upper()


def _entry_lines(entry: Element, where: str, name: str) -> list[StatementLine]:
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(f"{name}: {where}: <CdtDbtInd> must be CRDT or DBIT, got {indicator!r}")
    status = _text(entry, "Sts") or _text(entry, "Sts", "Cd") or "BOOK"
    if status != "BOOK":
        return []  # pending or informational entries are not money received yet
    amount, currency = _amount(_child(entry, "Amt"), where, name)
    booked_text = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")
    booked = _day_or_error(booked_text, where, name)
    entry_id = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    details = [tx for item in _children(entry, "NtryDtls") for tx in _children(item, "TxDtls")]
    if not details:
        return [
            StatementLine(where, booked, amount, indicator == "CRDT", currency, None, "", entry_id),
        ]
    lines = []
    for index, tx in enumerate(details, start=1):
        tx_where = f"{where}.{index}" if len(details) > 1 else where
        tx_amount, tx_currency = amount, currency
        own = _child(tx, "Amt")
        if own is None:
            own = _child(tx, "AmtDtls", "TxAmt", "Amt")
        if own is not None and len(details) > 1:
            tx_amount, tx_currency = _amount(own, tx_where, name)
        refs = _child(tx, "Refs")
        remittance = [
            *(item.text.strip() for item in _children(_child(tx, "RmtInf"), "Ustrd") if item.text),
            *(
                ref
                for strd in _children(_child(tx, "RmtInf"), "Strd")
                if (ref := _text(strd, "CdtrRefInf", "Ref")) is not None
            ),
            *(ref for ref in [_text(refs, "EndToEndId")] if ref and ref != "NOTPROVIDED"),
        ]
        parties = _child(tx, "RltdPties")
        payer = _text(parties, "Dbtr", "Nm") or _text(parties, "Dbtr", "Pty", "Nm")
        tx_id = _text(refs, "AcctSvcrRef") or _text(refs, "TxId")
        bank_id = None
        if entry_id or tx_id:
            bank_id = f"{entry_id or ''}/{tx_id or index}" if len(details) > 1 else (entry_id or tx_id)
        lines.append(
            StatementLine(
                tx_where, booked, tx_amount, indicator == "CRDT", tx_currency, payer, " | ".join(remittance), bank_id
            )
        )
    return lines


def _day_or_error(text: str | None, where: str, name: str) -> date | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).date() if "T" in text else parse_day(text)
    except ValueError as exc:
        raise StatementError(f"{name}: {where}: <BookgDt>: {exc}") from None


# -- CSV --------------------------------------------------------------------------------

COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "data", "booking date", "data movimento", "data mov.", "data valor", "value date"),
    "amount": ("amount", "valor", "montante", "importância", "importancia"),
    "reference": (
        "reference",
        "referência",
        "referencia",
        "description",
        "descrição",
        "descricao",
        "descritivo",
        "remittance",
        "details",
    ),
    "payer": ("payer", "ordenante", "name", "nome", "debtor"),
    "id": ("id", "entry id", "transaction id", "movement id"),
    "currency": ("currency", "moeda", "divisa"),
}


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementError(f"{name}: not a text file (expected CSV in UTF-8 or Windows-1252)")


def _columns(header: list[str], name: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for column, aliases in COLUMNS.items():
            if key in aliases and column not in found:
                found[column] = index
    missing = [column for column in ("date", "amount", "reference") if column not in found]
    if missing:
        raise StatementError(
            f"{name}, line 1: the header has no {' / '.join(missing)} column "
            f"(expected columns date, amount, reference and payer; found {', '.join(header) or 'nothing'})"
        )
    return found


def _parse_csv(data: bytes, name: str) -> list[StatementLine]:
    text = _decode(data, name)
    first = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    rows = list(csv.reader(io.StringIO(text.lstrip()), delimiter=delimiter))
    if not rows:
        raise StatementError(f"{name}: the file is empty (expected a header: date, amount, reference, payer)")
    columns = _columns(rows[0], name)
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {number}"

        def cell(column: str, row: list[str] = row) -> str:
            index = columns.get(column)
            return row[index].strip() if index is not None and index < len(row) else ""

        try:
            cents = parse_amount(cell("amount"))
        except ValueError as exc:
            raise StatementError(f"{name}, {where}, column amount: {exc}") from None
        try:
            booked = parse_day(cell("date"))
        except ValueError as exc:
            raise StatementError(f"{name}, {where}, column date: {exc}") from None
        lines.append(
            StatementLine(
                position=where,
                booked_on=booked,
                amount_cents=abs(cents),
                credit=cents > 0,
                currency=(cell("currency") or "EUR").upper(),
                payer=cell("payer") or None,
                remittance=cell("reference"),
                bank_id=cell("id") or None,
            )
        )
    return lines
