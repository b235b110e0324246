"""The monthly report as an email: subject, text and HTML in Portuguese and English, a CSV.

The HTML is the body of the email (the email sink puts it in its layout, with the balance
and calls this month). Its chart is a table of coloured bars, which mail clients show,
rather than the SVG of the portal, which many of them do not.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hub.core.report_chart import ANSWERED_COLOUR, OTHER_COLOUR, bar_rows
from hub.core.report_words import WORDS, duration, label, month_name, talk_sentence
from hub.core.reports import MonthReport
from hub.core.tariff import format_eur

LANGUAGES = ("pt", "en")

_env = Environment(
    loader=PackageLoader("hub.core", "report_templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class ReportMail:
    """What `notices.mail_client` takes: texts per language and the attachments."""

    subject: dict[str, str]
    body: dict[str, str]
    html: dict[str, str]
    attachments: list[dict[str, str]]


def days_csv(report: MonthReport) -> str:
    """The calls per day of the month as CSV: `day,calls,answered`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["day", "calls", "answered"])
    for day in report.days:
        writer.writerow([day.day.isoformat(), day.calls, day.answered])
    return out.getvalue()


def _context(report: MonthReport, lang: str, attached: bool) -> dict[str, Any]:
    words = WORDS[lang]
    return {
        "report": report,
        "w": words,
        "label": lambda key: label(key, lang),
        "eur": lambda cents: format_eur(int(cents), lang),
        "duration": duration,
        "talk_line": talk_sentence(report, lang),
        "balance_end_label": words["balance_end"] if report.complete else words["balance_so_far"],
        "bars": bar_rows(report.days, width_px=320),
        "text_bars": bar_rows(report.days, width_px=40),
        "answered_colour": ANSWERED_COLOUR,
        "other_colour": OTHER_COLOUR,
        "attached": attached,
    }


def report_mail(report: MonthReport, *, attach_csv: bool = True) -> ReportMail:
    """The email of `report`, in both languages (the sink picks the client's first)."""
    subject, body, html = {}, {}, {}
    for lang in LANGUAGES:
        context = _context(report, lang, attach_csv)
        subject[lang] = WORDS[lang]["subject"].format(month=month_name(report.month, lang), client=report.name)
        body[lang] = _env.get_template("month_report.txt").render(context)
        html[lang] = _env.get_template("month_report.html").render(context)
    attachments = []
    if attach_csv:
        content = base64.b64encode(days_csv(report).encode()).decode()
        attachments.append(
            {"filename": f"{report.client}-{report.month}.csv", "content_type": "text/csv", "content_b64": content}
        )
    return ReportMail(subject=subject, body=body, html=html, attachments=attachments)
