"""The public sign-up form filled in a browser page as the applicant Padaria Lopes does."""

from __future__ import annotations

from typing import Any


def fill_signup_form(page: Any, *, nif: str, language: str, message_option: str) -> None:
    """Fill in Padaria Lopes, Lda on the 12-month plan with `nif`, the extra `language` and `message_option` ticked."""
    page.fill("#f-company", "Padaria Lopes, Lda")
    page.fill("#f-nif", nif)
    page.fill("#f-contact_name", "Ana Lopes")
    page.fill("#f-email", "ana@padaria.example")
    page.fill("#f-phone", "912 345 678")
    page.check("input[name=plan][value='12m']")
    page.check(f"input[name=languages][value='{language}']")
    page.check(f"input[name=message_option][value='{message_option}']")
    page.fill("#f-records_email", "registos@padaria.example")
