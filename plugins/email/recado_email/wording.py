"""The words of the emails in each language, and how money, times and answers read there."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

LISBON = ZoneInfo("Europe/Lisbon")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

TEXT: dict[str, dict[str, str]] = {
    "pt": {
        "subject_answered": "Chamada de {caller} — {client}",
        "subject_missed": "Chamada não atendida de {caller} — {client}",
        "subject_after_hours": "Chamada fora de horas de {caller} — {client}",
        "subject_refused_no_balance": "Chamada recusada por falta de saldo de {caller} — {client}",
        "subject_outbound": "Contacto com {caller} — {client}",
        "subject_notice": "{title} — {client}",
        "test_prefix": "[Teste] ",
        "hidden_number": "número não identificado",
        "heading_inbound": "Nova chamada para {client}",
        "heading_outbound": "Contacto feito em nome de {client}",
        "caller": "Chamador",
        "caller_name": "Nome",
        "number_called": "Número marcado",
        "disposition": "Estado",
        "category": "Categoria",
        "agent": "Atendida por",
        "offered_at": "Recebida",
        "answered_at": "Atendida",
        "ended_at": "Terminada",
        "talk_time": "Duração",
        "price": "Custo",
        "answers": "Respostas",
        "notes": "Notas",
        "no_answers": "Sem respostas registadas.",
        "incomplete": "Registo incompleto: o guião não foi preenchido a tempo.",
        "account": "A sua conta",
        "balance": "Saldo",
        "calls_month": "Chamadas atendidas este mês",
        "outbound_month": "Contactos feitos este mês",
        "unavailable": "indisponível",
        "times_note": "hora de Lisboa",
        "yes": "Sim",
        "no": "Não",
        "footer": "Mensagem automática do serviço de atendimento. Não responda a este email.",
        "notice_at": "Data",
        "title_service_interrupted": "Serviço interrompido",
        "title_service_resumed": "Serviço retomado",
        "title_balance_low": "Saldo baixo",
        "title_other": "Aviso",
    },
    "en": {
        "subject_answered": "Call from {caller} — {client}",
        "subject_missed": "Missed call from {caller} — {client}",
        "subject_after_hours": "After-hours call from {caller} — {client}",
        "subject_refused_no_balance": "Call refused for lack of balance from {caller} — {client}",
        "subject_outbound": "Contact with {caller} — {client}",
        "subject_notice": "{title} — {client}",
        "test_prefix": "[Test] ",
        "hidden_number": "unidentified number",
        "heading_inbound": "New call for {client}",
        "heading_outbound": "Contact made on behalf of {client}",
        "caller": "Caller",
        "caller_name": "Name",
        "number_called": "Number called",
        "disposition": "Status",
        "category": "Category",
        "agent": "Answered by",
        "offered_at": "Received",
        "answered_at": "Answered",
        "ended_at": "Ended",
        "talk_time": "Duration",
        "price": "Cost",
        "answers": "Answers",
        "notes": "Notes",
        "no_answers": "No answers recorded.",
        "incomplete": "Incomplete record: the script was not filled in in time.",
        "account": "Your account",
        "balance": "Balance",
        "calls_month": "Calls answered this month",
        "outbound_month": "Contacts made this month",
        "unavailable": "unavailable",
        "times_note": "Lisbon time",
        "yes": "Yes",
        "no": "No",
        "footer": "Automatic message from the call-answering service. Do not reply to this email.",
        "notice_at": "Date",
        "title_service_interrupted": "Service interrupted",
        "title_service_resumed": "Service resumed",
        "title_balance_low": "Low balance",
        "title_other": "Notice",
    },
}

DISPOSITIONS: dict[str, dict[str, str]] = {
    "answered": {"pt": "Atendida", "en": "Answered"},
    "missed": {"pt": "Não atendida", "en": "Missed"},
    "after_hours": {"pt": "Fora de horas", "en": "After hours"},
    "refused_no_balance": {"pt": "Recusada (saldo insuficiente)",
                           "en": "Refused (insufficient balance)"},
    "confirmed": {"pt": "Marcação confirmada", "en": "Appointment confirmed"},
    "rescheduled": {"pt": "Marcação remarcada", "en": "Appointment rescheduled"},
    "no_answer": {"pt": "Não atendeu", "en": "No answer"},
    "message_played": {"pt": "Mensagem gravada ouvida", "en": "Recorded message played"},
    "sms_sent": {"pt": "SMS enviado", "en": "SMS sent"},
    "sms_failed": {"pt": "SMS não entregue", "en": "SMS not delivered"},
}

CATEGORIES: dict[str, dict[str, str]] = {
    "customer_service": {"pt": "Apoio ao cliente", "en": "Customer service"},
    "prospect": {"pt": "Potencial cliente", "en": "Prospect"},
    "after_sales": {"pt": "Pós-venda", "en": "After-sales"},
    "technical_support": {"pt": "Suporte técnico", "en": "Technical support"},
    "complaint": {"pt": "Reclamação", "en": "Complaint"},
}


def pick_language(value: Any) -> str:
    """`value` if it is a language the emails are written in, else Portuguese."""
    text = str(getattr(value, "value", value) or "").lower()
    return text if text in TEXT else "pt"


def localized(value: Any, lang: str) -> str | None:
    """A `{pt, en}` label in `lang` (falling back to the other), or a plain string as is."""
    if isinstance(value, dict):
        for key in (lang, "pt", "en"):
            if isinstance(value.get(key), str) and value[key]:
                return str(value[key])
        return None
    return str(value) if value not in (None, "") else None


def euros(cents: int, lang: str) -> str:
    """Integer cents as euros: `123456` -> `1 234,56 €` (pt) or `€1,234.56` (en)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    grouped = f"{whole:,}"
    if lang == "pt":
        return f"{sign}{grouped.replace(',', ' ')},{part:02d} €"
    return f"{sign}€{grouped}.{part:02d}"


def lisbon_time(value: datetime | str | None, lang: str) -> str | None:
    """A time in Europe/Lisbon, `15/06/2026 10:12` (pt) or `15 Jun 2026, 10:12` (en)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if value.tzinfo is None:
        # Records carry aware times; a naive one can only be UTC from our own store.
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    local = value.astimezone(LISBON)
    if lang == "pt":
        return local.strftime("%d/%m/%Y %H:%M")
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def duration(seconds: int) -> str:
    """`190` -> `3 min 10 s`."""
    minutes, secs = divmod(max(0, seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"
