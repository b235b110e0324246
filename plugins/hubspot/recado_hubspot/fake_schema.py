"""Shapes shared by the local HubSpot stand-in: object types, stored objects, answers.

The object types carry what the fake needs to know of HubSpot's schema: each
engagement type's standard properties and its association type to contacts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

CONTACT_PROPERTIES = {"phone", "mobilephone", "firstname", "lastname", "email", "company"}


@dataclass(frozen=True)
class Kind:
    """An engagement object type: its name, HubSpot type id and association to contacts."""

    name: str
    type_id: str
    to_contact: int
    properties: Mapping[str, str]


CALLS = Kind(
    "calls",
    "0-48",
    194,
    {
        "hs_timestamp": "datetime",
        "hs_call_title": "string",
        "hs_call_body": "string",
        "hs_call_direction": "enumeration",
        "hs_call_duration": "number",
        "hs_call_disposition": "string",
        "hs_call_status": "enumeration",
        "hs_call_from_number": "string",
        "hs_call_to_number": "string",
        "hs_call_recording_url": "string",
        "hubspot_owner_id": "enumeration",
    },
)
TASKS = Kind(
    "tasks",
    "0-27",
    204,
    {
        "hs_timestamp": "datetime",
        "hs_task_subject": "string",
        "hs_task_body": "string",
        "hs_task_status": "enumeration",
        "hs_task_priority": "enumeration",
        "hs_task_type": "enumeration",
        "hubspot_owner_id": "enumeration",
    },
)
KINDS = {kind.name: kind for kind in (CALLS, TASKS)}
READ_ONLY_PROPERTIES = {"hs_createdate": "datetime", "hs_lastmodifieddate": "datetime"}


def now_iso() -> str:
    """The current time as HubSpot writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error(
    message: str, category: str = "VALIDATION_ERROR", context: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """One HubSpot error object."""
    return {
        "status": "error",
        "category": category,
        "message": message,
        "errors": [],
        "context": dict(context or {}),
        "links": {},
    }


@dataclass
class Obj:
    """One CRM object as stored."""

    id: str
    properties: dict[str, str]
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def view(self, names: Iterable[str] | None = None, new: bool | None = None) -> dict[str, Any]:
        """The object as HubSpot returns it."""
        props = dict(self.properties) if names is None else {n: self.properties.get(n) for n in names}
        props["hs_object_id"] = self.id
        body: dict[str, Any] = {
            "id": self.id,
            "properties": props,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": False,
        }
        if new is not None:
            body["new"] = new
        return body


def trace_echo(trace: str | None) -> dict[str, Any]:
    """The `objectWriteTraceId` echo of a result, when the input had one."""
    return {"objectWriteTraceId": trace} if trace else {}


def batch_answer(results: list[dict[str, Any]], errors: list[dict[str, Any]], ok: int) -> tuple[int, dict[str, Any]]:
    """A batch answer: `ok` when every input succeeded, else 207 with the errors."""
    stamp = now_iso()
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": stamp,
        "startedAt": stamp,
        "completedAt": stamp,
    }
    if errors:
        body["errors"] = errors
        body["numErrors"] = len(errors)
        return 207, body
    return ok, body


def definition(name: str, type_: str, unique: bool, read_only: bool) -> dict[str, Any]:
    """One property definition as the properties API returns it."""
    return {
        "name": name,
        "label": name.replace("_", " ").title(),
        "type": type_,
        "fieldType": "text" if type_ == "string" else type_,
        "groupName": "callinformation",
        "description": "",
        "options": [],
        "hasUniqueValue": unique,
        "calculated": False,
        "modificationMetadata": {
            "archivable": not read_only,
            "readOnlyDefinition": read_only,
            "readOnlyValue": read_only,
        },
    }
