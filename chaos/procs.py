"""Child processes of the crash test: started, killed with SIGKILL, restarted, logged."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    """One role (engine, a worker, the receiver) and the process currently playing it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    logs: Path
    popen: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    #: Exits nobody asked for: (exit code, log file) of each.
    crashes: list[tuple[int, str]] = field(default_factory=list)
    finished: bool = False

    def log_file(self) -> Path:
        """Where the current run of this role writes stdout and stderr."""
        return self.logs / f"{self.name}.{self.starts}.log"

    def start(self) -> None:
        """Start (or restart) the role."""
        self.starts += 1
        with self.log_file().open("wb") as out:
            self.popen = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        """Whether the process is running."""
        return self.popen is not None and self.popen.poll() is None

    def poll(self) -> int | None:
        """The exit code if the process ended, else None."""
        return None if self.popen is None else self.popen.poll()

    def kill(self) -> None:
        """SIGKILL the process (no chance to clean up) and reap it."""
        if self.popen is None or self.popen.poll() is not None:
            return
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self.kills += 1

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not leave in time; return the exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode

    def note_crash(self, code: int) -> None:
        """Remember an exit that was not a kill of ours."""
        self.crashes.append((code, str(self.log_file())))
