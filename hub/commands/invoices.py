"""`recado invoices …`: the invoices of sign-ups and renewals, as tables, JSON and PDF."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from hub.commands.context import InputError, console, get, print_json
from hub.core import invoices, ledger, signups
from hub.core.invoices import Invoice
from hub.core.tariff import format_eur

app = typer.Typer(help="Invoices of sign-ups and renewals: list, show, PDF, cancel, renew.", no_args_is_help=True)


def _find(ctx: typer.Context, number: str) -> Invoice:
    with get(ctx).store.connect() as conn:
        invoice = invoices.get(conn, number)
    if invoice is None:
        raise InputError(f"NUMBER: no invoice {number!r} (see `recado invoices list`)")
    return invoice


def _link(ctx: typer.Context, invoice: Invoice) -> str | None:
    base = get(ctx).settings.billing.public_url
    return f"{base}/invoices/{invoice.public_token}" if base else None


def _language(value: str) -> str:
    if value not in ("pt", "en"):
        raise InputError(f"--lang: expected pt or en, got {value!r}")
    return value


@app.command("list")
def list_(
    ctx: typer.Context,
    client: str | None = typer.Option(None, "--client", help="Only this client's invoices."),
    status: str | None = typer.Option(None, "--status", help="Only invoices in this state: issued, paid, cancelled."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List invoices, newest first."""
    if status is not None and status not in (invoices.ISSUED, invoices.PAID, invoices.CANCELLED):
        raise InputError(f"--status: expected issued, paid or cancelled, got {status!r}")
    with get(ctx).store.connect() as conn:
        found = invoices.listing(conn, client=client, status=status)
    if json_output:
        print_json([invoice.as_dict() for invoice in found])
        return
    table = Table("number", "issued", "client", "kind", "plan", "total", "status", "reference", "paid")
    for invoice in found:
        table.add_row(
            invoice.number,
            invoice.issued_at.date().isoformat(),
            invoice.client,
            invoice.kind,
            invoice.plan,
            format_eur(invoice.gross_cents, "pt"),
            invoice.status,
            invoice.payment_reference,
            "" if invoice.paid_at is None else f"{invoice.paid_at.date().isoformat()} {invoice.paid_method}",
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Invoice number, e.g. 2026/000123."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show one invoice: lines, totals, payment reference, state and the applicant's link."""
    invoice = _find(ctx, number)
    data = invoice.as_dict() | {"link": _link(ctx, invoice)}
    if json_output:
        print_json(data)
        return
    console.print(f"[bold]invoice {invoice.number}[/bold] ({invoice.kind}, {invoice.status})", highlight=False)
    console.print(f"client {invoice.client}: {invoice.buyer.get('name')} (NIF {invoice.buyer.get('nif')})")
    for line in invoice.lines:
        console.print(f"  {line.description['en']}: {format_eur(line.net_cents, 'pt')}", highlight=False)
    console.print(
        f"net {format_eur(invoice.net_cents, 'pt')}  VAT {invoice.vat_percent} % "
        f"{format_eur(invoice.vat_cents, 'pt')}  total {format_eur(invoice.gross_cents, 'pt')}",
        highlight=False,
    )
    console.print(f"payment reference {invoice.payment_reference}, due {invoice.due_on.isoformat()}", highlight=False)
    if invoice.paid_at is not None:
        console.print(f"paid {invoice.paid_at.isoformat()} by {invoice.paid_method} ({invoice.paid_reference})")
    if data["link"]:
        console.print(f"link {data['link']}", highlight=False)


@app.command("pdf")
def pdf(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Invoice number, e.g. 2026/000123."),
    out: Path = typer.Option(..., "--out", help="Where to write the PDF."),
    lang: str = typer.Option("pt", "--lang", help="Language of the PDF: pt or en."),
) -> None:
    """Write the invoice as a PDF file."""
    # Imported here: the PDF library is slow to load and the other commands do not need it.
    from hub.core.invoice_pdf import render_pdf

    invoice = _find(ctx, number)
    data = render_pdf(invoice, _language(lang))
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write it ({exc.strerror or exc})") from None
    console.print(f"wrote {out} ({len(data)} bytes)", highlight=False)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    number: str = typer.Argument(..., help="Invoice number, e.g. 2026/000123."),
) -> None:
    """Cancel an unpaid invoice (its number stays used; its sign-up is cancelled). Prints JSON."""
    with get(ctx).store.begin() as conn:
        try:
            invoice = invoices.cancel(conn, number)
        except ValueError as exc:
            raise InputError(f"NUMBER: {exc}") from None
    print_json(invoice.as_dict())


@app.command("renew")
def renew(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    plan: str = typer.Option(..., "--plan", help="Contract plan: 12m or 6m."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue a renewal invoice for CLIENT (paid, it renews the contract, keeping number and message)."""
    context = get(ctx)
    if plan not in context.settings.tariff.plans:
        raise InputError(f"--plan: expected one of {', '.join(sorted(context.settings.tariff.plans))}, got {plan!r}")
    missing = context.settings.billing.missing()
    if missing:
        raise InputError(f"set {', '.join(missing)} in recado.toml ([billing]) before issuing invoices")
    try:
        invoice = signups.create_renewal(
            context.store, client, plan, signups.TRANSFER, context.settings, datetime.now(UTC)
        )
    except ledger.UnknownAccount as exc:
        raise InputError(f"CLIENT: {exc}") from None
    data = invoice.as_dict() | {"link": _link(ctx, invoice)}
    if json_output:
        print_json(data)
        return
    console.print(
        f"invoice {invoice.number}: {format_eur(invoice.gross_cents, 'pt')}, reference {invoice.payment_reference}",
        highlight=False,
    )
    if data["link"]:
        console.print(f"link {data['link']}", highlight=False)
