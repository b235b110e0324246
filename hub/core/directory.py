"""The clients directory: applying client files and looking clients up.

`apply_file` validates a whole file (models, exclusive DIDs, known sink kinds,
sink settings, mappings) before it writes anything, then writes every client
in one transaction. Applying the same file twice changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr, ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from hub.core import store as t
from hub.core.accounts import purchased_message_option
from hub.core.clients import Client, ClientsFile
from hub.core.config_files import ConfigError, Located, error_at, load_document, validation_error
from hub.core.mapping import Mapper
from hub.core.registry import Registry, UnknownKind
from hub.core.secrets import SecretBox, SecretError, redact, resolve_references
from hub.core.store import Store

log = logging.getLogger(__name__)


@dataclass
class ApplyReport:
    """What `apply_file` did, client by client."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        """JSON-ready form."""
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class _Prepared:
    client: Client
    stored: dict[str, Any]
    digest: str


def _digest(box: SecretBox, document: dict[str, Any], plain_settings: list[dict[str, Any]]) -> str:
    # The digest covers the plain secret values so that a changed secret is an update.
    # It is keyed: a plain hash would let whoever reads the database test guesses of a
    # password offline, and a new key makes every client an update, so re-applying
    # after a key rotation seals the secrets again with the new key.
    payload = json.dumps([document, plain_settings], sort_keys=True, default=str)
    return box.fingerprint(payload.encode())


def _prepare(
    doc: Located,
    index: int,
    client: Client,
    raw: dict[str, Any],
    registry: Registry,
    mapper: Mapper,
    box: SecretBox,
    base_dir: Path,
) -> _Prepared:
    prefix: tuple[str | int, ...] = ("clients", index)
    stored = client.model_dump(mode="json")
    plain_settings: list[dict[str, Any]] = []
    for position, destination in enumerate(client.destinations):
        where = (*prefix, "destinations", position)
        try:
            kind = registry.sink_kind(destination.kind)
        except UnknownKind as exc:
            raise error_at(doc, (*where, "kind"), str(exc)) from None
        raw_settings = raw["destinations"][position].get("settings", {}) or {}
        try:
            settings, secret_paths = resolve_references(raw_settings, base_dir=base_dir)
        except SecretError as exc:
            raise error_at(doc, (*where, "settings", *exc.path), str(exc)) from None
        try:
            config = kind.config_model.model_validate(settings)
        except ValidationError as exc:
            raise validation_error(doc, exc, (*where, "settings")) from None
        # A secret written as a plain value is still a secret: seal it like a reference.
        secret_paths += [
            found for found in _secret_fields(config) if found not in secret_paths and _has_path(settings, found)
        ]
        problems = mapper.problems(destination.mapping, client.script.field_names())
        sink = kind.factory(config)
        try:
            problems += [str(p) for p in sink.validate(destination.mapping)]
        except Exception as exc:  # a sink that cannot reach its platform must not block saving
            log.warning(
                "destination %s of %s: target fields not checked (%s); `recado check` will tell",
                destination.id,
                client.id,
                type(exc).__name__,
            )
        if problems:
            raise error_at(doc, (*where, "mapping"), "; ".join(problems))
        plain_settings.append(settings)
        stored["destinations"][position]["settings"] = box.seal(settings, secret_paths)
    return _Prepared(client, stored, _digest(box, client.model_dump(mode="json"), plain_settings))


def _secret_fields(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The paths of every `SecretStr` inside a validated sink configuration."""
    if isinstance(value, SecretStr | SecretBytes):
        return [path]
    if isinstance(value, BaseModel):
        found: list[tuple[str | int, ...]] = []
        for name, info in type(value).model_fields.items():
            found += _secret_fields(getattr(value, name), (*path, info.alias or name))
        return found
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _secret_fields(item, (*path, key))]
    if isinstance(value, list | tuple):
        return [p for index, item in enumerate(value) for p in _secret_fields(item, (*path, index))]
    return []


def _has_path(settings: Any, path: tuple[str | int, ...]) -> bool:
    for part in path:
        found = (isinstance(settings, dict) and part in settings) or (
            isinstance(settings, list) and isinstance(part, int) and 0 <= part < len(settings)
        )
        if not found:
            return False
        settings = settings[part]
    return True


def apply_file(
    store: Store,
    registry: Registry,
    path: str | Path,
    *,
    box: SecretBox | None = None,
    text: str | None = None,
) -> ApplyReport:
    """Validate and save the clients of a YAML/TOML file; raise `ConfigError` on bad input."""
    doc = load_document(path, text)
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{doc.path}: expected a mapping with a `clients` list")
    try:
        parsed = ClientsFile.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(doc, exc) from None
    box = box or store.secret_box()
    mapper = Mapper(registry.filters)
    base_dir = Path(path).resolve().parent if text is None else Path.cwd()

    owners: dict[str, tuple[str, int, int]] = {}
    ids: dict[str, int] = {}
    for index, client in enumerate(parsed.clients):
        if client.id in ids:
            raise error_at(doc, ("clients", index, "id"), f"client {client.id!r} appears twice in the file")
        ids[client.id] = index
        for position, did in enumerate(client.dids):
            if did in owners:
                other = owners[did][0]
                raise error_at(
                    doc,
                    ("clients", index, "dids", position),
                    f"DID {did} is already listed for client {other!r}",
                )
            owners[did] = (client.id, index, position)

    prepared = [
        _prepare(doc, index, client, doc.data["clients"][index], registry, mapper, box, base_dir)
        for index, client in enumerate(parsed.clients)
    ]
    report = ApplyReport()
    now = datetime.now(UTC)
    with store.begin() as conn:
        taken = conn.execute(select(t.dids.c.did, t.dids.c.client).where(t.dids.c.did.in_(owners))).all()
        for did, owner in taken:
            claimant, index, position = owners[did]
            if owner != claimant and owner not in ids:
                raise error_at(
                    doc,
                    ("clients", index, "dids", position),
                    f"DID {did} already belongs to client {owner!r}",
                )
        for item in prepared:
            _save(conn, item, now, report)
    return report


def _save(conn: Connection, item: _Prepared, now: datetime, report: ApplyReport) -> None:
    client = item.client
    existing = conn.execute(select(t.clients.c.config_hash).where(t.clients.c.id == client.id)).first()
    if existing is not None and existing.config_hash == item.digest:
        report.unchanged.append(client.id)
        return
    stored = dict(item.stored)
    bought = purchased_message_option(conn, client.id) if existing is not None else None
    if bought and stored.get("recorded_message") == "none":
        stored["recorded_message"] = bought  # an option paid for stays active
    values = {"name": client.name, "config": stored, "config_hash": item.digest, "updated_at": now}
    if existing is None:
        conn.execute(insert(t.clients).values(id=client.id, created_at=now, **values))
        conn.execute(
            insert(t.accounts).values(
                client=client.id, balance_cents=0, held_cents=0, interrupted=False, updated_at=now
            )
        )
        report.created.append(client.id)
    else:
        conn.execute(update(t.clients).where(t.clients.c.id == client.id).values(**values))
        report.updated.append(client.id)
    conn.execute(delete(t.dids).where(t.dids.c.client == client.id))
    for did in client.dids:
        # Another client of the same file may have held this DID until now.
        conn.execute(delete(t.dids).where(t.dids.c.did == did))
        conn.execute(insert(t.dids).values(did=did, client=client.id))
    kept = {d.id for d in client.destinations}
    old = {row.id: row for row in conn.execute(select(t.destinations).where(t.destinations.c.client == client.id))}
    for gone in set(old) - kept:
        conn.execute(delete(t.destinations).where(t.destinations.c.client == client.id, t.destinations.c.id == gone))
    for position, destination in enumerate(client.destinations):
        values = {
            "kind": destination.kind,
            "settings": item.stored["destinations"][position]["settings"],
            "mapping": destination.mapping,
            "filter": destination.filter.model_dump(mode="json") if destination.filter else None,
            "enabled": destination.enabled,
        }
        if destination.id in old:
            conn.execute(
                update(t.destinations)
                .where(t.destinations.c.client == client.id, t.destinations.c.id == destination.id)
                .values(**values)
            )
        else:
            conn.execute(insert(t.destinations).values(client=client.id, id=destination.id, **values))


def get_client(conn: Connection, client_id: str) -> Client | None:
    """The client `client_id` with secret settings shown as `***`, or None."""
    row = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).first()
    return None if row is None else Client.model_validate(redact(row.config))


def list_clients(conn: Connection) -> list[Client]:
    """Every client, in id order, with secret settings shown as `***`."""
    rows = conn.execute(select(t.clients.c.config).order_by(t.clients.c.id))
    return [Client.model_validate(redact(row.config)) for row in rows]


def load_clients(db_url: str) -> list[Client]:
    """Every client of the database at `db_url` (secrets redacted), for config generators."""
    store = Store(db_url)
    try:
        with store.connect() as conn:
            return list_clients(conn)
    finally:
        store.dispose()


def client_for_did(conn: Connection, did: str) -> str | None:
    """The id of the client that owns `did`, or None."""
    return conn.execute(select(t.dids.c.client).where(t.dids.c.did == did)).scalar()


def destination_rows(conn: Connection, client_id: str) -> Sequence[Any]:
    """The destinations of a client, as stored (settings still sealed)."""
    return conn.execute(
        select(t.destinations).where(t.destinations.c.client == client_id).order_by(t.destinations.c.id)
    ).all()
