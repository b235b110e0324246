"""Online sign-up and renewal: an applicant's form becomes a pending client and an invoice.

A pending client is kept in `signups` (its client document without a number yet, its
contact) beside its invoice; it enters `clients` only when the invoice is paid (see
`hub.core.billing`), because every client there is served: it has a number that calls
reach, an account, mails. A renewal of an existing client is just an invoice.
"""

from __future__ import annotations

import base64
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hub.core import accounts, invoices
from hub.core import store as t
from hub.core.clients import normalize_e164
from hub.core.invoices import Invoice
from hub.core.nif import NifError, validate_nif
from hub.core.registry import Registry
from hub.core.store import Store, from_db, to_db
from hub.settings import Settings

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
)
LANGUAGES = ("pt", "en")
MESSAGE_OPTIONS = ("none", "pt", "pt+en")
TRANSFER = "transfer"
#: The sink kinds a sign-up's destinations use: records by email, optionally a webhook.
EMAIL_KIND = "email"
WEBHOOK_KIND = "webhook"


@dataclass(frozen=True)
class Problem:
    """One field of the form that is not right: a stable `code` (for translated messages) and the reason."""

    field: str
    code: str
    message: str


class SignupInvalid(ValueError):
    """The form has problems; `problems` lists them field by field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class SignupRequest(BaseModel):
    """A checked sign-up form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    company: str
    nif: str
    contact_name: str
    email: str
    phone: str
    plan: str
    languages: list[str]
    message_option: str
    records_email: str
    webhook_url: str | None = None
    method: str = TRANSFER
    #: The language the applicant used (their invoice link and mails default to it).
    language: str = "pt"


@dataclass
class SignupCreated:
    """What a sign-up made: the pending client's id, its invoice and, with a webhook, its signing secret."""

    client: str
    invoice: Invoice
    webhook_secret: str | None = None


def _email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.fullmatch(value) is not None


def check_form(
    form: dict[str, Any], *, plans: list[str], methods: list[str], webhook: bool
) -> tuple[SignupRequest | None, list[Problem]]:
    """Check an applicant's form; the request, or None with every problem found."""
    problems: list[Problem] = []

    def text(name: str, limit: int = 200) -> str:
        value = str(form.get(name) or "").strip()
        if not value:
            problems.append(Problem(name, "required", "this field is required"))
        elif len(value) > limit:
            problems.append(Problem(name, "too_long", f"at most {limit} characters"))
        return value

    company, contact_name = text("company"), text("contact_name")
    nif = text("nif", 20)
    if nif:
        try:
            nif = validate_nif(nif)
        except NifError as exc:
            problems.append(Problem("nif", f"nif_{exc.reason}", str(exc)))
    email, records_email = text("email", 254), text("records_email", 254)
    for name, value in (("email", email), ("records_email", records_email)):
        if value and not _email(value):
            problems.append(Problem(name, "email", f"{value!r} is not an email address (expected name@example.com)"))
    phone = text("phone", 32)
    if phone:
        try:
            phone = normalize_e164(phone)
        except ValueError as exc:
            problems.append(Problem("phone", "phone", str(exc)))
    plan = str(form.get("plan") or "")
    if plan not in plans:
        problems.append(Problem("plan", "plan", f"choose a plan: {', '.join(plans)}"))
    chosen = form.get("languages") or []
    languages = [lang for lang in LANGUAGES if lang in chosen]
    if not languages or len(languages) != len(set(chosen)):
        problems.append(Problem("languages", "languages", "choose pt, en or both"))
    message_option = str(form.get("message_option") or "none")
    if message_option not in MESSAGE_OPTIONS:
        problems.append(Problem("message_option", "message_option", "choose none, pt or pt+en"))
    webhook_url = str(form.get("webhook_url") or "").strip() or None
    if webhook_url and not webhook:
        problems.append(Problem("webhook_url", "webhook_url", "webhooks are not offered here"))
    method = str(form.get("method") or TRANSFER)
    if method not in methods:
        problems.append(Problem("method", "method", f"choose a payment method: {', '.join(methods)}"))
    if problems:
        return None, problems
    request = SignupRequest(
        company=company,
        nif=nif,
        contact_name=contact_name,
        email=email,
        phone=phone,
        plan=plan,
        languages=languages,
        message_option=message_option,
        records_email=records_email,
        webhook_url=webhook_url,
        method=method,
        language=str(form.get("language") or "pt") if form.get("language") in LANGUAGES else "pt",
    )
    return request, []


def slug_of(name: str) -> str:
    """A client id from a company name: "Padaria Lopes, Lda" → "padaria-lopes-lda"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40].strip("-")
    return slug or "client"


def _free_client_id(conn: Connection, base: str) -> str:
    taken = set(
        conn.execute(select(t.clients.c.id).where(or_(t.clients.c.id == base, t.clients.c.id.like(f"{base}-%"))))
        .scalars()
        .all()
    ) | set(
        conn.execute(
            select(t.signups.c.client).where(or_(t.signups.c.client == base, t.signups.c.client.like(f"{base}-%")))
        )
        .scalars()
        .all()
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def webhook_secret() -> str:
    """A new signing secret for a webhook destination (whsec_ + 24 random bytes in base64)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def _destinations(
    request: SignupRequest, registry: Registry
) -> tuple[list[dict[str, Any]], list[tuple[str | int, ...]], str | None, list[Problem]]:
    """The destinations of the new client, the secret paths to seal, the webhook secret, problems."""
    destinations: list[dict[str, Any]] = [
        {"id": "email", "kind": EMAIL_KIND, "settings": {"to": [request.records_email]}},
    ]
    problems: list[Problem] = []
    secret = None
    if request.webhook_url:
        secret = webhook_secret()
        settings = {"url": request.webhook_url, "secret": secret}
        try:
            registry.sink_config(WEBHOOK_KIND, settings)
        except ValidationError as exc:
            reasons = "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
            problems.append(Problem("webhook_url", "webhook_url", reasons))
        destinations.append({"id": "webhook", "kind": WEBHOOK_KIND, "settings": settings})
    return destinations, [("secret",)], secret, problems


def create_signup(
    store: Store, registry: Registry, request: SignupRequest, settings: Settings, at: datetime
) -> SignupCreated:
    """Write the pending client and its invoice; `SignupInvalid` when a destination is refused."""
    destinations, secret_paths, secret, problems = _destinations(request, registry)
    if problems:
        raise SignupInvalid(problems)
    box = store.secret_box()
    for destination in destinations:
        if destination["kind"] == WEBHOOK_KIND:
            destination["settings"] = box.seal(destination["settings"], secret_paths)
    buyer = {"name": request.company, "nif": request.nif, "contact": request.contact_name, "email": request.email}
    for _attempt in range(5):
        try:
            with store.begin() as conn:
                client_id = _free_client_id(conn, slug_of(request.company))
                config = {
                    "id": client_id,
                    "name": request.company,
                    "nif": request.nif,
                    "languages": request.languages,
                    "contact_email": request.email,
                    "destinations": destinations,
                }
                invoice = invoices.issue(
                    conn,
                    kind=invoices.SIGNUP,
                    client=client_id,
                    plan=request.plan,
                    message_option=request.message_option,
                    buyer=buyer,
                    seller=settings.billing,
                    method=request.method,
                    at=at,
                    tariff=settings.tariff,
                )
                conn.execute(
                    insert(t.signups).values(
                        client=client_id,
                        invoice=invoice.number,
                        status="pending",
                        config=config,
                        contact_name=request.contact_name,
                        phone=request.phone,
                        language=request.language,
                        message_option=request.message_option,
                        created_at=to_db(at),
                    )
                )
            return SignupCreated(client_id, invoice, secret)
        except IntegrityError:
            continue  # another sign-up took the same client id at the same moment: pick the next
    raise RuntimeError("could not find a free client id for the sign-up after 5 attempts")


def create_renewal(store: Store, client_id: str, plan: str, method: str, settings: Settings, at: datetime) -> Invoice:
    """An invoice renewing `client_id` with `plan`; an unpaid one for the same plan is reused.

    The renewal keeps the number and the recorded-message option at no cost, so only the
    contract is invoiced. Raises `ledger.UnknownAccount` for an unknown client, ValueError
    for an unknown plan.
    """
    with store.begin() as conn:
        client = accounts.load_client(conn, client_id)
        for invoice in invoices.listing(conn, client=client_id, status=invoices.ISSUED):
            if invoice.kind == invoices.RENEWAL and invoice.plan == plan and invoice.method == method:
                return invoice
        buyer = {"name": client.name, "nif": client.nif, "email": client.contact_email or ""}
        return invoices.issue(
            conn,
            kind=invoices.RENEWAL,
            client=client_id,
            plan=plan,
            message_option="none",
            buyer=buyer,
            seller=settings.billing,
            method=method,
            at=at,
            tariff=settings.tariff,
        )


def list_signups(conn: Connection, *, status: str | None = None) -> list[dict[str, Any]]:
    """Sign-ups, newest first, with their invoice's state."""
    query = (
        select(t.signups, t.invoices.c.status.label("invoice_status"), t.invoices.c.gross_cents, t.invoices.c.plan)
        .join(t.invoices, t.invoices.c.number == t.signups.c.invoice)
        .order_by(t.signups.c.id.desc())
    )
    if status is not None:
        query = query.where(t.signups.c.status == status)
    return [
        {
            "id": row.id,
            "client": row.client,
            "company": row.config.get("name"),
            "status": row.status,
            "plan": row.plan,
            "message_option": row.message_option,
            "invoice": row.invoice,
            "invoice_status": row.invoice_status,
            "gross_cents": int(row.gross_cents),
            "did": row.did,
            "contact_name": row.contact_name,
            "email": row.config.get("contact_email"),
            "phone": row.phone,
            "problem": row.problem,
            "created_at": _iso(from_db(row.created_at)),
            "activated_at": _iso(from_db(row.activated_at)),
        }
        for row in conn.execute(query)
    ]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
