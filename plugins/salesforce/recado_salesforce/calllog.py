"""A call record as Salesforce fields: the Task call log and, when needed, a new Lead."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.core.models import CallRecord, Disposition, Language

LISBON = ZoneInfo("Europe/Lisbon")
#: Salesforce's length limits on the standard fields written here.
SUBJECT_MAX = 255
DESCRIPTION_MAX = 32_000
LAST_NAME_MAX = 80
#: What Salesforce itself writes when a required Lead company is unknown.
UNKNOWN_COMPANY = "[not provided]"
FOLLOW_UP = frozenset({Disposition.MISSED, Disposition.AFTER_HOURS})
_DISPOSITION_TEXT = {
    Disposition.ANSWERED: "answered",
    Disposition.MISSED: "missed",
    Disposition.AFTER_HOURS: "after hours",
    Disposition.REFUSED_NO_BALANCE: "not answered (service interrupted)",
    Disposition.SPAM: "marked as spam or wrong number",
    Disposition.BLOCKED: "refused (blocked number)",
    Disposition.CONFIRMED: "appointment confirmed",
    Disposition.RESCHEDULED: "appointment rescheduled",
    Disposition.MESSAGE_PLAYED: "reminder message played",
    Disposition.NO_ANSWER: "not answered",
    Disposition.SMS_SENT: "reminder SMS sent",
    Disposition.SMS_FAILED: "reminder SMS not delivered",
}


def activity_date(record: CallRecord) -> str | None:
    """The call's date in Lisbon (a Task's ActivityDate is a date, not a time)."""
    moment = record.answered_at or record.offered_at or record.ended_at
    return moment.astimezone(LISBON).date().isoformat() if moment else None


def _lisbon_time(moment: datetime | None) -> str:
    return moment.astimezone(LISBON).strftime("%Y-%m-%d %H:%M") if moment else "-"


def is_follow_up(record: CallRecord, enabled: bool) -> bool:
    """Whether this record becomes an open "call back" task rather than a completed call log."""
    return enabled and record.disposition in FOLLOW_UP


def subject(record: CallRecord, *, follow_up: bool, test: bool) -> str:
    """The Task subject: who called, or who to call back."""
    who = record.caller_name or record.caller or "unknown caller"
    if follow_up:
        text = f"Call back {record.caller or who}" + (
            f" ({record.caller_name})" if record.caller_name and record.caller else "")
    elif record.direction == "outbound":
        text = f"Call to {who}"
    elif record.disposition == Disposition.ANSWERED:
        text = f"Call from {who}"
    else:
        text = f"{_DISPOSITION_TEXT[record.disposition].capitalize()} call from {who}"
    return (("[TEST] " if test else "") + text)[:SUBJECT_MAX]


def answer_labels(client: Mapping[str, Any], language: Language) -> dict[str, str]:
    """Script field name -> its label in the call's language (falls back to the name)."""
    script = client.get("script") or {}
    labels: dict[str, str] = {}
    for field in script.get("fields") or []:
        if not isinstance(field, Mapping) or "name" not in field:
            continue
        label = field.get("label")
        # Labels are per language ({"pt": …, "en": …}) or one plain string.
        by_language = label if isinstance(label, Mapping) else {language.value: label}
        text = by_language.get(language.value) or next(iter(by_language.values()), None)
        labels[str(field["name"])] = str(text or field["name"])
    return labels


def _answer_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return "-" if value in (None, "") else str(value)


def description(record: CallRecord, client: Mapping[str, Any]) -> str:
    """The Task description: the script's answers in order, then the call's facts."""
    labels = answer_labels(client, record.language)
    lines = [f"{labels.get(name, name)}: {_answer_text(value)}"
             for name, value in sorted(record.answers.items(),
                                       key=lambda kv: list(labels).index(kv[0])
                                       if kv[0] in labels else len(labels))]
    if record.notes:
        lines += ["", f"Notes: {record.notes}"]
    lines += [
        "",
        f"Caller: {record.caller or '-'}"
        + (f" ({record.caller_name})" if record.caller_name else ""),
        f"Number called: {record.did or '-'}",
        f"Outcome: {_DISPOSITION_TEXT[record.disposition]}",
        f"Answered by: {record.agent or '-'} in {record.language.value}",
        f"Time (Lisbon): {_lisbon_time(record.answered_at or record.offered_at)}",
        f"Talk time: {record.talk_seconds // 60} min {record.talk_seconds % 60:02d} s",
        f"Record: {record.record_id}",
    ]
    if record.incomplete:
        lines.append("The agent's wrap-up did not arrive in time: answers may be missing.")
    return "\n".join(lines)[:DESCRIPTION_MAX]


def task_fields(
    record: CallRecord,
    client: Mapping[str, Any],
    *,
    follow_up: bool,
    test: bool,
    correction: bool = False,
) -> dict[str, Any]:
    """The standard Task fields of a call log (or of a "call back" follow-up task).

    A correction of a follow-up task leaves its Status and Priority alone: by then
    they belong to whoever is calling back.
    """
    fields: dict[str, Any] = {
        "Subject": subject(record, follow_up=follow_up, test=test),
        "Description": description(record, client),
        "Status": "Not Started" if follow_up else "Completed",
        "Priority": "High" if follow_up else "Normal",
        "CallType": "Outbound" if record.direction == "outbound" else "Inbound",
        "CallDurationInSeconds": record.talk_seconds,
        "CallDisposition": _DISPOSITION_TEXT[record.disposition],
        "CallObject": record.call_id[:255],
    }
    date = activity_date(record)
    if date:
        fields["ActivityDate"] = date
    if follow_up and correction:
        del fields["Status"], fields["Priority"]
    return fields


def lead_fields(record: CallRecord, *, test: bool) -> dict[str, Any]:
    """A new Lead for a caller found nowhere in Salesforce."""
    name = (record.caller_name or "").strip()
    first, _, last = name.rpartition(" ")
    fields: dict[str, Any] = {
        "LastName": (last or "Unknown caller")[:LAST_NAME_MAX],
        "Company": UNKNOWN_COMPANY,
        "Phone": record.caller,
        "LeadSource": "Phone Inquiry",
        "Description": ("[TEST] " if test else "") + f"Caller of record {record.record_id}",
    }
    if first:
        fields["FirstName"] = first[:40]
    return fields
