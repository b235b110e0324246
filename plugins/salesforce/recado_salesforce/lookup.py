"""The caller lookup of a batch: SOQL queries on Contact and Lead, packed into Composite calls.

A Composite call counts once against the org's API limits and carries up to five
queries, so a batch of 200 callers is usually looked up with one request. Each
query's URL is kept under Salesforce's 16,384-byte limit on request URIs by
splitting the numbers over several queries when needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus

from recado_salesforce.phones import PHONE_FIELDS, e164, match_query, soql_string, spellings

#: Room for the query in a subrequest URL, below Salesforce's 16,384-byte URI limit.
MAX_QUERY_URL = 15_000
#: Salesforce allows up to five query subrequests in one Composite call.
MAX_QUERIES_PER_COMPOSITE = 5
#: Contacts first: a Contact with the caller's number wins over a Lead with it.
TARGETS = (("Contact", ""), ("Lead", "IsConverted = false"))


_SAFE = "',()="


def query_url(api_base: str, sobject: str, numbers: Sequence[str], extra_where: str) -> str:
    """The subrequest URL of one lookup query (spaces as `+`, quotes and commas as they are)."""
    soql = match_query(sobject, numbers, extra_where)
    return f"{api_base}/query?q={quote_plus(soql, safe=_SAFE)}"


def _chunks(api_base: str, sobject: str, wanted: Sequence[str], extra: str) -> list[str]:
    # Each number adds its spellings to every phone field's IN list: add up those
    # lengths rather than rebuilding the query for every number.
    base = len(query_url(api_base, sobject, [], extra))
    chunks: list[list[str]] = []
    chunk: list[str] = []
    size = base
    for number in wanted:
        listed = ", ".join(soql_string(s) for s in spellings(number)) + ", "
        cost = len(quote_plus(listed, safe=_SAFE)) * len(PHONE_FIELDS)
        if chunk and size + cost > MAX_QUERY_URL:
            chunks.append(chunk)
            chunk, size = [], base
        chunk.append(number)
        size += cost
    if chunk:
        chunks.append(chunk)
    return [query_url(api_base, sobject, numbers, extra) for numbers in chunks]


def composite_bodies(api_base: str, wanted: Sequence[str]) -> list[dict[str, Any]]:
    """The Composite request bodies that look every number of `wanted` up."""
    subrequests = [
        {"method": "GET", "referenceId": f"{sobject}_{i}", "url": url}
        for sobject, extra in TARGETS
        for i, url in enumerate(_chunks(api_base, sobject, wanted, extra))
    ]
    return [
        {"allOrNone": False,
         "compositeRequest": subrequests[start:start + MAX_QUERIES_PER_COMPOSITE]}
        for start in range(0, len(subrequests), MAX_QUERIES_PER_COMPOSITE)
    ]


def collect_matches(
    rows: Iterable[Mapping[str, Any]], wanted: Iterable[str], found: dict[str, str]
) -> None:
    """Add to `found` (number -> Id) the rows whose phone is a wanted number, first one wins."""
    wanted_set = set(wanted)
    for row in rows:
        for name in PHONE_FIELDS:
            number = e164(row.get(name))
            if number in wanted_set and number not in found:
                found[number] = str(row["Id"])
