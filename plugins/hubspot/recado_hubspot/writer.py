"""Writing calls and tasks so that a record never becomes two objects.

A first delivery is created with its contact association inline (one request
per batch). Anything else (a retry, a replay, a correction) and any record the
create refused, most often because its object already exists, is upserted by
the idempotency property and associated in one more request: HubSpot refuses a
second object with the same unique value, so whichever path a record takes it
ends up as exactly one object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.core.models import Failed, Outcome, Retry

from .api import BatchRejected, BatchResult, HubSpotApi


@dataclass
class Write:
    """One object to write, keyed elsewhere by its idempotency value."""

    props: dict[str, str]
    contact: str | None
    fresh: bool
    #: What an update may change; None means the same as `props`.
    update: dict[str, str] | None = None


@dataclass
class Written:
    """Result of `write`: object ids by key, and an outcome for each key not written."""

    ids: dict[str, str] = field(default_factory=dict)
    others: dict[str, Outcome] = field(default_factory=dict)


def write(api: HubSpotApi, kind: str, writes: Mapping[str, Write]) -> Written:
    """Create or upsert `writes` as objects of `kind` ("calls" or "tasks")."""
    result = Written()
    fresh = {key: w for key, w in writes.items() if w.fresh}
    upsert = {key: w for key, w in writes.items() if not w.fresh}
    if fresh:
        try:
            created = api.create(kind, {key: (w.props, w.contact) for key, w in fresh.items()})
        except BatchRejected:
            # Without per-record results nothing can be told apart: the upsert path
            # is safe for objects that already exist.
            created = BatchResult()
        for key, w in fresh.items():
            if key in created.ids:
                result.ids[key] = created.ids[key]
            else:
                upsert[key] = w
    if upsert:
        ids, failed = _upsert(api, kind, {key: w.update or w.props for key, w in upsert.items()})
        result.others.update(failed)
        pairs = {ids[key]: w.contact for key, w in upsert.items() if key in ids and w.contact}
        errors = api.associate(kind, pairs) if pairs else []
        for key, w in upsert.items():
            if key not in ids:
                continue
            if errors and w.contact:
                result.others[key] = Retry(reason=f"{kind} object {ids[key]} not associated: {errors[0]}")
            else:
                result.ids[key] = ids[key]
    return result


def _upsert(api: HubSpotApi, kind: str, inputs: dict[str, dict[str, str]]) -> tuple[dict[str, str], dict[str, Outcome]]:
    """Upsert `inputs`; split the batch when HubSpot refuses it whole, to find the culprit."""
    try:
        result = api.upsert(kind, inputs)
    except BatchRejected as exc:
        if len(inputs) == 1:
            return {}, {key: Failed(reason=exc.message) for key in inputs}
        items = list(inputs.items())
        half = len(items) // 2
        ids_a, failed_a = _upsert(api, kind, dict(items[:half]))
        ids_b, failed_b = _upsert(api, kind, dict(items[half:]))
        return ids_a | ids_b, failed_a | failed_b
    failed: dict[str, Outcome] = {}
    for key in inputs:
        if key in result.ids:
            continue
        if key in result.errors:
            failed[key] = Failed(reason=result.errors[key])
        else:
            reason = result.unattributed[0] if result.unattributed else "no result for this record"
            failed[key] = Retry(reason=f"HubSpot did not confirm the {kind} object: {reason}")
    return result.ids, failed
