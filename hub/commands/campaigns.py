"""`recado campaigns …`: upload contacts to remind, follow them, send the SMS due, cancel."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from hub.commands.context import LISBON, InputError, console, err_console, get, parse_at, print_json, progress_bar
from hub.core import campaigns_admin
from hub.core.campaigns_csv import CampaignFileError
from hub.core.campaigns_sms import due_count, send_due_sms
from hub.core.privacy import mask_phone
from hub.core.quiet_hours import QuietHours
from hub.core.tariff import format_eur

app = typer.Typer(
    help="Outbound campaigns: appointment reminders by phone or SMS, from a CSV of contacts.",
    no_args_is_help=True,
)

#: Statuses of contacts that were made (priced), shown together as "made".
MADE = ("sent", "delivered", "confirmed", "rescheduled", "message_played")


def _lisbon(value: str | None) -> str:
    return datetime.fromisoformat(value).astimezone(LISBON).strftime("%Y-%m-%d %H:%M") if value else ""


def _summary(campaign: dict[str, Any]) -> str:
    counts = campaign["counts"]
    made = sum(counts[status] for status in MADE)
    parts = [f"{made} made", f"{counts['pending'] + counts['in_progress']} to do"]
    for status in ("no_answer", "failed", "opted_out", "skipped"):
        if counts[status]:
            parts.append(f"{counts[status]} {status.replace('_', ' ')}")
    return ", ".join(parts)


@app.command("upload")
def upload(
    ctx: typer.Context,
    client: str = typer.Argument(..., help="Client id."),
    file: Path = typer.Argument(..., help="CSV with columns name, number, appointment, language, channel."),
    template_pt: str | None = typer.Option(
        None,
        "--template-pt",
        help="Portuguese message; may use {{ name }}, {{ appointment_date }}, {{ appointment_time }}, {{ client }}.",
    ),
    template_en: str | None = typer.Option(None, "--template-en", help="English message (same variables)."),
    name: str | None = typer.Option(None, "--name", help="Campaign name (default: the upload time)."),
    mode: str = typer.Option(
        "agent", "--mode", help="Phone contacts: agent (an agent calls) or message (a recorded message is played)."
    ),
    at: str | None = typer.Option(
        None, "--at", help="Upload time (ISO 8601; without an offset, Lisbon). Default: now."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the campaign (or the errors) as JSON."),
) -> None:
    """Check FILE and store its contacts as a new campaign; any bad row refuses the whole file (exit 2)."""
    context = get(ctx)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    try:
        campaign = campaigns_admin.create_campaign(
            context.store,
            context.plugins.registry,
            client,
            data,
            {"pt": template_pt, "en": template_en},
            name=name,
            mode=mode,
            created_by="operator (cli)",
            now=parse_at(at) or datetime.now(UTC),
        )
    except CampaignFileError as exc:
        if json_output:
            print_json({"errors": [error.as_dict() for error in exc.errors]})
        for error in exc.errors:
            err_console.print(f"{file}: {error}", markup=False, highlight=False, soft_wrap=True)
        err_console.print(f"[red]error:[/red] {file}: {len(exc.errors)} problem(s); nothing was stored")
        raise typer.Exit(2) from None
    if json_output:
        print_json(campaign)
        return
    console.print(
        f"campaign {campaign['id']} of {campaign['client']}: {campaign['contacts']} contacts ({_summary(campaign)})",
        highlight=False,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    client: str | None = typer.Option(None, "--client", help="Only this client's campaigns."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON array."),
) -> None:
    """List campaigns, newest first, with their contacts counted by status."""
    with get(ctx).store.connect() as conn:
        found = campaigns_admin.list_campaigns(conn, client=client)
    if json_output:
        print_json(found)
        return
    table = Table("id", "client", "name", "mode", "status", "contacts", "progress", "spent")
    for campaign in found:
        table.add_row(
            str(campaign["id"]),
            campaign["client"],
            campaign["name"],
            campaign["mode"],
            campaign["status"],
            str(campaign["contacts"]),
            _summary(campaign),
            format_eur(campaign["price_cents"], "pt"),
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    campaign_id: int = typer.Argument(..., help="Campaign id."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (numbers in full)."),
) -> None:
    """Show a campaign: its counts by status and every contact."""
    try:
        campaign = campaigns_admin.show_campaign(get(ctx).store, campaign_id)
    except campaigns_admin.UnknownCampaign as exc:
        raise InputError(str(exc)) from None
    if json_output:
        print_json(campaign)
        return
    console.print(
        f"[bold]campaign {campaign['id']}[/bold] {campaign['name']} ({campaign['client']}, {campaign['mode']}, "
        f"{campaign['status']}): {_summary(campaign)}; spent {format_eur(campaign['price_cents'], 'pt')}",
        highlight=False,
    )
    table = Table("id", "line", "name", "number", "appointment", "lang", "channel", "status", "agent", "price")
    for contact in campaign["contact_list"]:
        table.add_row(
            str(contact["id"]),
            str(contact["line"]),
            contact["name"],
            mask_phone(contact["number"]),
            _lisbon(contact["appointment_at"]),
            contact["language"],
            contact["channel"],
            contact["status"] + (f" ({contact['outcome']})" if contact["status"] == "skipped" else ""),
            contact["agent"] or "",
            format_eur(contact["price_cents"], "pt"),
        )
    console.print(table)


@app.command("dispatch")
def dispatch(
    ctx: typer.Context,
    at: str | None = typer.Option(None, "--at", help="Send as of this time (ISO 8601; without an offset, Lisbon)."),
    json_output: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Send the SMS that are due now (outside quiet hours); what the campaigns.send_sms job does every minute."""
    context = get(ctx)
    now = parse_at(at) or datetime.now(UTC)
    show_progress = not json_output and err_console.is_terminal
    progress = progress_bar(show=show_progress, transient=True)
    with progress:
        task = progress.add_task("SMS", total=due_count(context.store, now))
        counts = send_due_sms(
            context.store,
            context.plugins.registry,
            context.settings,
            now=now,
            notify=context.notify,
            progress=lambda: progress.advance(task),
        )
    if json_output:
        print_json(counts)
        return
    why = QuietHours(context.settings.outbound).why_not(now)
    if why is not None:
        err_console.print(f"nothing is sent at {now.isoformat()}: {why}", highlight=False)
    console.print(", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items()), highlight=False)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    campaign_id: int = typer.Argument(..., help="Campaign id."),
) -> None:
    """Cancel a campaign: the contacts not made yet are skipped (calls in progress finish)."""
    try:
        skipped = campaigns_admin.cancel_campaign(get(ctx).store, campaign_id)
    except campaigns_admin.UnknownCampaign as exc:
        raise InputError(str(exc)) from None
    console.print(f"campaign {campaign_id} cancelled: {skipped} contacts skipped", highlight=False)
