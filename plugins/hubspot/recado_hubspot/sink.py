"""The `hubspot` sink: each record becomes a call engagement on the caller's contact.

One batch of up to 100 records costs, in the usual case of first deliveries:

1. one contact search by phone for the whole batch;
2. one contact batch create, only when some callers match no contact;
3. one call batch create with each call's contact association inline;
4. with `follow_up_missed`, one task batch create when the batch holds missed calls.

Retries, replays and corrections are upserted by the idempotency property
instead, then associated (see `writer`), so a record never becomes two calls.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from hub.core.models import Disposition
from hub.sinks import (
    Delivered,
    Delivery,
    DestinationError,
    Failed,
    Health,
    Outcome,
    Retry,
    Sink,
    SinkError,
)

from .api import BatchRejected, BatchResult, HubSpotApi
from .config import HubSpotConfig
from .properties import RecordProblem, call_properties, contact_properties, e164, task_properties
from .writer import Write, write

#: How long the call property definitions are trusted before a new mapped name refreshes them.
_PROPERTIES_TTL_S = 300.0
#: How long a contact this sink created is trusted before HubSpot's search finds it.
_CREATED_TTL_S = 600.0
_CREATED_MAX = 10_000
#: Calls that become a follow-up task with `follow_up_missed`.
_FOLLOW_UP = {Disposition.MISSED, Disposition.AFTER_HOURS}


@dataclass
class _Call:
    """One distinct record of a batch (several deliveries may share its key)."""

    key: str
    props: dict[str, str]
    task: tuple[dict[str, str], dict[str, str]] | None
    phone: str | None
    caller_name: str | None
    fresh: bool
    ignored: list[str]
    contact: str | None = None
    contact_note: str = ""


class HubSpotSink(Sink):
    """Delivers call records to HubSpot as call engagements associated to contacts."""

    kind: ClassVar[str] = "hubspot"
    max_batch: int = 100
    accepts_notices: ClassVar[bool] = False

    config: HubSpotConfig

    def __init__(self, config: HubSpotConfig) -> None:
        super().__init__(config)
        self._api = HubSpotApi(config)
        self._definitions: dict[str, dict[str, Any]] = {}
        self._definitions_until = 0.0
        self._tasks_ready = False
        self._lock = threading.Lock()
        # Contacts created here, so that a retry within HubSpot's search-index delay
        # does not create the same caller twice.
        self._created: OrderedDict[str, tuple[str, float]] = OrderedDict()

    @property
    def requests_made(self) -> int:
        """HTTP requests this sink has sent to HubSpot so far."""
        return self._api.requests

    async def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """Deliver `batch`; one outcome per delivery, in order."""
        return await asyncio.to_thread(self._deliver_alone, list(batch))

    async def check(self) -> Health:
        """Check the token and that the idempotency property exists with unique values."""
        kinds = ["calls", "tasks"] if self.config.follow_up_missed else ["calls"]
        name = self.config.idempotency_property
        try:
            for kind in kinds:
                definition = await asyncio.to_thread(self._api.object_property, kind, name)
                problem = _idempotency_problem(kind, name, definition)
                if problem:
                    return Health(ok=False, detail=f"the token works, but {problem}")
        except (SinkError, BatchRejected) as exc:
            return Health(ok=False, detail=str(exc))
        return Health(
            ok=True,
            detail=f"token accepted; {' and '.join(kinds)} property {name!r} is unique",
            info={"host": self.config.host, "idempotency_property": name},
        )

    async def aclose(self) -> None:
        """Close the connections to HubSpot."""
        await asyncio.to_thread(self._api.close)

    def validate(self, mapping: Mapping[str, str]) -> list[str]:
        """Problems with `mapping`'s targets, checked against HubSpot's call properties."""
        try:
            known = self._api.object_properties("calls")
        except (SinkError, BatchRejected) as exc:
            return [f"could not read HubSpot call properties: {exc}"]
        ident = self.config.idempotency_property
        problem = _idempotency_problem("calls", ident, known.get(ident))
        problems = [problem] if problem else []
        for target in mapping:
            if target == ident:
                problems.append(f"{target!r} holds the record id and cannot be mapped")
            elif target not in known:
                problems.append(f"{target!r} is not a HubSpot call property")
            elif _read_only(known[target]):
                problems.append(f"{target!r} is read-only in HubSpot")
        return problems

    def preview(self, delivery: Delivery) -> dict[str, Any]:
        """The call (and follow-up task) `delivery` would become, without sending anything."""
        call = self._call_for(delivery, writable=None)
        if isinstance(call, Failed):
            return {"refused": call.reason}
        fresh = "create" if call.fresh else "upsert"
        preview: dict[str, Any] = {
            "method": "POST",
            "path": f"/crm/v3/objects/calls/batch/{fresh}",
            "properties": call.props,
            "contact": (
                f"the oldest contact whose phone or mobile phone is {call.phone}"
                + (", else a new contact" if self.config.create_contact_when_unmatched else "")
                if call.phone
                else None
            ),
        }
        if call.task is not None:
            preview["follow_up_task"] = call.task[0]
        return preview

    # -- delivery ---------------------------------------------------------------------------

    def _deliver_alone(self, batch: list[Delivery]) -> list[Outcome]:
        # One batch at a time per destination: HubSpot's rate limits are per account,
        # and the contact cache must see the contacts the previous batch created.
        with self._lock:
            return self._deliver(batch)

    def _deliver(self, batch: list[Delivery]) -> list[Outcome]:
        definitions = self._call_definitions({str(n) for d in batch for n in d.mapped})
        name = self.config.idempotency_property
        problem = _idempotency_problem("calls", name, definitions.get(name))
        if problem:
            self._definitions = {}  # read them again once the operator has fixed the account
            raise DestinationError(problem)
        writable = {prop for prop, spec in definitions.items() if not _read_only(spec)}
        outcomes: list[Outcome | None] = [None] * len(batch)
        calls: dict[str, _Call] = {}
        where: dict[str, list[int]] = {}
        for index, delivery in enumerate(batch):
            call = self._call_for(delivery, writable)
            if isinstance(call, Failed):
                outcomes[index] = call
                continue
            # A batch may carry a record and its correction: the later one wins.
            previous = calls.get(call.key)
            call.fresh = call.fresh and (previous is None or previous.fresh)
            calls[call.key] = call
            where.setdefault(call.key, []).append(index)
        if any(call.task for call in calls.values()):
            self._ensure_tasks()  # before writing anything, so a missing property stops nothing halfway
        self._attach_contacts(list(calls.values()))
        for key, outcome in self._write_records(calls).items():
            for index in where[key]:
                outcomes[index] = outcome
        return [o if o is not None else Retry(reason="no answer from HubSpot") for o in outcomes]

    def _call_definitions(self, mapped_names: set[str]) -> dict[str, dict[str, Any]]:
        """Call property definitions, read once and again when a mapped name is new."""
        now = time.monotonic()
        stale = now >= self._definitions_until and bool(mapped_names - self._definitions.keys())
        if not self._definitions or stale:
            self._definitions = self._api.object_properties("calls")
            self._definitions_until = now + _PROPERTIES_TTL_S
        return self._definitions

    def _call_for(self, delivery: Delivery, writable: set[str] | None) -> _Call | Failed:
        if delivery.kind != "record" or delivery.record is None:
            return Failed(reason="the hubspot sink delivers call records only")
        ident = self.config.idempotency_property
        record = delivery.record
        try:
            props, ignored = call_properties(delivery, ident, writable)
            follow_up = self.config.follow_up_missed and record.disposition in _FOLLOW_UP
            task = task_properties(delivery, ident) if follow_up else None
        except RecordProblem as exc:
            return Failed(reason=str(exc))
        return _Call(
            key=delivery.idempotency_key,
            props=props,
            task=task,
            phone=e164(record.caller),
            caller_name=record.caller_name,
            fresh=delivery.event_type == "call.record.created" and delivery.attempt <= 1,
            ignored=ignored,
        )

    def _attach_contacts(self, calls: list[_Call]) -> None:
        phones = sorted({c.phone for c in calls if c.phone})
        found = self._api.find_contacts(phones) if phones else {}
        created: set[str] = set()
        now = time.monotonic()
        for phone in phones:
            if phone not in found and phone in self._created and self._created[phone][1] > now:
                found[phone] = self._created[phone][0]
        missing = [p for p in phones if p not in found]
        failures: dict[str, str] = {}
        if missing and self.config.create_contact_when_unmatched:
            names = {c.phone: c.caller_name for c in reversed(calls) if c.phone}
            inputs = {p: contact_properties(p, names.get(p)) for p in missing}
            try:
                result = self._api.create_contacts(inputs)
            except BatchRejected as exc:
                result = BatchResult(errors=dict.fromkeys(missing, exc.message))
            for phone, contact in result.ids.items():
                found[phone] = contact
                created.add(phone)
                self._remember(phone, contact, now)
            failures = result.errors
        for call in calls:
            if call.phone is None:
                call.contact_note = "no caller number"
            elif call.phone in found:
                call.contact = found[call.phone]
                verb = "created" if call.phone in created else "matched"
                call.contact_note = f"contact {call.contact} {verb}"
            elif call.phone in failures:
                call.contact_note = f"contact not created: {failures[call.phone]}"
            else:
                call.contact_note = "no contact matched the caller"

    def _remember(self, phone: str, contact: str, now: float) -> None:
        self._created[phone] = (contact, now + _CREATED_TTL_S)
        self._created.move_to_end(phone)
        while len(self._created) > _CREATED_MAX:
            self._created.popitem(last=False)

    def _write_records(self, calls: dict[str, _Call]) -> dict[str, Outcome]:
        written = write(self._api, "calls", {k: Write(c.props, c.contact, c.fresh) for k, c in calls.items()})
        outcomes = dict(written.others)
        details = {key: _detail(call_id, calls[key]) for key, call_id in written.ids.items()}
        tasks = {k: calls[k].task for k in written.ids if calls[k].task is not None}
        if tasks:
            done = write(
                self._api,
                "tasks",
                {k: Write(t[0], calls[k].contact, calls[k].fresh, update=t[1]) for k, t in tasks.items() if t},
            )
            for key, task_id in done.ids.items():
                details[key] += f"; follow-up task {task_id}"
            for key, other in done.others.items():
                details[key] += f"; follow-up task not written: {getattr(other, 'reason', '')}"
        for key, call_id in written.ids.items():
            outcomes[key] = Delivered(remote_id=call_id, detail=details[key])
        return outcomes

    def _ensure_tasks(self) -> None:
        """Refuse to write tasks until the tasks object has the unique idempotency property."""
        if self._tasks_ready:
            return
        name = self.config.idempotency_property
        problem = _idempotency_problem("tasks", name, self._api.object_property("tasks", name))
        if problem:
            raise DestinationError(problem)
        self._tasks_ready = True


def _detail(call_id: str, call: _Call) -> str:
    detail = f"call {call_id}; {call.contact_note}"
    if call.ignored:
        detail += f"; not HubSpot call properties, left out: {', '.join(sorted(call.ignored))}"
    return detail


def _idempotency_problem(kind: str, name: str, prop: Mapping[str, Any] | None) -> str | None:
    what = kind.removesuffix("s")
    if prop is None:
        return f"{what} property {name!r} does not exist in HubSpot (see docs/hubspot.md)"
    if not prop.get("has_unique_value"):
        return f"{what} property {name!r} must be created with unique values"
    return None


def _read_only(prop: Mapping[str, Any]) -> bool:
    meta = prop.get("modification_metadata") or {}
    return bool(meta.get("read_only_value")) or bool(prop.get("calculated"))
