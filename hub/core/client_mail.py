"""The emails a client's contact gets about its account: contract, balance and monthly statement.

Each function writes the texts in Portuguese and English and queues one email through
`hub.core.notices.mail_client` (the outbox, then the operator's SMTP relay). Each takes a
key derived from what it tells (a date, a ledger entry, a month), so calling it again for
the same thing queues nothing. Every email also carries the balance and calls this month.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from hub.core import notices
from hub.core.calendar_words import format_date
from hub.core.clients import Client
from hub.core.tariff import TariffConfig, format_eur

LISBON = ZoneInfo("Europe/Lisbon")


def _lisbon_date(moment: datetime) -> date:
    return moment.astimezone(LISBON).date()


def _either(words: list[str], language: str) -> str:
    """The words joined as "a, b ou c" (pt) or "a, b or c" (en)."""
    if len(words) < 2:
        return "".join(words)
    last = " ou " if language == "pt" else " or "
    return ", ".join(words[:-1]) + last + words[-1]


def _topups(tariff: TariffConfig, language: str) -> str:
    return _either([format_eur(cents, language) for cents in sorted(tariff.topups)], language)


def _plans(tariff: TariffConfig, language: str) -> str:
    unit = "meses" if language == "pt" else "months"
    word = "por" if language == "pt" else "for"
    plans = sorted(tariff.plans, key=lambda plan: tariff.plan_months[plan])
    return _either(
        [f"{tariff.plan_months[plan]} {unit} {word} {format_eur(tariff.plans[plan], language)}" for plan in plans],
        language,
    )


def _vat(language: str) -> str:
    return "+ IVA" if language == "pt" else "+ VAT"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def service_interrupted(conn: Connection, client: Client, at: datetime, tariff: TariffConfig) -> int:
    """Tell the client its service is interrupted for lack of balance, and how to top up."""
    how = {
        "pt": (
            f"Para retomar, peça um carregamento de {_topups(tariff, 'pt')} ({_vat('pt')}) respondendo "
            "a este email ou contactando-nos: o atendimento volta assim que o saldo cobrir uma chamada."
        ),
        "en": (
            f"To resume, ask for a top-up of {_topups(tariff, 'en')} ({_vat('en')}) by replying to this "
            "email or contacting us: answering resumes as soon as the balance covers a call."
        ),
    }
    body = {
        lang: notices.TEXTS["service_interrupted"][lang].format(name=client.name) + "\n\n" + how[lang]
        for lang in ("pt", "en")
    }
    return notices.mail_client(
        conn,
        client,
        kind="service_interrupted",
        key=f"service_interrupted:{client.id}:{_utc(at)}",
        at=at,
        subject={"pt": f"Atendimento suspenso: {client.name}", "en": f"Answering suspended: {client.name}"},
        body=body,
    )


def service_resumed(conn: Connection, client: Client, at: datetime) -> int:
    """Tell the client its service resumed after a top-up (or a renewal)."""
    body = {lang: notices.TEXTS["service_resumed"][lang].format(name=client.name) for lang in ("pt", "en")}
    return notices.mail_client(
        conn,
        client,
        kind="service_resumed",
        key=f"service_resumed:{client.id}:{_utc(at)}",
        at=at,
        subject={"pt": f"Atendimento retomado: {client.name}", "en": f"Answering resumed: {client.name}"},
        body=body,
    )


def contract_reminder(
    conn: Connection,
    client: Client,
    *,
    at: datetime,
    end: datetime,
    days: int,
    balance_cents: int,
    tariff: TariffConfig,
) -> int:
    """Remind the client, `days` days ahead, that its contract ends and what is forfeited then."""
    day = _lisbon_date(end)
    numbers = ", ".join(client.dids)
    pt_date, en_date = format_date(day, "pt"), format_date(day, "en")
    body = {
        "pt": (
            f"O contrato de atendimento de {client.name} termina a {pt_date}.\n\n"
            f"O saldo que restar nessa data não é reembolsado: é anulado no fim do contrato. "
            f"Hoje o saldo é de {format_eur(balance_cents, 'pt')}.\n\n"
            f"Para continuar sem interrupção, renove antes dessa data: {_plans(tariff, 'pt')} ({_vat('pt')}); "
            f"todo o valor do contrato passa a saldo. A renovação mantém o número {numbers} e a mensagem "
            "gravada, sem custo. Para renovar, responda a este email ou contacte-nos."
        ),
        "en": (
            f"The answering contract of {client.name} ends on {en_date}.\n\n"
            f"Whatever balance is left on that day is not refunded: it is forfeited at the end of the "
            f"contract. Today the balance is {format_eur(balance_cents, 'en')}.\n\n"
            f"To carry on without a break, renew before that day: {_plans(tariff, 'en')} ({_vat('en')}); "
            f"the whole amount becomes balance. A renewal keeps the number {numbers} and the recorded "
            "message at no cost. To renew, reply to this email or contact us."
        ),
    }
    return notices.mail_client(
        conn,
        client,
        kind="contract_reminder",
        key=f"reminder:{client.id}:{day.isoformat()}:{days}",
        at=at,
        subject={
            "pt": f"O contrato de {client.name} termina a {pt_date}",
            "en": f"The contract of {client.name} ends on {en_date}",
        },
        body=body,
    )


def contract_ended(
    conn: Connection,
    client: Client,
    *,
    at: datetime,
    end: datetime,
    forfeited_cents: int,
    renewable_until: datetime,
    tariff: TariffConfig,
) -> int:
    """Tell the client its contract ended, the balance forfeited and until when it can renew."""
    day, until = _lisbon_date(end), _lisbon_date(renewable_until)
    numbers = ", ".join(client.dids)
    body = {
        "pt": (
            f"O contrato de atendimento de {client.name} terminou a {format_date(day, 'pt')} e o "
            f"atendimento parou: as chamadas para {numbers} deixaram de ser atendidas.\n\n"
            f"O saldo restante, {format_eur(forfeited_cents, 'pt')}, foi anulado, como previsto no contrato.\n\n"
            f"Pode renovar até {format_date(until, 'pt')} ({_plans(tariff, 'pt')}, {_vat('pt')}) mantendo "
            "o número e a mensagem gravada, sem custo. Para renovar, responda a este email ou contacte-nos."
        ),
        "en": (
            f"The answering contract of {client.name} ended on {format_date(day, 'en')} and answering "
            f"has stopped: calls to {numbers} are no longer answered.\n\n"
            f"The remaining balance, {format_eur(forfeited_cents, 'en')}, was forfeited, as the contract "
            f"provides.\n\nYou can renew until {format_date(until, 'en')} ({_plans(tariff, 'en')}, "
            f"{_vat('en')}) and keep the number and the recorded message at no cost. To renew, reply to "
            "this email or contact us."
        ),
    }
    return notices.mail_client(
        conn,
        client,
        kind="contract_ended",
        key=f"contract_ended:{client.id}:{day.isoformat()}",
        at=at,
        subject={
            "pt": f"O contrato de {client.name} terminou",
            "en": f"The contract of {client.name} has ended",
        },
        body=body,
    )


def balance_low(
    conn: Connection,
    client: Client,
    *,
    at: datetime,
    key: str,
    available_cents: int,
    calls_left: int,
    price_cents: int,
    tariff: TariffConfig,
) -> int:
    """Warn the client that its balance covers only `calls_left` more calls."""
    body = {
        "pt": (
            f"O saldo disponível de {client.name}, {format_eur(available_cents, 'pt')}, cobre apenas mais "
            f"{calls_left} chamadas ao preço atual ({format_eur(price_cents, 'pt')} por chamada). Quando deixar "
            "de cobrir a próxima chamada, o atendimento é suspenso.\n\n"
            f"Para o evitar, peça um carregamento de {_topups(tariff, 'pt')} ({_vat('pt')}) respondendo a "
            "este email ou contactando-nos."
        ),
        "en": (
            f"The available balance of {client.name}, {format_eur(available_cents, 'en')}, covers only "
            f"{calls_left} more calls at the current price ({format_eur(price_cents, 'en')} a call). Once it "
            "no longer covers the next call, answering is suspended.\n\n"
            f"To avoid that, ask for a top-up of {_topups(tariff, 'en')} ({_vat('en')}) by replying to this "
            "email or contacting us."
        ),
    }
    return notices.mail_client(
        conn,
        client,
        kind="balance_low",
        key=key,
        at=at,
        subject={"pt": f"Saldo baixo: {client.name}", "en": f"Low balance: {client.name}"},
        body=body,
    )


def volume_statement(
    conn: Connection,
    client: Client,
    *,
    at: datetime,
    month: str,
    calls: int,
    price_cents: int,
    graduated_cents: int,
    credit_cents: int,
) -> int:
    """The month's statement line of a `volume` client: one price for all its calls, the credit."""
    total = calls * price_cents
    pt_credit = (
        f"Crédito no saldo: {format_eur(credit_cents, 'pt')}."
        if credit_cents
        else "Sem crédito: o preço por volume não fica abaixo do já debitado."
    )
    en_credit = (
        f"Credited to the balance: {format_eur(credit_cents, 'en')}."
        if credit_cents
        else "No credit: the volume price is not below what was already debited."
    )
    body = {
        "pt": (
            f"Extrato de {month} de {client.name} (tarifa por volume): {calls} chamadas atendidas a "
            f"{format_eur(price_cents, 'pt')} cada = {format_eur(total, 'pt')}. Debitado durante o mês pela "
            f"tabela por escalões: {format_eur(graduated_cents, 'pt')}. {pt_credit}"
        ),
        "en": (
            f"Statement of {month} for {client.name} (volume tariff): {calls} answered calls at "
            f"{format_eur(price_cents, 'en')} each = {format_eur(total, 'en')}. Debited during the month at "
            f"the graduated prices: {format_eur(graduated_cents, 'en')}. {en_credit}"
        ),
    }
    return notices.mail_client(
        conn,
        client,
        kind="volume_statement",
        key=f"volume:{client.id}:{month}",
        at=at,
        subject={"pt": f"Extrato de {month}: {client.name}", "en": f"Statement of {month}: {client.name}"},
        body=body,
    )
