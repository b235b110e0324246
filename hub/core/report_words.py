"""The words of the monthly report in Portuguese and English, shared by the portal and the email."""

from __future__ import annotations

from hub.core.calendar_words import format_month
from hub.core.reports import MonthReport

WORDS: dict[str, dict[str, str]] = {
    "pt": {
        "title": "Relatório mensal",
        "subject": "Relatório de {month} — {client}",
        "heading": "Relatório de {month} — {client}",
        "in_progress": "Mês em curso: valores até agora.",
        "calls": "Chamadas recebidas",
        "answered": "Atendidas",
        "other": "Não atendidas, fora de horas ou recusadas",
        "by_disposition": "Chamadas por resultado",
        "by_category": "Chamadas por categoria",
        "category": "Categoria",
        "total": "Total",
        "talk": "Tempo de conversa",
        "talk_total": "Tempo total",
        "talk_average": "Duração média por chamada atendida",
        "talk_limit": "O tarifário pressupõe uma duração média de até {limit}.",
        "talk_alert": "Atenção: a duração média ({average}) ultrapassa os {limit} que o tarifário pressupõe.",
        "outbound": "Contactos feitos",
        "channel": "Canal",
        "money": "Consumos e saldo",
        "spend": "Consumos do mês",
        "credits": "Créditos do mês",
        "kind": "Tipo",
        "amount": "Valor",
        "balance_end": "Saldo no fim do mês",
        "balance_so_far": "Saldo no fim do período",
        "balance_now": "Saldo atual",
        "volume_credit": "Crédito por volume das chamadas deste mês",
        "per_day": "Chamadas por dia",
        "day": "Dia",
        "none": "Nada a assinalar.",
        "month": "Mês",
        "show": "Mostrar",
        "csv_note": "Em anexo: as chamadas por dia (CSV).",
        "footer": "Mensagem automática do serviço de atendimento. Não responda a este email.",
    },
    "en": {
        "title": "Monthly report",
        "subject": "Report for {month} — {client}",
        "heading": "Report for {month} — {client}",
        "in_progress": "Month in progress: figures so far.",
        "calls": "Calls received",
        "answered": "Answered",
        "other": "Missed, after hours or refused",
        "by_disposition": "Calls by disposition",
        "by_category": "Calls by category",
        "category": "Category",
        "total": "Total",
        "talk": "Talk time",
        "talk_total": "Total talk time",
        "talk_average": "Average per answered call",
        "talk_limit": "The tariff assumes an average of at most {limit}.",
        "talk_alert": "Attention: the average talk time ({average}) is above the {limit} the tariff assumes.",
        "outbound": "Contacts made",
        "channel": "Channel",
        "money": "Spend and balance",
        "spend": "Spent this month",
        "credits": "Credited this month",
        "kind": "Kind",
        "amount": "Amount",
        "balance_end": "Balance at the end of the month",
        "balance_so_far": "Balance at the end of the period",
        "balance_now": "Balance now",
        "volume_credit": "Volume credit for this month's calls",
        "per_day": "Calls per day",
        "day": "Day",
        "none": "Nothing to show.",
        "month": "Month",
        "show": "Show",
        "csv_note": "Attached: the calls per day (CSV).",
        "footer": "Automatic message from the call-answering service. Do not reply to this email.",
    },
}

LABELS: dict[str, dict[str, str]] = {
    # dispositions
    "answered": {"pt": "Atendida", "en": "Answered"},
    "missed": {"pt": "Não atendida", "en": "Missed"},
    "after_hours": {"pt": "Fora de horas", "en": "After hours"},
    "refused_no_balance": {"pt": "Recusada (sem saldo)", "en": "Refused (no balance)"},
    "spam": {"pt": "Spam ou engano", "en": "Spam or wrong number"},
    "blocked": {"pt": "Número bloqueado", "en": "Blocked number"},
    # categories
    "customer_service": {"pt": "Apoio ao cliente", "en": "Customer service"},
    "prospect": {"pt": "Potencial cliente", "en": "Prospect"},
    "after_sales": {"pt": "Pós-venda", "en": "After-sales"},
    "technical_support": {"pt": "Suporte técnico", "en": "Technical support"},
    "complaint": {"pt": "Reclamação", "en": "Complaint"},
    # channels
    "voice": {"pt": "Telefone", "en": "Phone"},
    "sms": {"pt": "SMS", "en": "SMS"},
    # ledger kinds
    "call": {"pt": "Chamadas atendidas", "en": "Answered calls"},
    "outbound": {"pt": "Contactos feitos", "en": "Outbound contacts"},
    "message": {"pt": "Mensagem gravada", "en": "Recorded message"},
    "contract": {"pt": "Contrato", "en": "Contract"},
    "topup": {"pt": "Carregamento", "en": "Top-up"},
    "volume_credit": {"pt": "Crédito por volume", "en": "Volume credit"},
    "refund": {"pt": "Reembolso", "en": "Refund"},
    "forfeit": {"pt": "Saldo perdido no fim do contrato", "en": "Balance forfeited at contract end"},
    # outbound outcomes
    "confirmed": {"pt": "Confirmado", "en": "Confirmed"},
    "rescheduled": {"pt": "Reagendado", "en": "Rescheduled"},
    "no_answer": {"pt": "Sem resposta", "en": "No answer"},
    "message_played": {"pt": "Mensagem ouvida", "en": "Message played"},
    "sms_sent": {"pt": "SMS enviado", "en": "SMS sent"},
    "sms_failed": {"pt": "SMS não entregue", "en": "SMS not delivered"},
}


def language_of(value: str) -> str:
    """`value` if the report is written in it, else Portuguese."""
    return value if value in WORDS else "pt"


def label(key: str, lang: str) -> str:
    """A disposition, category, channel or ledger kind for people (the key itself when unknown)."""
    found = LABELS.get(key)
    return found[language_of(lang)] if found else key.replace("_", " ")


def month_name(month: str, lang: str) -> str:
    """`2026-03` -> "março de 2026" (pt) or "March 2026" (en)."""
    year, number = month.split("-")
    return format_month(int(year), int(number), language_of(lang))


def duration(seconds: int) -> str:
    """`250` -> "4 min 10 s"; under a minute, seconds only."""
    minutes, rest = divmod(max(seconds, 0), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def talk_sentence(report: MonthReport, lang: str) -> str:
    """The line about the average talk time: the alert when above the limit, else the assumption."""
    words = WORDS[language_of(lang)]
    limit = duration(report.talk_limit_seconds)
    if report.average_talk_above_limit:
        return words["talk_alert"].format(average=duration(report.talk_seconds_average), limit=limit)
    return words["talk_limit"].format(limit=limit)
