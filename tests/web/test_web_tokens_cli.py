"""`recado tokens create|list|revoke`: the token is printed once, as the last line, and stored hashed."""

from __future__ import annotations

import hashlib
import json

import typer
from sqlalchemy import select
from typer.testing import CliRunner

from hub.cli import build_app
from hub.commands import web
from hub.commands.context import InputError
from hub.core import store as t
from hub.core.store import Store
from hub.plugins import Plugins
from hub.web.tokens import use_login_link, verify_token


def recado(plugins: Plugins) -> typer.Typer:
    app = build_app(plugins)
    web.register(app)
    return app


def test_a_created_token_is_the_last_line_and_only_its_hash_is_stored(web_store: Store, web_plugins: Plugins) -> None:
    result = CliRunner().invoke(
        recado(web_plugins), ["--db", web_store.url, "tokens", "create", "--role", "client", "--client", "acme"]
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    with web_store.connect() as conn:
        stored = conn.execute(select(t.web_tokens.c.secret_hash)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    principal = verify_token(web_store, token)
    assert principal is not None and principal.client == "acme"


def test_a_client_token_needs_a_known_client(web_store: Store, web_plugins: Plugins) -> None:
    result = CliRunner().invoke(
        recado(web_plugins), ["--db", web_store.url, "tokens", "create", "--role", "client", "--client", "nobody"]
    )
    # `recado` turns an InputError into one line on stderr and exit code 2.
    assert isinstance(result.exception, InputError)
    assert "no client 'nobody'" in str(result.exception)


def test_an_unknown_role_is_refused(web_store: Store, web_plugins: Plugins) -> None:
    result = CliRunner().invoke(recado(web_plugins), ["--db", web_store.url, "tokens", "create", "--role", "admin"])
    assert isinstance(result.exception, InputError)
    assert "--role: expected operator, agent or client" in str(result.exception)


def test_a_revoked_token_no_longer_verifies(web_store: Store, web_plugins: Plugins) -> None:
    app = recado(web_plugins)
    created = CliRunner().invoke(app, ["--db", web_store.url, "tokens", "create", "--role", "operator"])
    token = created.output.strip().splitlines()[-1]
    listed = json.loads(CliRunner().invoke(app, ["--db", web_store.url, "tokens", "list", "--json"]).output)
    result = CliRunner().invoke(app, ["--db", web_store.url, "tokens", "revoke", listed[0]["id"]])
    assert result.exit_code == 0
    assert verify_token(web_store, token) is None


def test_revoking_an_unknown_token_says_so(web_store: Store, web_plugins: Plugins) -> None:
    result = CliRunner().invoke(recado(web_plugins), ["--db", web_store.url, "tokens", "revoke", "tok_nope"])
    assert isinstance(result.exception, InputError)
    assert "no token 'tok_nope'" in str(result.exception)


def test_a_login_link_is_printed_as_the_last_line(web_store: Store, web_plugins: Plugins) -> None:
    app = recado(web_plugins)
    CliRunner().invoke(app, ["--db", web_store.url, "tokens", "create", "--role", "agent", "--agent", "ana"])
    token_id = json.loads(CliRunner().invoke(app, ["--db", web_store.url, "tokens", "list", "--json"]).output)[0]["id"]
    result = CliRunner().invoke(
        app, ["--db", web_store.url, "tokens", "link", token_id, "--base-url", "https://recado.example/"]
    )
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://recado.example/login/link/")
    principal = use_login_link(web_store, link.rsplit("/", 1)[1])
    assert principal is not None and principal.agent == "ana"
