"""Sample clients and purchases shared by the core's tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.core import accounts
from hub.core.store import Store
from hub.core.tariff import TariffConfig, document_for_plan, document_for_topup
from hub.plugins import Plugins

LISBON = ZoneInfo("Europe/Lisbon")


def clients_yaml(maildir: Path, *, negotiated: int | None = 40, extra: str = "") -> str:
    """Two sample clients: `acme` (PT+EN, 2 destinations) and `beta` (PT, filtered destination)."""
    tariff = f"tariff: {{negotiated_cents: {negotiated}}}" if negotiated is not None else "tariff: {}"
    return f"""
clients:
  - id: acme
    name: "Clínica Acme"
    nif: "509999999"
    dids: ["+351217000001"]
    languages: [pt, en]
    greeting: {{pt: "Clínica Acme, bom dia.", en: "Acme Clinic, good morning."}}
    agents: {{preferred: [ana, rui], gender: any}}
    recorded_message: pt+en
    {tariff}
    script:
      version: 2
      category: customer_service
      fields:
        - {{name: name, label: {{pt: Nome, en: Name}}, type: text, required: true}}
        - {{name: reason, label: {{pt: Motivo, en: Reason}}, type: choice, choices: [booking, info, complaint]}}
    destinations:
      - {{id: mail, kind: email, settings: {{to: ["rececao@acme.example"], maildir: "{maildir}"}}}}
      - id: complaints
        kind: email
        settings: {{to: ["gerencia@acme.example"], maildir: "{maildir}"}}
        filter: {{dispositions: [answered]}}
  - id: beta
    name: "Beta Lda"
    nif: "510000002"
    dids: ["+351217000002"]
    languages: [pt]
    script: {{version: 1, fields: [{{name: name, label: {{pt: Nome}}, type: text}}]}}
{extra}
"""


def lisbon(text: str) -> datetime:
    """A Lisbon wall-clock time, e.g. lisbon("2026-03-02 10:00")."""
    return datetime.fromisoformat(text).replace(tzinfo=LISBON)


def buy(store: Store, plugins: Plugins, client: str, plan: str = "12m", at: str = "2026-03-01 08:00") -> None:
    """Buy a contract for `client`."""
    accounts.purchase(store, plugins.registry, client, document_for_plan(plan), lisbon(at), TariffConfig())


def topup(store: Store, plugins: Plugins, client: str, euros: int, at: str) -> None:
    """Top up `client`."""
    accounts.purchase(store, plugins.registry, client, document_for_topup(euros), lisbon(at), TariffConfig())
