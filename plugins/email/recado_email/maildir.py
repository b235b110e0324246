"""Writing emails into a Maildir (the demo's mailbox), once per delivery.

The directory is a standard Maildir (`mailbox.Maildir` creates and reads it), and each
email's file name is derived from its idempotency key, so delivering the same record
again finds it already there instead of adding a copy, even after a mail reader has
moved it from ``new/`` to ``cur/``.
"""

from __future__ import annotations

import mailbox
import os
import uuid
from email.message import EmailMessage
from pathlib import Path

from hub.sinks import Health


class MaildirTransport:
    """One Maildir directory, created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def store(self, name: str, message: EmailMessage) -> bool:
        """Write `message` as `name` unless it is already there; True when it was written.

        Blocking file I/O: call it from a worker thread. Raises OSError on failure.
        """
        box = mailbox.Maildir(self.path, create=True)
        if name in box:
            return False
        # Unique per attempt: two deliveries of the same email may be written at once.
        tmp = self.path / "tmp" / f"{name}.{os.getpid()}.{uuid.uuid4().hex}"
        tmp.write_bytes(message.as_bytes())
        try:
            # A hard link is atomic and fails if the name exists: two workers storing
            # the same email cannot both succeed.
            os.link(tmp, self.path / "new" / name)
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def check(self) -> Health:
        """Can the Maildir be created and written to?"""
        try:
            mailbox.Maildir(self.path, create=True)
        except OSError as exc:
            return Health(ok=False, detail=f"cannot create the Maildir {self.path}: {exc}")
        for sub in ("tmp", "new"):
            if not os.access(self.path / sub, os.W_OK):
                return Health(ok=False, detail=f"the Maildir {self.path} is not writable")
        return Health(ok=True, detail=f"Maildir {self.path} is writable",
                      info={"maildir": str(self.path)})
