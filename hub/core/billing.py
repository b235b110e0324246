"""A paid invoice and what it sets off: a sign-up becomes an active client, a renewal extends the contract.

`mark_invoice_paid` is the one step that every way of paying ends in (an imported bank
statement, a card payment's return page or webhook). It is idempotent: the same payment
reported again changes nothing, and an invoice paid earlier whose activation could not be
finished (no free number in the pool, a calls-in-progress renewal) is finished by the next
call or by `resume_pending`.

Everything one activation does commits in ONE transaction: the invoice marked paid, the
lowest free number taken from the pool, the client written through the directory (the same
validation as `recado clients apply`), the contract bought through `accounts.purchase`
(balance, contract end) and the recorded-message option paid from the balance, and the
welcome email queued. `accounts.purchase`, `contracts.renew` and `directory.apply_file` each
open a transaction of their own; they run here against `JoinedStore`, a view of the store whose
transactions are the activation's, so that their rules are used as they are, never copied.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from hub.core import accounts, contracts, did_pool, directory, invoices, ledger, notices, welcome
from hub.core import store as t
from hub.core.clients import Client
from hub.core.config_files import ConfigError
from hub.core.invoices import Invoice
from hub.core.joined_store import JoinedStore
from hub.core.registry import Registry, UnknownKind
from hub.core.scheduler import Job, JobContext
from hub.core.secrets import SecretBox, SecretError
from hub.core.store import Store, to_db
from hub.settings import Settings

log = logging.getLogger(__name__)

PENDING = "pending"
WAITING_FOR_DID = "waiting_for_did"
ACTIVE = "active"
FAILED = "failed"
CANCELLED = "cancelled"

#: Problems that leave a paid invoice waiting for the operator rather than failing the payment.
_ACTIVATION_PROBLEMS = (ConfigError, ledger.LedgerError, SecretError, UnknownKind, ValueError)


class UnknownInvoice(LookupError):
    """No invoice has this number."""


@dataclass(frozen=True)
class ActivationResult:
    """What marking an invoice paid did.

    `state` is one of: ``activated`` (a sign-up became an active client now), ``renewed``,
    ``already_done`` (paid and fulfilled before: nothing changed), ``waiting_for_did`` (paid;
    the pool has no free number), ``failed`` (paid; activation needs the operator, see
    `problem`), ``amount_mismatch`` (not marked paid) or ``cancelled`` (not marked paid).
    """

    invoice: str
    state: str
    client: str
    newly_paid: bool
    did: str | None = None
    contract_ends_at: datetime | None = None
    balance_cents: int | None = None
    problem: str | None = None

    @property
    def fulfilled(self) -> bool:
        """Whether the client has what it paid for."""
        return self.state in ("activated", "renewed", "already_done")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "invoice": self.invoice,
            "state": self.state,
            "client": self.client,
            "newly_paid": self.newly_paid,
            "did": self.did,
            "contract_ends_at": None if self.contract_ends_at is None else self.contract_ends_at.isoformat(),
            "balance_cents": self.balance_cents,
            "problem": self.problem,
        }


def mark_invoice_paid(
    store: Store,
    registry: Registry,
    invoice_number: str,
    *,
    amount_cents: int,
    method: str,
    reference: str,
    at: datetime,
    settings: Settings | None = None,
    notify: Callable[..., None] | None = None,
) -> ActivationResult:
    """Record that `invoice_number` was paid (`amount_cents` by `method`, known as `reference`), then fulfil it.

    Idempotent: an invoice already paid is not paid again; its activation is finished if it
    was waiting. A payment whose amount is not the invoice's total, or for a cancelled
    invoice, marks nothing and raises an operator alert. `settings` default to the hub's
    (`RECADO_*`, recado.toml); `notify` gets ``purchase_made`` after the commit.
    Raises `UnknownInvoice` when no invoice has this number.
    """
    if at.tzinfo is None:
        raise ValueError(f"payment time must be timezone-aware, got {at.isoformat()}")
    settings = settings or Settings()
    after_commit: list[tuple[str, dict[str, Any]]] = []
    with store.begin() as conn:
        invoice = invoices.get(conn, invoice_number, for_update=True)
        if invoice is None:
            raise UnknownInvoice(f"no invoice {invoice_number!r}")
        newly_paid = False
        if invoice.status == invoices.CANCELLED:
            _alert(
                conn,
                invoice,
                "payment_of_cancelled_invoice",
                f"{method} payment {reference} of {amount_cents} cents is for invoice {invoice.number}, which "
                "is cancelled: refund it or issue a new invoice",
                reference,
            )
            return ActivationResult(invoice.number, "cancelled", invoice.client, False, problem="invoice cancelled")
        if invoice.status == invoices.ISSUED:
            if amount_cents != invoice.gross_cents:
                problem = f"paid {amount_cents} cents, the invoice's total is {invoice.gross_cents} cents"
                _alert(conn, invoice, "payment_amount_mismatch", f"invoice {invoice.number}: {problem}", reference)
                return ActivationResult(invoice.number, "amount_mismatch", invoice.client, False, problem=problem)
            conn.execute(
                update(t.invoices)
                .where(t.invoices.c.number == invoice.number)
                .values(
                    status=invoices.PAID,
                    paid_at=to_db(at),
                    paid_cents=amount_cents,
                    paid_method=method,
                    paid_reference=reference,
                )
            )
            invoice = invoice.model_copy(
                update={
                    "status": invoices.PAID,
                    "paid_at": at,
                    "paid_cents": amount_cents,
                    "paid_method": method,
                    "paid_reference": reference,
                }
            )
            newly_paid = True
            log.info("invoice %s paid (%s, %d cents)", invoice.number, method, amount_cents)
        elif reference != invoice.paid_reference:
            # Paid before by another payment: the money came twice and one must go back.
            _alert(
                conn,
                invoice,
                "second_payment",
                f"invoice {invoice.number} was paid by {invoice.paid_reference}; {method} payment {reference} "
                f"of {amount_cents} cents pays it again: refund it",
                reference,
            )
        if invoice.status == invoices.PAID and invoice.fulfilled_at is not None:
            return _already_done(conn, invoice)
        joined = JoinedStore(store, conn)
        if invoice.kind == invoices.SIGNUP:
            result = _activate(conn, joined, registry, invoice, at, settings, newly_paid, after_commit)
        else:
            result = _renew(conn, joined, registry, invoice, at, settings, newly_paid, after_commit)
    if notify is not None:
        for hook, kwargs in after_commit:
            notify(hook, **kwargs)
    return result


def _alert(conn: Connection, invoice: Invoice, kind: str, message: str, detail: str) -> None:
    notices.alert_once(conn, client=None, kind=kind, key=f"{kind}:{invoice.number}:{detail}"[:200], message=message)


def _already_done(conn: Connection, invoice: Invoice) -> ActivationResult:
    account = ledger.lock_account(conn, invoice.client, for_update=False)
    did = conn.execute(select(t.signups.c.did).where(t.signups.c.invoice == invoice.number)).scalar()
    return ActivationResult(
        invoice.number,
        "already_done",
        invoice.client,
        False,
        did=did,
        contract_ends_at=account.contract_ends_at,
        balance_cents=account.balance_cents,
    )


def _client_document(conn: Connection, box: SecretBox, signup: Any, did: str) -> dict[str, Any]:
    """The sign-up's client document with its number and its secrets in the clear (in memory only)."""
    document: dict[str, Any] = json.loads(json.dumps(signup.config))
    for destination in document.get("destinations") or []:
        destination["settings"] = box.open(destination.get("settings") or {})
    document["dids"] = [did]
    return document


def _activate(
    conn: Connection,
    joined: JoinedStore,
    registry: Registry,
    invoice: Invoice,
    at: datetime,
    settings: Settings,
    newly_paid: bool,
    after_commit: list[tuple[str, dict[str, Any]]],
) -> ActivationResult:
    signup = conn.execute(select(t.signups).where(t.signups.c.invoice == invoice.number)).first()
    if signup is None:
        raise UnknownInvoice(f"invoice {invoice.number} is a sign-up invoice without its sign-up")
    client_id = invoice.client
    try:
        with conn.begin_nested():
            did = signup.did or did_pool.take_lowest_free(conn, client_id, at)
            if did is None:
                problem = "the DID pool has no free number"
                _set_signup(conn, signup.id, status=WAITING_FOR_DID, problem=problem)
                notices.alert_once(
                    conn,
                    client=None,
                    kind="did_pool_empty",
                    key=f"did_pool_empty:{invoice.number}",
                    message=(
                        f"sign-up {client_id} (invoice {invoice.number}) is paid but the DID pool has no free "
                        "number: add numbers with `recado dids add NUMBER…`; the client is activated then"
                    ),
                )
                log.warning("sign-up %s paid, waiting for a free number", client_id)
                return ActivationResult(invoice.number, WAITING_FOR_DID, client_id, newly_paid, problem=problem)
            text = json.dumps({"clients": [_client_document(conn, joined.secret_box(), signup, did)]})
            directory.apply_file(joined, registry, f"sign-up {client_id}.json", text=text, box=joined.secret_box())
            contract = accounts.purchase(
                joined, registry, client_id, invoices.contract_document(invoice), at, settings.tariff
            )
            after_commit.append(("purchase_made", {"client": client_id, "document": contract}))
            message = invoices.message_document(invoice)
            if message is not None:
                bought = accounts.purchase(joined, registry, client_id, message, at, settings.tariff)
                after_commit.append(("purchase_made", {"client": client_id, "document": bought}))
            _set_signup(conn, signup.id, status=ACTIVE, problem=None, did=did, activated_at=to_db(at))
            client, account = _mark_fulfilled(conn, invoice, at)
            ends = account.contract_ends_at or at
            welcome.send_welcome(
                conn, client, invoice, did=did, contract_ends_at=ends, balance_cents=account.balance_cents, at=at
            )
    except _ACTIVATION_PROBLEMS as exc:
        return _failed(conn, invoice, newly_paid, exc, signup_id=signup.id)
    log.info("sign-up %s activated with %s", client_id, did)
    return ActivationResult(
        invoice.number,
        "activated",
        client_id,
        newly_paid,
        did=did,
        contract_ends_at=account.contract_ends_at,
        balance_cents=account.balance_cents,
    )


def _renew(
    conn: Connection,
    joined: JoinedStore,
    registry: Registry,
    invoice: Invoice,
    at: datetime,
    settings: Settings,
    newly_paid: bool,
    after_commit: list[tuple[str, dict[str, Any]]],
) -> ActivationResult:
    try:
        with conn.begin_nested():
            report = contracts.renew(joined, registry, invoice.client, invoice.plan, at, settings)
            after_commit.append(("purchase_made", {"client": invoice.client, "document": report["document"]}))
            client, account = _mark_fulfilled(conn, invoice, at)
            ends = account.contract_ends_at or at
            welcome.send_renewed(
                conn, client, invoice, contract_ends_at=ends, balance_cents=account.balance_cents, at=at
            )
    except _ACTIVATION_PROBLEMS as exc:
        return _failed(conn, invoice, newly_paid, exc)
    log.info("contract of %s renewed by invoice %s", invoice.client, invoice.number)
    return ActivationResult(
        invoice.number,
        "renewed",
        invoice.client,
        newly_paid,
        contract_ends_at=account.contract_ends_at,
        balance_cents=account.balance_cents,
    )


def _mark_fulfilled(conn: Connection, invoice: Invoice, at: datetime) -> tuple[Client, ledger.Account]:
    """Record that the paid invoice was fulfilled; the client and its (locked) account as they are now."""
    conn.execute(update(t.invoices).where(t.invoices.c.number == invoice.number).values(fulfilled_at=to_db(at)))
    return accounts.load_client(conn, invoice.client), ledger.lock_account(conn, invoice.client)


def _failed(
    conn: Connection, invoice: Invoice, newly_paid: bool, exc: Exception, *, signup_id: int | None = None
) -> ActivationResult:
    problem = str(exc)
    if signup_id is not None:
        _set_signup(conn, signup_id, status=FAILED, problem=problem)
    notices.alert_once(
        conn,
        client=None,
        kind="activation_failed",
        key=f"activation_failed:{invoice.number}:{problem}"[:200],
        message=(
            f"invoice {invoice.number} ({invoice.client}) is paid but could not be fulfilled: {problem}. "
            "Fix the cause; `recado signups resume` (or the next scheduler run) finishes it"
        ),
    )
    log.warning("invoice %s paid, not fulfilled: %s", invoice.number, problem)
    return ActivationResult(invoice.number, FAILED, invoice.client, newly_paid, problem=problem)


def _set_signup(conn: Connection, signup_id: int, **values: Any) -> None:
    conn.execute(update(t.signups).where(t.signups.c.id == signup_id).values(**values))


def unfulfilled(conn: Connection) -> list[Invoice]:
    """Paid invoices whose activation or renewal is not done yet, oldest first."""
    rows = conn.execute(
        select(t.invoices.c.number)
        .where(t.invoices.c.status == invoices.PAID, t.invoices.c.fulfilled_at.is_(None))
        .order_by(t.invoices.c.year, t.invoices.c.seq)
    ).scalars()
    found = [invoices.get(conn, number) for number in rows]
    return [invoice for invoice in found if invoice is not None]


def resume_pending(
    store: Store,
    registry: Registry,
    settings: Settings,
    at: datetime,
    notify: Callable[..., None] | None = None,
) -> list[ActivationResult]:
    """Finish the activations and renewals of paid invoices that were waiting (a number, a fix)."""
    with store.connect() as conn:
        waiting = unfulfilled(conn)
    results = []
    for invoice in waiting:
        results.append(
            mark_invoice_paid(
                store,
                registry,
                invoice.number,
                amount_cents=invoice.paid_cents or invoice.gross_cents,
                method=invoice.paid_method or invoice.method,
                reference=invoice.paid_reference or "",
                at=at,
                settings=settings,
                notify=notify,
            )
        )
    return results


def _finish_waiting(context: JobContext) -> int:
    """The scheduler's way to `resume_pending`: how many activations or renewals it finished."""
    results = resume_pending(context.store, context.registry, context.settings, context.now, context.notify)
    return sum(1 for result in results if result.fulfilled)


#: Finishes paid sign-ups and renewals that were waiting (a number added, a cause fixed).
ACTIVATIONS_JOB = Job("signups.activate", every=timedelta(minutes=5), run=_finish_waiting)
