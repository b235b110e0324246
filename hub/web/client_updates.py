"""Changing a client from the web: the same validation as `recado clients apply`, secrets kept.

Clients are shown with their secrets as `***`; a document sent back with `***`
keeps the stored secret at that place. A client's own token may change its
destinations only; everything else (numbers, tariff, script) is the operator's.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from hub.core import directory
from hub.core import store as t
from hub.core.clients import Client
from hub.core.config_files import ConfigError
from hub.core.directory import ApplyReport
from hub.core.registry import Registry
from hub.core.secrets import SecretBox
from hub.core.store import Store

REDACTED = "***"


class ClientUpdateRefused(PermissionError):
    """A client token tried to change more than its destinations."""


def _fill(new: Any, old: Any) -> Any:
    if new == REDACTED:
        return old
    if isinstance(new, dict) and isinstance(old, dict):
        return {key: _fill(value, old.get(key)) for key, value in new.items()}
    if isinstance(new, list) and isinstance(old, list):
        return [_fill(value, old[index] if index < len(old) else None) for index, value in enumerate(new)]
    return new


def restore_secrets(document: dict[str, Any], stored_config: dict[str, Any], box: SecretBox) -> dict[str, Any]:
    """`document` with each `***` replaced by the stored value at the same place of the same destination."""
    stored = {d.get("id"): d for d in stored_config.get("destinations") or [] if isinstance(d, dict)}
    restored: dict[str, Any] = json.loads(json.dumps(document))
    for destination in restored.get("destinations") or []:
        if not isinstance(destination, dict):
            continue
        old = stored.get(destination.get("id"))
        if old is not None and old.get("kind") == destination.get("kind"):
            destination["settings"] = _fill(destination.get("settings") or {}, box.open(old.get("settings") or {}))
    return restored


def update_client(
    store: Store,
    registry: Registry,
    client_id: str,
    document: dict[str, Any],
    *,
    destinations_only: bool,
) -> ApplyReport:
    """Validate and save `document` as client `client_id`; raise `ConfigError` on bad input."""
    if document.get("id", client_id) != client_id:
        raise ConfigError(f"id: the document is for client {document.get('id')!r}, not {client_id!r}")
    document = {**document, "id": client_id}
    box = store.secret_box()
    with store.connect() as conn:
        stored = conn.execute(select(t.clients.c.config).where(t.clients.c.id == client_id)).scalar()
        current = directory.get_client(conn, client_id)
    if stored is not None:
        document = restore_secrets(document, dict(stored), box)
    if destinations_only:
        if current is None:
            raise ClientUpdateRefused(f"no client {client_id!r}")
        try:
            proposed = Client.model_validate(document)
        except ValueError:
            proposed = None  # the full validation below names the problem precisely
        if proposed is not None:
            mine = current.model_dump(mode="json", exclude={"destinations"})
            theirs = proposed.model_dump(mode="json", exclude={"destinations"})
            changed = sorted(key for key in mine if mine[key] != theirs.get(key))
            if changed:
                raise ClientUpdateRefused(
                    f"a client may change its destinations only; ask the operator to change: {', '.join(changed)}"
                )
    text = json.dumps({"clients": [document]}, ensure_ascii=False)
    return directory.apply_file(store, registry, f"client {client_id}.yaml", text=text, box=box)


def with_destination(client: Client, destination: dict[str, Any]) -> dict[str, Any]:
    """The client's document with one destination replaced (or added), ready for `update_client`."""
    document = client.model_dump(mode="json")
    others = [d for d in document["destinations"] if d["id"] != destination.get("id")]
    position = next((i for i, d in enumerate(document["destinations"]) if d["id"] == destination.get("id")), None)
    if position is None:
        others.append(destination)
    else:
        others.insert(position, destination)
    document["destinations"] = others
    return document
