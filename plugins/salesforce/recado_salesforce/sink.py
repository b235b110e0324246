"""The `salesforce` sink: call records upserted as Tasks (or any sObject) in batches of 200.

Requests per batch, whatever its size up to 200: one Composite call that looks
every caller up among Contacts and Leads, one sObject Collections upsert, and
one more Collections upsert only when new Leads must be created. The sObject's
describe is fetched once per connection. The external id field holds the
record id, so a replay or a correction updates the same object.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hub.core.models import CallRecord
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
from recado_salesforce.calllog import is_follow_up, lead_fields, task_fields
from recado_salesforce.config import API_NAME, SalesforceConfig
from recado_salesforce.errors import BadRequest, record_outcome
from recado_salesforce.org import Describe, OrgClient
from recado_salesforce.phones import e164

log = logging.getLogger(__name__)

#: The mapping target that names another sObject for the record.
SOBJECT_KEY = "_sobject"
#: The event type of a record corrected after its first delivery.
CORRECTION_EVENT = "call.record.updated"
#: sObjects whose standard call-log fields and caller lookup (WhoId) apply.
CALL_LOG_SOBJECT = "Task"


@dataclass
class _Item:
    """One delivery on its way: what will be upserted and, at the end, its outcome."""

    delivery: Delivery
    record: CallRecord
    sobject: str
    fields: dict[str, Any]
    mapped: frozenset[str]
    caller: str | None = None
    notes: list[str] = field(default_factory=list)
    outcome: Outcome | None = None

    @property
    def key(self) -> str:
        return self.record.record_id


class SalesforceSink(Sink):
    """Logs each call in Salesforce through simple-salesforce (see the module docstring)."""

    kind: ClassVar[str] = "salesforce"
    #: sObject Collections take up to 200 records per request.
    max_batch: int = 200

    def __init__(self, config: SalesforceConfig) -> None:
        super().__init__(config)
        self.settings = config
        self.max_batch = config.batch_size
        self.org = OrgClient(config)

    async def deliver(self, batch: Sequence[Delivery]) -> list[Outcome]:
        """Upsert the batch; one outcome per delivery, in order."""
        return await asyncio.to_thread(self._deliver_locked, list(batch))

    def _deliver_locked(self, batch: list[Delivery]) -> list[Outcome]:
        with self.org.lock:
            try:
                return self._deliver(batch)
            except BadRequest as exc:
                raise DestinationError(exc.reason) from None

    def _deliver(self, batch: list[Delivery]) -> list[Outcome]:
        items: list[_Item] = []
        outcomes: list[Outcome | None] = []
        for delivery in batch:
            prepared = self._prepare(delivery)
            outcomes.append(prepared if isinstance(prepared, Failed) else None)
            if isinstance(prepared, _Item):
                items.append(prepared)
        self._fit_to_describes(items)
        live = [it for it in items if it.outcome is None]
        matches = self.org.find_callers(it.caller for it in live if it.caller)
        if self.settings.create_lead_when_unmatched:
            self._create_leads([it for it in live if it.caller and it.caller not in matches],
                               matches)
        for it in live:
            if it.caller in matches and it.outcome is None:
                it.fields["WhoId"] = matches[it.caller]
        by_sobject: dict[str, list[_Item]] = {}
        for it in items:
            if it.outcome is None:
                by_sobject.setdefault(it.sobject, []).append(it)
        for sobject, group in by_sobject.items():
            self._upsert(sobject, _last_per_key(group))
            _share_outcomes(group)
        it_outcomes = iter(it.outcome for it in items)
        final = [o if o is not None else next(it_outcomes) for o in outcomes]
        result = [o if o is not None else Retry(reason="not attempted") for o in final]
        self._log_summary(result)
        return result

    def _prepare(self, delivery: Delivery) -> _Item | Failed:
        if delivery.kind != "record" or delivery.record is None:
            return Failed(reason="the salesforce sink logs call records only, not notices")
        mapped = dict(delivery.mapped)
        sobject = str(mapped.pop(SOBJECT_KEY, "") or self.settings.sobject)
        if not API_NAME.match(sobject):
            return Failed(reason=f"{SOBJECT_KEY} {sobject!r} is not a Salesforce API name")
        record = delivery.record
        fields: dict[str, Any] = {}
        if sobject == CALL_LOG_SOBJECT:
            follow_up = is_follow_up(record, self.settings.follow_up_missed)
            fields = task_fields(record, delivery.client, follow_up=follow_up, test=delivery.test,
                                 correction=delivery.event_type == CORRECTION_EVENT)
        fields.update(mapped)
        fields[self.settings.external_id_field] = record.record_id
        item = _Item(delivery, record, sobject, fields, frozenset(mapped))
        if (sobject == CALL_LOG_SOBJECT and self.settings.match_callers
                and not {"WhoId", "Who"} & fields.keys()):
            item.caller = e164(record.caller)
        return item

    def preview(self, delivery: Delivery) -> dict[str, Any]:
        """The Collections upsert `delivery` would be part of (without the caller lookup)."""
        prepared = self._prepare(delivery)
        if isinstance(prepared, Failed):
            return {"refused": prepared.reason}
        return {
            "method": "PATCH",
            "path": f"{self.org.api_base}/composite/sobjects/{prepared.sobject}/"
                    f"{self.settings.external_id_field}",
            "body": {"allOrNone": False,
                     "records": [{"attributes": {"type": prepared.sobject}, **prepared.fields}]},
            "WhoId": ("the Contact or Lead whose Phone or MobilePhone is "
                      f"{prepared.caller}" if prepared.caller else None),
            "create_lead_when_unmatched": self.settings.create_lead_when_unmatched,
        }

    def _fit_to_describes(self, items: list[_Item]) -> None:
        # Fields the org does not have (or hides from this user) would make Salesforce
        # refuse the whole request: leave them out and say so in the outcome.
        for sobject in sorted({it.sobject for it in items}):
            group = [it for it in items if it.sobject == sobject]
            try:
                describe = self.org.describe(sobject)
            except DestinationError as exc:
                if sobject == self.settings.sobject:
                    raise
                for it in group:
                    it.outcome = Failed(reason=f"{SOBJECT_KEY} {sobject}: {exc.reason}")
                continue
            problem = describe.external_id_problem(self.settings.external_id_field)
            if problem and sobject == self.settings.sobject:
                raise DestinationError(problem)
            for it in group:
                if problem:
                    it.outcome = Failed(reason=problem)
                    continue
                _drop_unwritable(it, describe)

    def _create_leads(self, unmatched: list[_Item], matches: dict[str, str]) -> None:
        firsts: dict[str, _Item] = {}
        for it in unmatched:
            if it.caller is not None:
                firsts.setdefault(it.caller, it)
        if not firsts:
            return
        problem = self.org.describe("Lead").external_id_problem(self.settings.external_id_field)
        if problem:
            raise DestinationError(f"create_lead_when_unmatched: {problem}")
        leads = list(firsts.items())
        records = [{**lead_fields(it.record, test=it.delivery.test),
                    self.settings.external_id_field: it.key} for _, it in leads]
        try:
            results = self.org.upsert("Lead", records)
        except BadRequest as exc:
            results = [{"success": False, "errors": [{"statusCode": "BAD_REQUEST",
                                                      "message": exc.reason}]}] * len(leads)
        refused: dict[str, str] = {}
        for (caller, _), res in zip(leads, results, strict=True):
            if res.get("success"):
                matches[caller] = str(res["id"])
                continue
            outcome = record_outcome(res.get("errors") or [])
            if isinstance(outcome, Retry):
                for it in unmatched:
                    if it.caller == caller:
                        it.outcome = Retry(reason=f"creating the Lead: {outcome.reason}")
            else:
                refused[caller] = outcome.reason
        for it in unmatched:
            if it.caller in refused:
                it.notes.append(f"no Lead created ({refused[it.caller]})")

    def _upsert(self, sobject: str, items: list[_Item], *, described_again: bool = False) -> None:
        try:
            results = self.org.upsert(sobject, [it.fields for it in items])
        except BadRequest as exc:
            if not exc.about_one_record:
                if described_again:
                    raise
                # A field gone since the cached describe: describe again, leave it out, once.
                self.org.forget_describe(sobject)
                describe = self.org.describe(sobject)
                for it in items:
                    _drop_unwritable(it, describe)
                self._upsert(sobject, items, described_again=True)
                return
            # One record's values spoilt the whole request: halve until it stands alone.
            if len(items) == 1:
                items[0].outcome = Failed(reason=exc.reason)
                return
            middle = len(items) // 2
            self._upsert(sobject, items[:middle], described_again=described_again)
            self._upsert(sobject, items[middle:], described_again=described_again)
            return
        for it, res in zip(items, results, strict=True):
            if res.get("success"):
                verb = "created" if res.get("created") else "updated"
                detail = f"{verb} {sobject} {res.get('id')}"
                if it.notes:
                    detail += "; " + "; ".join(it.notes)
                it.outcome = Delivered(remote_id=str(res.get("id")), detail=detail)
            else:
                it.outcome = record_outcome(res.get("errors") or [])

    def _log_summary(self, outcomes: list[Outcome]) -> None:
        counts = {kind: sum(isinstance(o, kind) for o in outcomes)
                  for kind in (Delivered, Retry, Failed)}
        log.info("salesforce batch: %d delivered, %d to retry, %d failed",
                 counts[Delivered], counts[Retry], counts[Failed])

    async def check(self) -> Health:
        """Sign in, describe the sObject and check its external id field."""
        return await asyncio.to_thread(self._check)

    def _check(self) -> Health:
        with self.org.lock:
            try:
                self.org.connect()
                describe = self.org.describe(self.settings.sobject)
                limits = self.org.limits()
            except SinkError as exc:
                return Health(ok=False, detail=str(exc))
        problem = describe.external_id_problem(self.settings.external_id_field)
        daily = limits.get("DailyApiRequests") or {}
        info = {"sobject": self.settings.sobject,
                "api_requests_remaining": daily.get("Remaining"),
                "api_requests_max": daily.get("Max")}
        if problem:
            return Health(ok=False, detail=problem, info=info)
        return Health(ok=True, detail=f"signed in; {self.settings.sobject} upserts by "
                                      f"{self.settings.external_id_field}", info=info)

    def validate(self, mapping: Mapping[str, str]) -> list[str]:
        """Check the mapping's target fields against the sObject's describe (blocking call)."""
        sobject = self.settings.sobject
        problems: list[str] = []
        if SOBJECT_KEY in mapping:
            named = str(mapping[SOBJECT_KEY]).strip()
            if not API_NAME.match(named):
                return [f"{SOBJECT_KEY}: expected a literal sObject name such as Case, "
                        f"got {named!r}"]
            sobject = named
        with self.org.lock:
            try:
                describe = self.org.describe(sobject)
            except SinkError as exc:
                return [f"cannot check the mapping against Salesforce {sobject}: {exc}"]
        for target in mapping:
            if target == SOBJECT_KEY:
                continue
            problem = (describe.field_problem(target) if API_NAME.match(target)
                       else f"{target!r} is not a Salesforce field API name")
            if problem:
                problems.append(problem)
        id_problem = describe.external_id_problem(self.settings.external_id_field)
        if id_problem:
            problems.append(id_problem)
        return problems

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        self.org.close()


def _drop_unwritable(item: _Item, describe: Describe) -> None:
    skipped = []
    for name in list(item.fields):
        if name in describe.relationships or describe.writable(name):
            continue
        del item.fields[name]
        if name in item.mapped:
            skipped.append(name)
    if skipped:
        item.notes.append(f"skipped {', '.join(skipped)} (not writable fields of {describe.name})")
        log.warning("mapping targets not writable on %s, skipped: %s", describe.name,
                    ", ".join(skipped))


def _last_per_key(group: list[_Item]) -> list[_Item]:
    # Salesforce refuses a request naming one external id twice; the last
    # delivery of a record (a correction) is the one that counts.
    last: dict[str, _Item] = {}
    for it in group:
        if it.outcome is None:
            last.pop(it.key, None)
            last[it.key] = it
    return list(last.values())


def _share_outcomes(group: list[_Item]) -> None:
    by_key = {it.key: it.outcome for it in group if it.outcome is not None}
    for it in group:
        if it.outcome is None:
            it.outcome = by_key.get(it.key) or Retry(reason="not attempted")
