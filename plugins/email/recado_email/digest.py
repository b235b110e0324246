"""The digest email: every record released at one digest time, in one message.

A digest is sent in one SMTP transaction: either the server took it (every record in it is
delivered) or it did not (none is, and the worker retries them together). Its `Message-ID`
is derived from the set of records it lists, so the same digest sent again (a worker that
died after sending) is the same email: mail clients show it once, a Maildir keeps one copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from hub.core.models import Delivery
from recado_email.phones import format_phone
from recado_email.render import _account, _answers, _env, client_id, message_id_for
from recado_email.wording import CATEGORIES, DISPOSITIONS, TEXT, duration, euros, lisbon_time, pick_language

WORDS: dict[str, dict[str, str]] = {
    "pt": {
        "subject_one": "1 chamada desde o último resumo — {client}",
        "subject_many": "{count} chamadas desde o último resumo — {client}",
        "heading": "Resumo de chamadas de {client}",
        "intro": "Os registos desde o último resumo, do mais antigo para o mais recente.",
        "outbound": "Contacto com {caller}",
    },
    "en": {
        "subject_one": "1 call since the last digest — {client}",
        "subject_many": "{count} calls since the last digest — {client}",
        "heading": "Call digest for {client}",
        "intro": "The records since the last digest, oldest first.",
        "outbound": "Contact with {caller}",
    },
}


@dataclass(frozen=True)
class DigestItem:
    """One record as the digest lists it."""

    title: str
    details: list[tuple[str, str]]
    answers: list[tuple[str, str]]
    notes: str | None
    incomplete: bool
    at: datetime


def digest_language(deliveries: Sequence[Delivery]) -> str:
    """The client's first language (a digest mixes records of every language)."""
    languages = deliveries[0].client.get("languages")
    return pick_language(languages[0] if isinstance(languages, list) and languages else None)


def digest_message_id(deliveries: Sequence[Delivery]) -> str:
    """The `Message-ID` of the digest of these deliveries: the same set, the same id."""
    keys = "\n".join(sorted(delivery.idempotency_key for delivery in deliveries))
    return message_id_for(f"digest.{hashlib.sha256(keys.encode()).hexdigest()[:32]}", client_id(deliveries[0]))


def digest_item(delivery: Delivery, lang: str) -> DigestItem:
    """How one record reads in a digest; ValueError for a delivery without a record."""
    record = delivery.record
    if record is None:
        raise ValueError(f"delivery {delivery.delivery_id} has no record for the digest")
    t = TEXT[lang]
    caller = format_phone(record.caller) or t["hidden_number"]
    when = lisbon_time(record.offered_at or record.ended_at, lang) or ""
    status = DISPOSITIONS.get(record.disposition.value, {}).get(lang) or record.disposition.value.replace("_", " ")
    who = f"{record.caller_name} ({caller})" if record.caller_name else caller
    if record.direction == "outbound":
        title = f"{when} · {WORDS[lang]['outbound'].format(caller=who)} · {status}"
    else:
        title = f"{when} · {who} · {status}"
    details = [
        (t["category"], CATEGORIES.get(record.category or "", {}).get(lang) if record.category else None),
        (t["agent"], record.agent),
        (t["talk_time"], duration(record.talk_seconds) if record.talk_seconds else None),
        (t["price"], euros(record.price_cents, lang) if record.price_cents else None),
    ]
    moment = record.ended_at or record.answered_at or record.offered_at or datetime.now(UTC)
    return DigestItem(
        title=title,
        details=[(label, value) for label, value in details if value],
        answers=_answers(record.answers, delivery.client, lang),
        notes=record.notes or None,
        incomplete=record.incomplete,
        at=moment if moment.tzinfo else moment.replace(tzinfo=UTC),
    )


def build_digest(
    deliveries: Sequence[Delivery], items: Sequence[DigestItem], *, sender: str, recipients: list[str]
) -> EmailMessage:
    """The digest email (text + HTML) of `deliveries`, whose items are `items` (same order)."""
    lang = digest_language(deliveries)
    t = TEXT[lang]
    words = WORDS[lang]
    client = str(deliveries[0].client.get("name") or client_id(deliveries[0]))
    ordered = sorted(items, key=lambda item: item.at)
    count = len(ordered)
    subject = (words["subject_one"] if count == 1 else words["subject_many"]).format(count=count, client=client)
    if all(delivery.test for delivery in deliveries):
        subject = t["test_prefix"] + subject
    context: dict[str, Any] = {
        "t": t,
        "lang": lang,
        "subject": subject,
        "heading": words["heading"].format(client=client),
        "intro": words["intro"],
        "items": ordered,
        # Every delivery of the batch was built at the same moment; the last is as recent as any.
        "account": _account(deliveries[-1], lang),
    }
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(max(item.at for item in ordered))
    message["Message-ID"] = digest_message_id(deliveries)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(_env.get_template("digest.txt").render(context), cte="quoted-printable")
    message.add_alternative(_env.get_template("digest.html").render(context), subtype="html", cte="quoted-printable")
    message["Content-Language"] = lang
    return message
