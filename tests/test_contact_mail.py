"""Mail to the client's own address goes through the outbox and the operator's relay."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from mail_relay import MailRelay, mail_relay  # noqa: F401  (fixture)
from sample_clients import buy, clients_yaml, lisbon

from hub.core import accounts, directory, notices
from hub.core.store import Store
from hub.core.worker import Worker
from hub.plugins import Plugins
from hub.settings import Settings

CONTACT = '    contact_email: "dono@beta.example"\n'


def _apply_with_contact(store: Store, plugins: Plugins, tmp_path: Path) -> None:
    text = clients_yaml(tmp_path / "maildir").replace('    languages: [pt]\n', '    languages: [pt]\n' + CONTACT)
    directory.apply_file(store, plugins.registry, tmp_path / "clients.yaml", text=text)


def _mail(store: Store, client: str, key: str, attachments: list[dict[str, str]] | None = None) -> int:
    with store.begin() as conn:
        loaded = accounts.load_client(conn, client)
        return notices.mail_client(
            conn,
            loaded,
            kind="contract_reminder",
            key=key,
            at=lisbon("2026-05-02 09:00"),
            subject={"pt": "O contrato termina em breve", "en": "Your contract ends soon"},
            body={"pt": "Termina a 1 de junho.", "en": "It ends on 1 June."},
            html={"pt": "<p>Termina a <b>1 de junho</b>.</p>", "en": "<p>It ends on <b>1 June</b>.</p>"},
            attachments=attachments,
        )


def _deliver(store: Store, plugins: Plugins) -> None:
    asyncio.run(Worker(store, plugins.registry, Settings(database_url=store.url)).run_once())


def test_mail_to_the_client_arrives_with_its_subject_html_and_balance(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path, mail_relay: MailRelay  # noqa: F811
) -> None:
    _apply_with_contact(sqlite_store, plugins, tmp_path)
    buy(sqlite_store, plugins, "beta")
    assert _mail(sqlite_store, "beta", "reminder:beta:2026-06-01:30") == 1
    _deliver(sqlite_store, plugins)
    [message] = mail_relay.to("dono@beta.example")
    assert message["Subject"] == "O contrato termina em breve"
    html = message.get_body(("html",))
    assert html is not None and "<b>1 de junho</b>" in html.get_content()
    text = message.get_body(("plain",))
    assert text is not None and "156,00" in text.get_content()  # the balance every email carries


def test_mail_to_the_client_is_queued_once_per_key(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path, mail_relay: MailRelay  # noqa: F811
) -> None:
    _apply_with_contact(sqlite_store, plugins, tmp_path)
    assert _mail(sqlite_store, "beta", "reminder:beta:2026-06-01:7") == 1
    assert _mail(sqlite_store, "beta", "reminder:beta:2026-06-01:7") == 0
    _deliver(sqlite_store, plugins)
    assert len(mail_relay.to("dono@beta.example")) == 1


def test_mail_to_the_client_carries_its_attachments(
    sqlite_store: Store, plugins: Plugins, tmp_path: Path, mail_relay: MailRelay  # noqa: F811
) -> None:
    _apply_with_contact(sqlite_store, plugins, tmp_path)
    content = b"%PDF-1.4 invoice"
    attachment = {
        "filename": "fatura-2026-000001.pdf",
        "content_type": "application/pdf",
        "content_b64": base64.b64encode(content).decode(),
    }
    _mail(sqlite_store, "beta", "welcome:beta", [attachment])
    _deliver(sqlite_store, plugins)
    [message] = mail_relay.to("dono@beta.example")
    [part] = list(message.iter_attachments())
    assert part.get_filename() == "fatura-2026-000001.pdf"
    assert part.get_content() == content


def test_a_client_without_contact_email_gets_no_mail(sqlite_store: Store, plugins: Plugins, tmp_path: Path) -> None:
    directory.apply_file(sqlite_store, plugins.registry, tmp_path / "clients.yaml", text=clients_yaml(tmp_path / "m"))
    assert _mail(sqlite_store, "acme", "reminder:acme:2026-06-01:30") == 0
