"""The operator's billing details (`[billing]` in recado.toml): who issues invoices, where transfers go."""

from __future__ import annotations

import re
import string

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.core.nif import NifError, validate_nif

_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")
_BIC = re.compile(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?")


def compact_iban(value: str) -> str:
    """`value` without spaces, upper case."""
    return re.sub(r"\s", "", value).upper()


def validate_iban(value: str) -> str:
    """The IBAN in `value` (compact) if its ISO 13616 check digits hold, else ValueError saying why."""
    iban = compact_iban(value)
    if not _IBAN.fullmatch(iban):
        raise ValueError(f"{value!r} is not an IBAN (expected e.g. PT50 0002 0123 1234 5678 9015 4)")
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(string.ascii_uppercase.index(c) + 10) if c.isalpha() else c for c in rearranged)
    if int(digits) % 97 != 1:
        raise ValueError(f"{value!r} is not a valid IBAN: its check digits do not match (check for a typo)")
    return iban


def format_iban(iban: str) -> str:
    """An IBAN for people: groups of four characters."""
    compact = compact_iban(iban)
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


class BillingSettings(BaseModel):
    """The seller on every invoice and the account applicants pay into.

    Sign-up stays closed until `name`, `nif`, `address` and `iban` are set.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    nif: str = ""
    address: str = ""
    iban: str = ""
    bic: str = ""
    #: The account holder's name as the bank shows it (default: `name`).
    beneficiary: str = ""
    email: str = ""
    #: Where the web application is reached from outside, for links in emails (e.g. https://recado.example).
    public_url: str = ""
    #: Days an applicant has to pay an invoice by transfer (printed as the due date).
    due_days: int = Field(default=15, ge=0, le=365)

    @field_validator("nif")
    @classmethod
    def _nif(cls, value: str) -> str:
        if not value:
            return value
        try:
            return validate_nif(value)
        except NifError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        return validate_iban(value) if value.strip() else ""

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str) -> str:
        compact = value.strip().upper()
        if compact and not _BIC.fullmatch(compact):
            raise ValueError(f"{value!r} is not a BIC (expected 8 or 11 letters and digits, e.g. CGDIPTPL)")
        return compact

    @field_validator("public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"https?://", value):
            raise ValueError(f"{value!r}: expected a URL starting with https:// (or http://)")
        return value

    def missing(self) -> list[str]:
        """The settings sign-up needs that are not set, as `billing.<name>`."""
        return [f"billing.{key}" for key in ("name", "nif", "address", "iban") if not getattr(self, key)]

    @property
    def payee(self) -> str:
        """The beneficiary of transfers."""
        return self.beneficiary or self.name

    def as_seller(self) -> dict[str, str]:
        """The seller's details as printed on an invoice (kept with the invoice when it is issued)."""
        return {
            "name": self.name,
            "nif": self.nif,
            "address": self.address,
            "iban": self.iban,
            "bic": self.bic,
            "beneficiary": self.payee,
            "email": self.email,
        }
