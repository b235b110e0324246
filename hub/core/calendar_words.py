"""Dates for people, in Portuguese and English: "1 de março de 2027", "1 March 2027"."""

from __future__ import annotations

from datetime import date

MONTH_NAMES: dict[str, tuple[str, ...]] = {
    "pt": (
        "janeiro", "fevereiro", "março", "abril", "maio", "junho",
        "julho", "agosto", "setembro", "outubro", "novembro", "dezembro",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def format_date(day: date, language: str) -> str:
    """A calendar date for people: "1 de março de 2027" (pt), "1 March 2027" (en)."""
    month = MONTH_NAMES[language][day.month - 1]
    return f"{day.day} de {month} de {day.year}" if language == "pt" else f"{day.day} {month} {day.year}"


def format_month(year: int, month: int, language: str) -> str:
    """A calendar month for people: "março de 2026" (pt), "March 2026" (en)."""
    name = MONTH_NAMES[language][month - 1]
    return f"{name} de {year}" if language == "pt" else f"{name} {year}"
