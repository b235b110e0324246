"""What a call record becomes in HubSpot: call engagement and contact properties.

HubSpot takes every property value as a string; timestamps as ISO 8601 UTC and
durations in milliseconds.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from hub.core.models import CallRecord, Delivery, Disposition

# HubSpot's default call outcomes (hs_call_disposition takes their GUIDs).
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"

_OUTCOME: dict[Disposition, tuple[str, str]] = {
    Disposition.ANSWERED: (CONNECTED, "COMPLETED"),
    Disposition.MISSED: (NO_ANSWER, "NO_ANSWER"),
    Disposition.AFTER_HOURS: (NO_ANSWER, "NO_ANSWER"),
    Disposition.REFUSED_NO_BALANCE: (NO_ANSWER, "FAILED"),
    Disposition.SPAM: (CONNECTED, "COMPLETED"),
    Disposition.BLOCKED: (NO_ANSWER, "CANCELED"),
    Disposition.CONFIRMED: (CONNECTED, "COMPLETED"),
    Disposition.RESCHEDULED: (CONNECTED, "COMPLETED"),
    Disposition.MESSAGE_PLAYED: (CONNECTED, "COMPLETED"),
    Disposition.NO_ANSWER: (NO_ANSWER, "NO_ANSWER"),
    Disposition.SMS_SENT: (CONNECTED, "COMPLETED"),
    Disposition.SMS_FAILED: (NO_ANSWER, "FAILED"),
}

_TITLES: dict[Disposition, str] = {
    Disposition.ANSWERED: "Call answered",
    Disposition.MISSED: "Missed call",
    Disposition.AFTER_HOURS: "Call out of hours",
    Disposition.REFUSED_NO_BALANCE: "Call not answered (service interrupted)",
    Disposition.SPAM: "Call marked as spam or wrong number",
    Disposition.BLOCKED: "Call from a blocked number refused",
    Disposition.CONFIRMED: "Appointment confirmed",
    Disposition.RESCHEDULED: "Appointment rescheduled",
    Disposition.MESSAGE_PLAYED: "Reminder message played",
    Disposition.NO_ANSWER: "Reminder call not answered",
    Disposition.SMS_SENT: "Reminder SMS sent",
    Disposition.SMS_FAILED: "Reminder SMS not delivered",
}

_LONG_NUMBER = re.compile(r"\+?\d[\d .\-]{5,}(\d{3})")


class RecordProblem(ValueError):
    """This record cannot become a HubSpot call (its data, not the destination, is at fault)."""


def mask_numbers(text: str) -> str:
    """Hide phone-like digit runs in `text`, keeping the last three digits."""
    return _LONG_NUMBER.sub(lambda m: "…" + m.group(1), text)


def hubspot_value(value: Any) -> str:
    """One property value as HubSpot expects it: a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return hubspot_time(value)
    if isinstance(value, list | tuple | set):
        # Multi-select properties take values separated by semicolons.
        return ";".join(hubspot_value(v) for v in value)
    return str(value)


def hubspot_time(at: datetime) -> str:
    """An aware datetime as the ISO 8601 UTC form HubSpot accepts for timestamps."""
    if at.tzinfo is None:
        raise RecordProblem(f"timestamp {at.isoformat()} has no time zone")
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def e164(number: str | None) -> str | None:
    """The caller's number in E.164 form, or None when there is no usable number."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, None if number.startswith("+") else "PT")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_digits(number: str) -> str:
    """The digits of an E.164 number without its country code, as HubSpot's search keeps them."""
    parsed = phonenumbers.parse(number, None)
    return str(parsed.national_number)


def script_labels(client: Mapping[str, Any], language: str) -> dict[str, str]:
    """Script field name -> its label in `language`, in the script's order."""
    script = client.get("script")
    fields = script.get("fields") if isinstance(script, Mapping) else None
    labels: dict[str, str] = {}
    for spec in fields if isinstance(fields, list) else []:
        if not isinstance(spec, Mapping) or not spec.get("name"):
            continue
        label = spec.get("label")
        text = label.get(language) or label.get("pt") if isinstance(label, Mapping) else label
        labels[str(spec["name"])] = str(text or spec["name"])
    return labels


def answer_text(value: Any, language: str) -> str:
    """An answer as the client reads it (yes/no in the call's language for booleans)."""
    if isinstance(value, bool):
        return {"pt": ("Sim", "Não")}.get(language, ("Yes", "No"))[0 if value else 1]
    return hubspot_value(value)


def call_body(record: CallRecord, client: Mapping[str, Any]) -> str:
    """The call's notes as HubSpot rich text: the answers with their script labels, then notes."""
    language = str(record.language)
    labels = script_labels(client, language)
    names = [n for n in labels if n in record.answers]
    names += [n for n in record.answers if n not in labels]
    parts = [
        f"<p><strong>{html.escape(labels.get(name, name))}</strong>: "
        f"{html.escape(answer_text(record.answers[name], language))}</p>"
        for name in names
    ]
    if record.notes:
        parts.append(f"<p>{html.escape(record.notes)}</p>")
    if record.agent:
        parts.append(f"<p>Agent: {html.escape(record.agent)}</p>")
    if record.incomplete:
        parts.append("<p><em>The agent did not complete the wrap-up in time.</em></p>")
    return "".join(parts)


def call_time(record: CallRecord) -> datetime:
    """When the call sits on the HubSpot timeline: answered, else offered, else ended."""
    at = record.answered_at or record.offered_at or record.ended_at
    if at is None:
        raise RecordProblem("the record has no offered, answered or ended time")
    return at


def call_properties(
    delivery: Delivery, idempotency_property: str, writable: Collection[str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """The properties of the call engagement for `delivery`, and the mapped names left out.

    The defaults describe the call; a non-empty destination mapping adds to them
    and wins where both name the same property. Mapped names that are not in
    `writable` (when given) are left out rather than failing the record: the
    destination was validated when saved, and a property deleted in HubSpot since
    then should not stop calls from being logged. The idempotency property always
    holds the delivery's idempotency key so that a replay finds the same call.
    """
    record = delivery.record
    if record is None:
        raise RecordProblem("the delivery carries no call record")
    disposition, status = _OUTCOME[record.disposition]
    title = _TITLES[record.disposition]
    if record.caller_name:
        title = f"{title}: {record.caller_name}"
    props: dict[str, str] = {
        "hs_timestamp": hubspot_time(call_time(record)),
        "hs_call_title": title,
        "hs_call_body": call_body(record, delivery.client),
        "hs_call_direction": "INBOUND" if record.direction == "inbound" else "OUTBOUND",
        "hs_call_duration": str(max(record.talk_seconds, 0) * 1000),
        "hs_call_disposition": disposition,
        "hs_call_status": status,
    }
    if record.caller:
        props["hs_call_from_number"] = record.caller
    if record.did:
        props["hs_call_to_number"] = record.did
    ignored: list[str] = []
    for name, value in mapped_properties(delivery.mapped).items():
        if name == idempotency_property or (writable is not None and name not in writable):
            ignored.append(name)
        else:
            props[name] = value
    if delivery.test:
        # A test record stays recognisable whatever the mapping makes of the title.
        props["hs_call_title"] = f"[TEST] {props['hs_call_title']}"
    props[idempotency_property] = delivery.idempotency_key
    return props, ignored


def task_properties(delivery: Delivery, idempotency_property: str) -> tuple[dict[str, str], dict[str, str]]:
    """A follow-up task for a missed call: properties to create it, and those an update may change.

    An update (a correction of the record) leaves the task's status and priority
    to whoever is calling back.
    """
    record = delivery.record
    if record is None:
        raise RecordProblem("the delivery carries no call record")
    subject = f"Call back {record.caller or 'the caller (number withheld)'}"
    if record.caller_name:
        subject += f" ({record.caller_name})"
    if delivery.test:
        subject = f"[TEST] {subject}"
    update = {
        "hs_timestamp": hubspot_time(call_time(record)),
        "hs_task_subject": subject,
        "hs_task_body": call_body(record, delivery.client),
        "hs_task_type": "CALL",
        idempotency_property: delivery.idempotency_key,
    }
    return update | {"hs_task_status": "NOT_STARTED", "hs_task_priority": "HIGH"}, update


def mapped_properties(mapped: Mapping[str, Any]) -> dict[str, str]:
    """The destination mapping's values as HubSpot property strings."""
    return {str(name): hubspot_value(value) for name, value in mapped.items()}


def contact_properties(phone: str, caller_name: str | None) -> dict[str, str]:
    """The properties of a contact created for a caller no contact matched."""
    props = {"phone": phone}
    if caller_name and caller_name.strip():
        first, _, last = caller_name.strip().partition(" ")
        props["firstname"] = first
        if last.strip():
            props["lastname"] = last.strip()
    return props
