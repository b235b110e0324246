"""The email of one delivery: subject, plain-text and HTML parts, and headers.

Rendering is deterministic: the same delivery always gives the same message (its
`Date` is the time of the call or notice), so a replay sends the very same email.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from hub.core.models import CallRecord, Delivery
from recado_email.phones import format_phone
from recado_email.wording import (
    CATEGORIES,
    DISPOSITIONS,
    TEXT,
    duration,
    euros,
    lisbon_time,
    localized,
    pick_language,
)

_env = Environment(
    loader=PackageLoader("recado_email", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class RenderedEmail:
    """The parts of an email before it becomes a MIME message."""

    language: str
    subject: str
    text: str
    html: str
    date: datetime


def message_id_for(idempotency_key: str, client_id: str) -> str:
    """The `Message-ID` of the email of one delivery: `<{key}@{client}.recado>`.

    The client is part of it because a notice's key names the event, not the client:
    two clients interrupted at the same moment must not share a Message-ID.
    """
    return f"<{_id_part(idempotency_key)}@{_id_part(client_id or 'client')}.recado>"


def _id_part(text: str) -> str:
    """`text` as a dot-atom; when characters had to be replaced, a digest keeps it unique."""
    safe = _UNSAFE_ID_CHARS.sub("_", text).strip(".").replace("..", "_")
    if safe == text:
        return text
    return f"{safe}.{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def build_message(delivery: Delivery, *, sender: str, recipients: list[str]) -> EmailMessage:
    """The multipart/alternative email (text + HTML) of `delivery`, with all its headers."""
    rendered = render(delivery)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(rendered.date)
    message["Message-ID"] = message_id_for(delivery.idempotency_key, client_id(delivery))
    message["Auto-Submitted"] = "auto-generated"
    # Keeps Exchange/Outlook from answering with out-of-office replies.
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    # After the parts exist: set_content() moves Content-* headers into the first part.
    message["Content-Language"] = rendered.language
    if delivery.kind == "notice":
        for attachment in (delivery.notice or {}).get("attachments") or []:
            maintype, _, subtype = str(attachment["content_type"]).partition("/")
            message.add_attachment(
                base64.b64decode(attachment["content_b64"]),
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=str(attachment["filename"]),
            )
    return message


def render(delivery: Delivery) -> RenderedEmail:
    """Subject, text and HTML of `delivery` (a record or a notice) in its language."""
    if delivery.kind == "notice":
        lang = pick_language(
            (delivery.notice or {}).get("language") or _first(delivery.client.get("languages"))
        )
        context = _notice_context(delivery, lang)
        template = "notice"
    elif delivery.record is not None:
        lang = pick_language(delivery.record.language)
        context = _record_context(delivery, delivery.record, lang)
        template = "record"
    else:
        raise ValueError(f"delivery {delivery.delivery_id} is a record delivery without a record")
    t = TEXT[lang]
    subject = (t["test_prefix"] if delivery.test else "") + context["subject"]
    context.update(t=t, lang=lang, subject=subject, account=_account(delivery, lang))
    return RenderedEmail(
        language=lang,
        subject=subject,
        text=_env.get_template(f"{template}.txt").render(context),
        html=_env.get_template(f"{template}.html").render(context),
        date=context["date"],
    )


def _record_context(delivery: Delivery, record: CallRecord, lang: str) -> dict[str, Any]:
    t = TEXT[lang]
    client = _client_name(delivery)
    caller = format_phone(record.caller) or t["hidden_number"]
    if record.direction == "outbound":
        subject_key, heading_key = "subject_outbound", "heading_outbound"
    else:
        subject_key, heading_key = f"subject_{record.disposition.value}", "heading_inbound"
    details = [
        (t["caller"], caller),
        (t["caller_name"], record.caller_name),
        (t["number_called"], format_phone(record.did)),
        (t["disposition"], DISPOSITIONS.get(record.disposition.value, {}).get(lang)),
        (t["category"], _category(record.category, lang)),
        (t["agent"], record.agent),
        (t["offered_at"], lisbon_time(record.offered_at, lang)),
        (t["answered_at"], lisbon_time(record.answered_at, lang)),
        (t["ended_at"], lisbon_time(record.ended_at, lang)),
        (t["talk_time"], duration(record.talk_seconds) if record.talk_seconds else None),
        (t["price"], euros(record.price_cents, lang) if record.price_cents else None),
    ]
    return {
        "subject": t.get(subject_key, t["subject_answered"]).format(caller=caller, client=client),
        "heading": t[heading_key].format(client=client),
        "details": [(label, value) for label, value in details if value],
        "answers": _answers(record.answers, delivery.client, lang),
        "notes": record.notes or None,
        "incomplete": record.incomplete,
        "date": _parse_time(record.ended_at or record.answered_at or record.offered_at) or _now(),
    }


def _notice_context(delivery: Delivery, lang: str) -> dict[str, Any]:
    t = TEXT[lang]
    notice = delivery.notice or {}
    kind = str(notice.get("type") or "other")
    title = t.get(f"title_{kind}", t["title_other"])
    at = notice.get("at")
    date = _parse_time(at) or _now()
    # Mail written by the hub for the client (reminders, reports, welcome) brings its own
    # subject and HTML body; the HTML is built by the hub's own autoescaping templates.
    subject = localized(notice.get("subject"), lang)
    html_body = localized(notice.get("html"), lang)
    return {
        "subject": subject or t["subject_notice"].format(title=title, client=_client_name(delivery)),
        "heading": subject or title,
        "message": localized(notice.get("message"), lang) or title,
        "html_body": Markup(html_body) if html_body else None,
        "at": lisbon_time(date, lang),
        "date": date,
    }


def _account(delivery: Delivery, lang: str) -> dict[str, str]:
    """Balance and calls this month, as shown in every email ("unavailable" when unknown)."""
    t = TEXT[lang]
    account = delivery.account if isinstance(delivery.account, dict) else {}
    month = account.get("month") if isinstance(account.get("month"), dict) else {}
    balance = account.get("balance_cents")
    if not isinstance(balance, int) and delivery.record is not None:
        balance = delivery.record.balance_after_cents
    answered, outbound = (month or {}).get("answered"), (month or {}).get("outbound")
    return {
        "balance": euros(balance, lang) if isinstance(balance, int) else t["unavailable"],
        "answered": str(answered) if isinstance(answered, int) else t["unavailable"],
        "outbound": str(outbound) if isinstance(outbound, int) else t["unavailable"],
    }


def _answers(answers: dict[str, Any], client: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """The answers as (label, value), in the script's order, then any the script lacks."""
    script = client.get("script") if isinstance(client.get("script"), dict) else {}
    fields = [f for f in (script or {}).get("fields") or [] if isinstance(f, dict) and "name" in f]
    by_name = {str(f["name"]): f for f in fields}
    order = [str(f["name"]) for f in fields] + [n for n in answers if n not in by_name]
    rows = []
    for name in order:
        value = answers.get(name)
        if value is None or value == "" or value == []:
            continue
        field = by_name.get(name, {})
        label = localized(field.get("label"), lang) or name
        rows.append((label, _answer_value(value, field, lang)))
    return rows


def _answer_value(value: Any, field: dict[str, Any], lang: str) -> str:
    t = TEXT[lang]
    if isinstance(value, bool):
        return t["yes"] if value else t["no"]
    if isinstance(value, list):
        return ", ".join(_answer_value(v, field, lang) for v in value)
    for choice in field.get("choices") or []:
        # Choices may be plain values or {value, label: {pt, en}}.
        if isinstance(choice, dict) and choice.get("value") == value:
            return localized(choice.get("label"), lang) or str(value)
    return str(value)


def _category(category: str | None, lang: str) -> str | None:
    if not category:
        return None
    return CATEGORIES.get(category, {}).get(lang) or category.replace("_", " ")


def _client_name(delivery: Delivery) -> str:
    name = delivery.client.get("name")
    if isinstance(name, str) and name:
        return name
    if delivery.record is not None:
        return delivery.record.client
    return str(delivery.client.get("id") or "")


def client_id(delivery: Delivery) -> str:
    """The id of the delivery's client (from the client view, else the record)."""
    found = delivery.client.get("id")
    if isinstance(found, str) and found:
        return found
    return delivery.record.client if delivery.record is not None else ""


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else None


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _parse_time(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _now() -> datetime:
    return datetime.now(UTC)
