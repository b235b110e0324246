"""Secrets in configuration: references in files, encrypted at rest, never shown.

In configuration files a secret is written `{"$env": "NAME"}` or
`{"$file": "path"}`, never as its value. `resolve_references` replaces the
references by the values when a file is applied; `SecretBox` encrypts them
(Fernet, AES-128-CBC + HMAC) before they are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SECRET_MARK = "$secret"


class SecretError(Exception):
    """A secret reference cannot be resolved, or stored secrets cannot be decrypted."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


def resolve_references(
    value: Any, *, base_dir: Path, path: tuple[str | int, ...] = ()
) -> tuple[Any, list[tuple[str | int, ...]]]:
    """Replace `$env`/`$file` references in `value`; return the value and the secret paths.

    Raises `SecretError` naming the path and the reference that could not be read.
    """
    if isinstance(value, dict):
        if set(value) == {"$env"}:
            name = str(value["$env"])
            if name not in os.environ:
                raise SecretError(f"environment variable {name} is not set", path)
            return os.environ[name], [path]
        if set(value) == {"$file"}:
            file = Path(str(value["$file"]))
            file = file if file.is_absolute() else base_dir / file
            try:
                return file.read_text(encoding="utf-8").strip(), [path]
            except OSError as exc:
                raise SecretError(f"cannot read secret file {file}: {exc.strerror}", path) from exc
        out: dict[str, Any] = {}
        found: list[tuple[str | int, ...]] = []
        for key, item in value.items():
            out[key], paths = resolve_references(item, base_dir=base_dir, path=(*path, key))
            found.extend(paths)
        return out, found
    if isinstance(value, list):
        items = []
        found = []
        for index, item in enumerate(value):
            resolved, paths = resolve_references(item, base_dir=base_dir, path=(*path, index))
            items.append(resolved)
            found.extend(paths)
        return items, found
    return value, []


class SecretBox:
    """Encrypts and decrypts secret values with the operator's key(s).

    The first key encrypts; every key decrypts, so a key can be rotated by
    putting the new key first and re-applying the clients.
    """

    #: Why there is no key, for a box that can hold no secret (see `keyless`).
    missing_key: str | None = None

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise SecretError("no secret key configured")
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as exc:
            raise SecretError("a secret key is malformed (expected a urlsafe base64 32-byte key)") from exc
        # A key of its own for fingerprints, derived from the newest key.
        newest = keys[0].encode() if isinstance(keys[0], str) else keys[0]
        self._fingerprint_key = hashlib.sha256(b"recado fingerprint\x00" + base64.urlsafe_b64decode(newest)).digest()

    @classmethod
    def keyless(cls, reason: str) -> SecretBox:
        """A box for a database without a key: fine while no secret is stored, an error when one is."""
        box = cls.__new__(cls)
        box.missing_key = reason
        box._fingerprint_key = b"recado fingerprint without a key"
        return box

    def _need_key(self) -> None:
        if self.missing_key is not None:
            raise SecretError(self.missing_key)

    def fingerprint(self, payload: bytes) -> str:
        """A keyed digest of `payload` (HMAC-SHA256 under the newest key): reveals nothing of it."""
        return hmac.new(self._fingerprint_key, payload, hashlib.sha256).hexdigest()

    @staticmethod
    def generate_key() -> str:
        """A new random key."""
        return Fernet.generate_key().decode()

    @classmethod
    def from_environment(cls, key_file: Path, *, create: bool = True) -> SecretBox:
        """Keys from `RECADO_SECRET_KEY` (comma-separated, newest first) or from `key_file`.

        When neither exists and `create` is true, a key is generated into `key_file`
        (mode 0600), so the embedded default works without setup.
        """
        env = os.environ.get("RECADO_SECRET_KEY", "").strip()
        if env:
            return cls([part.strip() for part in env.split(",") if part.strip()])
        if not key_file.exists() and not create:
            # Without secrets to store no key is needed; the first secret asks for one.
            return cls.keyless(
                f"no secret key: set RECADO_SECRET_KEY (or RECADO_SECRET_KEY_FILE; {key_file} does not exist). "
                "Every process sharing a database must use the same key."
            )
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(cls.generate_key() + "\n")
        keys = [line.strip() for line in key_file.read_text().splitlines() if line.strip()]
        return cls(keys)

    def seal(self, settings: dict[str, Any], secret_paths: list[tuple[str | int, ...]]) -> dict[str, Any]:
        """Return `settings` with the values at `secret_paths` replaced by ciphertexts."""
        if secret_paths:
            self._need_key()
        sealed: dict[str, Any] = json.loads(json.dumps(settings))
        for path in secret_paths:
            parent: Any = sealed
            for part in path[:-1]:
                parent = parent[part]
            plain = json.dumps(parent[path[-1]]).encode()
            parent[path[-1]] = {SECRET_MARK: self._fernet.encrypt(plain).decode()}
        return sealed

    def open(self, value: Any) -> Any:
        """Return `value` with every sealed secret decrypted."""
        if isinstance(value, dict):
            if set(value) == {SECRET_MARK}:
                self._need_key()
                try:
                    return json.loads(self._fernet.decrypt(value[SECRET_MARK].encode()))
                except InvalidToken as exc:
                    raise SecretError(
                        "stored secrets cannot be decrypted with the configured key (RECADO_SECRET_KEY or the key file)"
                    ) from exc
            return {key: self.open(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.open(item) for item in value]
        return value


def redact(value: Any) -> Any:
    """`value` with sealed secrets shown as `***` (for `clients show`)."""
    if isinstance(value, dict):
        if set(value) == {SECRET_MARK}:
            return "***"
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
