"""The message of a campaign contact: a template per language, rendered in Jinja2's sandbox.

A template may use `{{ name }}`, `{{ appointment_date }}`, `{{ appointment_time }}`
(Lisbon time, written the way the language writes it) and `{{ client }}` (the
client's display name). The same text is the SMS sent, the message played, or the
script the agent reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment

from hub.core.models import Language

LISBON = ZoneInfo("Europe/Lisbon")
VARIABLES = ("name", "appointment_date", "appointment_time", "client")
MAX_TEMPLATE = 1000
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


class TemplateProblem(ValueError):
    """Templates that do not parse, use unknown variables, or are missing for a language.

    `problems` lists `(field, message)` pairs, the field being `template_pt` or `template_en`.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))


def check_templates(templates: Mapping[str, str], languages: Iterable[Language]) -> dict[str, str]:
    """The templates kept (non-empty ones, stripped), checked for every language that `languages` uses."""
    kept = {lang: text.strip() for lang, text in templates.items() if text and text.strip()}
    problems: list[tuple[str, str]] = []
    for lang, text in sorted(kept.items()):
        if lang not in {language.value for language in Language}:
            problems.append((f"template_{lang}", "unknown language (expected pt or en)"))
            continue
        if len(text) > MAX_TEMPLATE:
            problems.append((f"template_{lang}", f"{len(text)} characters long (at most {MAX_TEMPLATE})"))
            continue
        try:
            parsed = _ENV.parse(text)
        except TemplateError as exc:
            problems.append((f"template_{lang}", f"does not parse: {exc}"))
            continue
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(VARIABLES))
        if unknown:
            problems.append(
                (f"template_{lang}", f"unknown variable(s) {', '.join(unknown)} (available: {', '.join(VARIABLES)})")
            )
    for lang in sorted({language.value for language in languages}):
        if lang not in kept:
            problems.append((f"template_{lang}", f"missing: some contacts speak {lang}"))
    if problems:
        raise TemplateProblem(problems)
    return kept


def variables(name: str, appointment_at: datetime, language: str, client_name: str) -> dict[str, str]:
    """What a template sees for one contact."""
    local = appointment_at.astimezone(LISBON)
    if language == "pt":
        date, time = local.strftime("%d/%m/%Y"), local.strftime("%H:%M")
    else:
        # Written out rather than strftime'd: %b and %p follow the process locale.
        hour = local.hour % 12 or 12
        date = f"{local.day} {_MONTHS_EN[local.month - 1]} {local.year}"
        time = f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    return {"name": name, "appointment_date": date, "appointment_time": time, "client": client_name}


def render(template: str, name: str, appointment_at: datetime, language: str, client_name: str) -> str:
    """The text of one contact's message."""
    try:
        return _ENV.from_string(template).render(variables(name, appointment_at, language, client_name)).strip()
    except TemplateError as exc:
        raise TemplateProblem([(f"template_{language}", str(exc))]) from None
