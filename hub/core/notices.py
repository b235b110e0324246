"""Notices to clients (through their destinations) and alerts to the operator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from hub.core import store as t
from hub.core.clients import Client
from hub.core.outbox import enqueue
from hub.core.registry import Registry

#: The destination id of the client's own mailbox (`Client.contact_email`). It is not a
#: valid destination id in client files, so it can never clash with one.
CONTACT = "@contact"
#: The sink kind that delivers mail to the client, through the operator's SMTP relay.
CONTACT_SINK_KIND = "email"

#: Texts of the notices, by type and language.
TEXTS: dict[str, dict[str, str]] = {
    "service_interrupted": {
        "pt": (
            "O saldo de {name} já não cobre a próxima chamada: o atendimento está suspenso "
            "e quem liga ouve a mensagem de indisponibilidade. Carregue o saldo "
            "para retomar o serviço de imediato."
        ),
        "en": (
            "The balance of {name} no longer covers the next call: answering is suspended and "
            "callers hear the unavailable message. Top up to resume at once."
        ),
    },
    "destination_paused": {
        "pt": (
            "As entregas de registos de {name} para um dos destinos falham há dias e esse destino foi "
            "pausado. Os registos estão guardados e serão reenviados quando o destino for corrigido."
        ),
        "en": (
            "Deliveries of {name}'s records to one of its destinations have failed for days and it was "
            "paused. The records are kept and will be sent again once the destination is fixed."
        ),
    },
    "service_resumed": {
        "pt": "O saldo de {name} foi carregado: o atendimento foi retomado.",
        "en": "The balance of {name} was topped up: answering has resumed.",
    },
    "campaign_no_balance": {
        "pt": (
            "O saldo de {name} não cobre o próximo contacto da campanha: os contactos ficam pendentes "
            "e são feitos logo que o saldo for carregado."
        ),
        "en": (
            "The balance of {name} does not cover the campaign's next contact: the contacts stay pending "
            "and are made as soon as the balance is topped up."
        ),
    },
}


def send(
    conn: Any, registry: Registry, client: Client, notice_type: str, at: datetime, *, exclude: str | None = None
) -> int:
    """Queue a notice to every enabled destination of `client` whose sink accepts notices (but `exclude`)."""
    texts = {lang: text.format(name=client.name) for lang, text in TEXTS[notice_type].items()}
    payload = {"type": notice_type, "at": at.astimezone(UTC).isoformat(), "message": texts}
    key = f"notice:{client.id}:{notice_type}:{at.astimezone(UTC).isoformat()}"
    sent = 0
    rows = conn.execute(
        select(t.destinations).where(t.destinations.c.client == client.id, t.destinations.c.enabled.is_(True))
    )
    for row in rows:
        if row.id != exclude and registry.accepts_notices(row.kind):
            event_type = "service." + notice_type.removeprefix("service_")
            sent += enqueue(
                conn,
                client=client.id,
                destination=row.id,
                kind="notice",
                event_type=event_type,
                key=key,
                payload=payload,
            )
    return sent


def mail_client(
    conn: Any,
    client: Client,
    *,
    kind: str,
    key: str,
    at: datetime,
    subject: dict[str, str],
    body: dict[str, str],
    html: dict[str, str] | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> int:
    """Queue one email to the client's `contact_email`; 0 when the client has none.

    The mail goes through the outbox like any delivery (retried, dead-lettered, replayable)
    and carries the balance and calls this month. `key` makes it idempotent: a second call
    with the same key queues nothing. `subject`, `body` and `html` are per language;
    `attachments` items are ``{"filename", "content_type", "content_b64"}``.
    """
    if not client.contact_email:
        return 0
    payload: dict[str, Any] = {
        "type": kind,
        "at": at.astimezone(UTC).isoformat(),
        "subject": subject,
        "message": body,
    }
    if html:
        payload["html"] = html
    if attachments:
        payload["attachments"] = attachments
    queued = enqueue(
        conn,
        client=client.id,
        destination=CONTACT,
        kind="notice",
        event_type=f"mail.{kind}",
        key=key,
        payload=payload,
    )
    return int(queued)


def alert_once(conn: Any, *, client: str | None, kind: str, key: str, message: str) -> bool:
    """Record an alert for the operator unless one with `key` exists; return whether it is new."""
    if conn.execute(select(t.alerts.c.id).where(t.alerts.c.key == key)).first():
        return False
    conn.execute(insert(t.alerts).values(at=datetime.now(UTC), client=client, kind=kind, message=message, key=key))
    return True


def list_alerts(conn: Any) -> list[dict[str, Any]]:
    """Every operator alert, newest first."""
    rows = conn.execute(select(t.alerts).order_by(t.alerts.c.id.desc()))
    return [
        {"at": _iso(t.from_db(row.at)), "client": row.client, "kind": row.kind, "message": row.message} for row in rows
    ]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
