"""``recado webhook …``: commands for signed webhook destinations."""

from __future__ import annotations

from typing import Annotated

import typer

from recado_webhook.signing import (
    DEFAULT_SECRET_BYTES,
    MAX_SECRET_BYTES,
    MIN_SECRET_BYTES,
    new_secret,
)

webhook_app = typer.Typer(
    name="webhook",
    help="Signed webhook destinations (Standard Webhooks).",
    no_args_is_help=True,
)


@webhook_app.command("secret")
def secret_command(
    n_bytes: Annotated[
        int,
        typer.Option(
            "--bytes",
            min=MIN_SECRET_BYTES,
            max=MAX_SECRET_BYTES,
            help="How many random bytes the secret holds.",
        ),
    ] = DEFAULT_SECRET_BYTES,
) -> None:
    """Print a new signing secret (whsec_…) for a webhook destination and its receiver.

    Give it to the receiver, and to the hub through an environment variable or
    a file: a destination's settings name it as {"$env": "NAME"}, never the value.
    """
    typer.echo(new_secret(n_bytes))
