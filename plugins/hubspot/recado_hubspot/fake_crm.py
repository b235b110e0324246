"""The data side of a local HubSpot stand-in: contacts, calls, tasks, associations, properties.

It keeps HubSpot's rules that matter to a sink: a unique property rejects a
second call (or task) with the same value, unknown properties and missing `hs_timestamp`
are refused per input, batch creates answer 207 with per-input errors only when
every input carries an `objectWriteTraceId` (otherwise one bad input refuses the
whole request), and search matches `EQ`/`IN` filters. Each method returns
``(http_status, json_body)`` shaped like HubSpot's answers.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Mapping
from typing import Any

import phonenumbers

from .fake_schema import (
    CONTACT_PROPERTIES,
    KINDS,
    READ_ONLY_PROPERTIES,
    Obj,
    batch_answer,
    definition,
    error,
    now_iso,
    trace_echo,
)


class FakeCrm:
    """Contacts, calls, tasks and their associations to contacts, of one fake HubSpot account."""

    def __init__(
        self,
        idempotency_property: str = "recado_record_id",
        unique: bool = True,
        atomic: bool = False,
    ) -> None:
        self.idempotency_property = idempotency_property
        self.unique = unique
        #: Refuse a whole batch for one bad input (HubSpot does so where it offers no 207).
        self.atomic = atomic
        self.lock = threading.RLock()
        self.contacts: dict[str, Obj] = {}
        #: phone property (typed or calculated) -> value -> contact ids, for fast searches.
        self._phones: dict[str, dict[str, set[str]]] = {}
        self.objects: dict[str, dict[str, Obj]] = {kind: {} for kind in KINDS}
        self._by_key: dict[str, dict[str, list[Obj]]] = {kind: {} for kind in KINDS}
        #: (engagement id, contact id); ids are unique across object types.
        self.associations: set[tuple[str, str]] = set()
        #: idempotency value -> reason: engagements HubSpot will refuse (as a bad value would be).
        self.refused: dict[str, str] = {}
        self._ids = itertools.count(1001)

    @property
    def calls(self) -> dict[str, Obj]:
        """Calls by id."""
        return self.objects["calls"]

    @property
    def tasks(self) -> dict[str, Obj]:
        """Tasks by id."""
        return self.objects["tasks"]

    # -- seen from tests --------------------------------------------------------------------

    def add_contact(self, **properties: str) -> str:
        """Create a contact directly, as someone working in HubSpot would."""
        with self.lock:
            contact = Obj(str(next(self._ids)), dict(properties))
            self._add_contact(contact)
            return contact.id

    def calls_with_key(self, key: str) -> list[Obj]:
        """Every call whose idempotency property holds `key`."""
        return self.with_key("calls", key)

    def tasks_with_key(self, key: str) -> list[Obj]:
        """Every task whose idempotency property holds `key`."""
        return self.with_key("tasks", key)

    def with_key(self, kind: str, key: str) -> list[Obj]:
        """Every object of `kind` whose idempotency property holds `key`."""
        with self.lock:
            return list(self._by_key[kind].get(key, []))

    def contacts_of(self, object_id: str) -> list[str]:
        """Ids of the contacts associated to the call or task `object_id`."""
        with self.lock:
            return sorted(contact for obj, contact in self.associations if obj == object_id)

    def contacts_with_phone(self, phone: str) -> list[Obj]:
        """Every contact whose phone or mobile phone is `phone`."""
        with self.lock:
            return [
                c
                for c in self.contacts.values()
                if phone in (c.properties.get("phone"), c.properties.get("mobilephone"))
            ]

    def reset(self) -> None:
        """Forget every object and refusal."""
        with self.lock:
            self.contacts.clear()
            self._phones.clear()
            for kind in KINDS:
                self.objects[kind].clear()
                self._by_key[kind].clear()
            self.associations.clear()
            self.refused.clear()

    # -- properties -------------------------------------------------------------------------

    def property_list(self, kind: str) -> tuple[int, dict[str, Any]]:
        """GET /crm/v3/properties/{kind}."""
        if kind not in KINDS:
            return 400, error(f"Unable to infer object type from: {kind}")
        props = [definition(n, t, False, False) for n, t in KINDS[kind].properties.items()]
        props += [definition(n, t, False, True) for n, t in READ_ONLY_PROPERTIES.items()]
        if self.idempotency_property:
            props.append(definition(self.idempotency_property, "string", self.unique, False))
        return 200, {"results": props}

    def property(self, kind: str, name: str) -> tuple[int, dict[str, Any]]:
        """GET /crm/v3/properties/{kind}/{name}."""
        status, body = self.property_list(kind)
        for prop in body.get("results", []):
            if prop["name"] == name:
                return 200, prop
        if status != 200:
            return status, body
        return 404, error(f"Unable to find property {name} for object type {KINDS[kind].type_id}", "OBJECT_NOT_FOUND")

    # -- contacts ---------------------------------------------------------------------------

    def search_contacts(self, request: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST /crm/v3/objects/contacts/search."""
        groups = request.get("filterGroups") or []
        limit = int(request.get("limit") or 10)
        if limit > 200 or len(groups) > 5 or any(len(g.get("filters", [])) > 6 for g in groups):
            return 400, error("search limits exceeded (limit 200, 5 groups, 6 filters each)")
        with self.lock:
            prepared = [[_prepared(f) for f in g.get("filters") or []] for g in groups]
            hits = [c for c in self._candidates(prepared) if _matches(c, prepared)]
        for sort in reversed(request.get("sorts") or []):
            name = sort.get("propertyName") if isinstance(sort, dict) else str(sort)
            desc = isinstance(sort, dict) and sort.get("direction") == "DESCENDING"
            if name == "createdate":
                hits.sort(key=lambda c: (c.created_at, int(c.id)), reverse=desc)
        start = int(request.get("after") or 0)
        page = hits[start : start + limit]
        names = request.get("properties") or ["firstname", "lastname", "email"]
        body: dict[str, Any] = {"total": len(hits), "results": [c.view(names) for c in page]}
        if start + limit < len(hits):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return 200, body

    def create_contacts(self, inputs: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """POST /crm/v3/objects/contacts/batch/create."""

        def check(item: dict[str, Any]) -> str | None:
            unknown = set(item.get("properties") or {}) - CONTACT_PROPERTIES
            return f'Property "{sorted(unknown)[0]}" does not exist' if unknown else None

        def make(item: dict[str, Any]) -> Obj:
            contact = Obj(str(next(self._ids)), dict(item.get("properties") or {}))
            self._add_contact(contact)
            return contact

        return self._batch_create(inputs, check, make)

    def _add_contact(self, contact: Obj) -> None:
        self.contacts[contact.id] = contact
        for name in ("phone", "mobilephone", *_CALCULATED):
            value = _value(contact, name)
            if value is not None:
                self._phones.setdefault(name, {}).setdefault(value, set()).add(contact.id)

    def _candidates(self, groups: list[list[dict[str, Any]]]) -> list[Obj]:
        """Contacts that may match: found through the phone index when every group allows it."""
        indexed = all(
            len(filters) >= 1
            and filters[0].get("operator") == "IN"
            and filters[0].get("propertyName") in ("phone", "mobilephone", *_CALCULATED)
            for filters in groups
        )
        if not groups or not indexed:
            return list(self.contacts.values())
        ids: set[str] = set()
        for filters in groups:
            index = self._phones.get(str(filters[0]["propertyName"]), {})
            for value in filters[0]["values"]:
                ids |= index.get(value, set())
        return [self.contacts[i] for i in sorted(ids, key=int)]

    # -- calls and tasks --------------------------------------------------------------------

    def create(self, kind: str, inputs: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """POST /crm/v3/objects/{kind}/batch/create (associations given inline)."""
        seen: set[str] = set()

        def check(item: dict[str, Any]) -> str | None:
            props = item.get("properties") or {}
            problem = self._problem(kind, props, creating=True)
            key = props.get(self.idempotency_property)
            if problem is None and self.unique and key is not None:
                if key in seen:
                    problem = f"Duplicate value {key} for unique property {self.idempotency_property}"
                seen.add(key)
            for assoc in item.get("associations") or []:
                problem = problem or self._association_problem(kind, assoc)
            return problem

        def make(item: dict[str, Any]) -> Obj:
            obj = self._store(kind, Obj(str(next(self._ids)), dict(item.get("properties") or {})))
            for assoc in item.get("associations") or []:
                self.associations.add((obj.id, str(assoc["to"]["id"])))
            return obj

        return self._batch_create(inputs, check, make)

    def create_one(self, kind: str, item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST /crm/v3/objects/{kind} (one object, associations inline)."""
        status, body = self.create(kind, [item])
        if status == 201:
            return 201, body["results"][0]
        if status == 207:
            return 400, body["errors"][0]
        return status, body

    def upsert(self, kind: str, inputs: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """POST /crm/v3/objects/{kind}/batch/upsert."""
        if len(inputs) > 100:
            return 400, error("Batch size exceeds the maximum of 100 inputs")
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.lock:
            checked = []
            for item in inputs:
                id_prop, key = item.get("idProperty"), str(item.get("id"))
                if id_prop != self.idempotency_property or not self.unique:
                    return 400, error(f"{id_prop} is not a unique property of {kind}")
                props = dict(item.get("properties") or {})
                props[id_prop] = key
                existing = self.with_key(kind, key)
                problem = self._problem(kind, props, creating=False)
                if problem is None and not existing and "hs_timestamp" not in props:
                    problem = "hs_timestamp is required"
                checked.append((item.get("objectWriteTraceId"), props, existing, problem))
            if self.atomic and any(problem for *_, problem in checked):
                return 400, error(next(p for *_, p in checked if p))
            for trace, props, existing, problem in checked:
                if problem:
                    context = {"objectWriteTraceId": [str(trace)]} if trace else {}
                    errors.append(error(problem, context=context))
                elif existing:
                    obj = existing[0]
                    obj.properties.update(props)
                    obj.updated_at = now_iso()
                    results.append(obj.view(new=False) | trace_echo(trace))
                else:
                    obj = self._store(kind, Obj(str(next(self._ids)), props))
                    results.append(obj.view(new=True) | trace_echo(trace))
        return batch_answer(results, errors, ok=200)

    def associate(self, kind: str, inputs: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        """POST /crm/v4/associations/{kind}/contacts/batch/create."""
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.lock:
            for item in inputs:
                source, contact = str(item["from"]["id"]), str(item["to"]["id"])
                problem = self._association_problem(kind, item)
                if source not in self.objects[kind]:
                    problem = f"No {kind} object with id {source}"
                if problem:
                    errors.append(error(problem, context={"fromObjectId": [source]}))
                    continue
                self.associations.add((source, contact))
                results.append(
                    {
                        "fromObjectTypeId": KINDS[kind].type_id,
                        "fromObjectId": source,
                        "toObjectTypeId": "0-1",
                        "toObjectId": contact,
                        "labels": [],
                    }
                )
        return batch_answer(results, errors, ok=201)

    # -- rules ------------------------------------------------------------------------------

    def _store(self, kind: str, obj: Obj) -> Obj:
        self.objects[kind][obj.id] = obj
        key = obj.properties.get(self.idempotency_property)
        if key is not None:
            self._by_key[kind].setdefault(str(key), []).append(obj)
        return obj

    def _problem(self, kind: str, props: Mapping[str, Any], creating: bool) -> str | None:
        known = set(KINDS[kind].properties) | {self.idempotency_property}
        unknown = sorted(set(props) - known)
        if unknown:
            return f'Property "{unknown[0]}" does not exist'
        if creating and "hs_timestamp" not in props:
            return "hs_timestamp is required"
        key = props.get(self.idempotency_property)
        if key in self.refused:
            return self.refused[str(key)]
        if creating and self.unique and key is not None and self.with_key(kind, str(key)):
            return f"A {kind} object with {self.idempotency_property}={key} already exists"
        return None

    def _association_problem(self, kind: str, assoc: Mapping[str, Any]) -> str | None:
        types = assoc.get("types") or []
        if not any(t.get("associationTypeId") == KINDS[kind].to_contact for t in types):
            return "Unsupported association type"
        if str((assoc.get("to") or {}).get("id")) not in self.contacts:
            return f"No contact with id {(assoc.get('to') or {}).get('id')}"
        return None

    def _batch_create(self, inputs: list[dict[str, Any]], check: Any, make: Any) -> tuple[int, dict[str, Any]]:
        if len(inputs) > 100:
            return 400, error("Batch size exceeds the maximum of 100 inputs")
        # HubSpot answers 207 with per-input errors only when every input is traceable.
        multi = not self.atomic and all(i.get("objectWriteTraceId") for i in inputs)
        with self.lock:
            problems = [check(item) for item in inputs]
            if not multi and any(problems):
                return 400, error(next(p for p in problems if p))
            results, errors = [], []
            for item, problem in zip(inputs, problems, strict=True):
                trace = item.get("objectWriteTraceId")
                if problem:
                    errors.append(error(problem, context={"objectWriteTraceId": [str(trace)]}))
                else:
                    results.append(make(item).view() | trace_echo(trace))
        return batch_answer(results, errors, ok=201)


_CALCULATED = {
    "hs_searchable_calculated_phone_number": "phone",
    "hs_searchable_calculated_mobile_number": "mobilephone",
}


def _value(contact: Obj, name: str) -> str | None:
    """A property's value, computing HubSpot's searchable phone numbers as it does."""
    if name not in _CALCULATED:
        return contact.properties.get(name)
    typed = contact.properties.get(_CALCULATED[name])
    return _searchable(typed) if typed else None


@functools.lru_cache(maxsize=65536)
def _searchable(typed: str) -> str:
    # The digits without the country code; cached, as a search scans every contact.
    digits = "".join(c for c in typed if c.isdigit())
    if typed.strip().startswith("+"):
        try:
            return str(phonenumbers.parse(typed, None).national_number)
        except phonenumbers.NumberParseException:
            return digits
    return digits.lstrip("0")


def _prepared(f: Mapping[str, Any]) -> dict[str, Any]:
    # Sets make IN filters over a large account affordable.
    return dict(f) | {"values": set(f.get("values") or [])}


def _matches(contact: Obj, groups: list[list[dict[str, Any]]]) -> bool:
    def one(f: Mapping[str, Any]) -> bool:
        value = _value(contact, str(f.get("propertyName")))
        op = f.get("operator")
        if op == "EQ":
            return value is not None and value == f.get("value")
        if op == "IN":
            return value is not None and value in f["values"]
        if op == "HAS_PROPERTY":
            return value is not None
        return False

    return any(all(one(f) for f in filters) for filters in groups)
