"""Access tokens and browser sessions: created, verified and revoked in the database.

A token is shown once when it is created; only its SHA-256 is stored. A browser
session is opened by logging in with a token: its id lives in a cookie and, like
tokens, only its hash is stored, with the CSRF secret the session's forms carry.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, insert, select, update

from hub.core import store as t
from hub.core.store import Store, from_db

TOKEN_PREFIX = "rcd_"
SESSION_LIFETIME = timedelta(hours=12)
LINK_LIFETIME = timedelta(hours=24)


class Role(StrEnum):
    """Who a token belongs to."""

    OPERATOR = "operator"
    AGENT = "agent"
    CLIENT = "client"


class TokenError(ValueError):
    """A token cannot be created or revoked as asked."""


@dataclass(frozen=True)
class Principal:
    """The holder of a valid token: a role and, for clients and agents, whom it is."""

    token_id: str
    role: Role
    client: str | None = None
    agent: str | None = None

    def may_see_client(self, client_id: str) -> bool:
        """Whether this principal may see anything of `client_id` (agents: see `serves`)."""
        if self.role is Role.OPERATOR:
            return True
        if self.role is Role.CLIENT:
            return self.client == client_id
        return False


@dataclass(frozen=True)
class Session:
    """A logged-in browser: who it is and the CSRF secret of its forms."""

    principal: Principal
    csrf: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    store: Store,
    role: Role,
    *,
    client: str | None = None,
    agent: str | None = None,
    label: str | None = None,
) -> tuple[str, str]:
    """Create a token; return `(token_id, token)`. The token itself is never stored."""
    if role is Role.CLIENT and not client:
        raise TokenError("--client: a client token needs the id of its client")
    if role is Role.AGENT and not agent:
        raise TokenError("--agent: an agent token needs the id of its agent")
    if role is not Role.CLIENT and client:
        raise TokenError(f"--client: only client tokens have a client (this one is {role.value})")
    if role is not Role.AGENT and agent:
        raise TokenError(f"--agent: only agent tokens have an agent (this one is {role.value})")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = "tok_" + secrets.token_hex(6)
    with store.begin() as conn:
        if client is not None and conn.execute(select(t.clients.c.id).where(t.clients.c.id == client)).first() is None:
            raise TokenError(f"--client: no client {client!r} (apply it with `recado clients apply`)")
        conn.execute(
            insert(t.web_tokens).values(
                id=token_id,
                role=role.value,
                client=client,
                agent=agent,
                secret_hash=_hash(token),
                label=label,
                created_at=datetime.now(UTC),
            )
        )
    return token_id, token


def revoke_token(store: Store, token_id: str) -> None:
    """Revoke a token and close every session opened with it."""
    with store.begin() as conn:
        result = conn.execute(
            update(t.web_tokens)
            .where(t.web_tokens.c.id == token_id, t.web_tokens.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        if not result.rowcount:
            known = conn.execute(select(t.web_tokens.c.id).where(t.web_tokens.c.id == token_id)).first()
            if known is None:
                raise TokenError(f"no token {token_id!r} (see `recado tokens list`)")
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.token_id == token_id))


def list_tokens(store: Store) -> list[dict[str, Any]]:
    """Every token (never the secret), oldest first."""
    with store.connect() as conn:
        rows = conn.execute(select(t.web_tokens).order_by(t.web_tokens.c.created_at, t.web_tokens.c.id)).all()
    return [
        {
            "id": row.id,
            "role": row.role,
            "client": row.client,
            "agent": row.agent,
            "label": row.label,
            "created_at": _iso(from_db(row.created_at)),
            "revoked_at": _iso(from_db(row.revoked_at)),
        }
        for row in rows
    ]


def verify_token(store: Store, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with store.connect() as conn:
        row = conn.execute(
            select(t.web_tokens).where(t.web_tokens.c.secret_hash == _hash(token), t.web_tokens.c.revoked_at.is_(None))
        ).first()
    return None if row is None else _principal(row)


def create_login_link(store: Store, token_id: str, valid_for: timedelta = LINK_LIFETIME) -> str:
    """A one-time login code for the holder of `token_id` (for a link the operator sends)."""
    code = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    with store.begin() as conn:
        token = conn.execute(select(t.web_tokens.c.revoked_at).where(t.web_tokens.c.id == token_id)).first()
        if token is None:
            raise TokenError(f"no token {token_id!r} (see `recado tokens list`)")
        if token.revoked_at is not None:
            raise TokenError(f"token {token_id!r} is revoked")
        conn.execute(
            insert(t.web_login_links).values(
                code_hash=_hash(code), token_id=token_id, created_at=now, expires_at=now + valid_for
            )
        )
    return code


def use_login_link(store: Store, code: str) -> Principal | None:
    """The principal of an unused, unexpired link of a valid token; the link cannot be used again."""
    if not code or len(code) > 200:
        return None
    now = datetime.now(UTC)
    with store.begin() as conn:
        row = conn.execute(
            select(t.web_login_links.c.expires_at, t.web_tokens)
            .join(t.web_tokens, t.web_tokens.c.id == t.web_login_links.c.token_id)
            .where(
                t.web_login_links.c.code_hash == _hash(code),
                t.web_login_links.c.used_at.is_(None),
                t.web_tokens.c.revoked_at.is_(None),
            )
        ).first()
        expires = None if row is None else from_db(row.expires_at)
        if row is None or expires is None or expires < now:
            return None
        used = conn.execute(
            update(t.web_login_links)
            .where(t.web_login_links.c.code_hash == _hash(code), t.web_login_links.c.used_at.is_(None))
            .values(used_at=now)
        )
        if not used.rowcount:
            return None  # used by a concurrent request a moment ago
    return _principal(row)


def _principal(row: Any) -> Principal:
    return Principal(token_id=row.id, role=Role(row.role), client=row.client, agent=row.agent)


def open_session(store: Store, principal: Principal) -> tuple[str, str]:
    """Open a browser session for `principal`; return `(session_id, csrf)` for the cookie and forms."""
    session_id = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    with store.begin() as conn:
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.expires_at < now))
        conn.execute(
            insert(t.web_sessions).values(
                id_hash=_hash(session_id),
                token_id=principal.token_id,
                csrf=csrf,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return session_id, csrf


def load_session(store: Store, session_id: str) -> Session | None:
    """The session of a cookie, if it is open and its token is still valid."""
    if not session_id or len(session_id) > 200:
        return None
    with store.connect() as conn:
        row = conn.execute(
            select(t.web_sessions.c.csrf, t.web_sessions.c.expires_at, t.web_tokens)
            .join(t.web_tokens, t.web_tokens.c.id == t.web_sessions.c.token_id)
            .where(t.web_sessions.c.id_hash == _hash(session_id), t.web_tokens.c.revoked_at.is_(None))
        ).first()
    if row is None:
        return None
    expires = from_db(row.expires_at)
    if expires is None or expires < datetime.now(UTC):
        return None
    return Session(principal=_principal(row), csrf=row.csrf)


def close_session(store: Store, session_id: str) -> None:
    """Log out: forget the session."""
    with store.begin() as conn:
        conn.execute(delete(t.web_sessions).where(t.web_sessions.c.id_hash == _hash(session_id)))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
