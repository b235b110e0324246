"""The installed `recado` command run as the operator runs it: a real process, its exit code and output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECADO = str(Path(sys.executable).with_name("recado"))


@dataclass
class Result:
    """What one `recado` run did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """Stdout of a successful run, parsed as one JSON document."""
        assert self.code == 0, self.err
        return json.loads(self.out)


def operator_env(**variables: str) -> dict[str, str]:
    """This process's environment without any RECADO_* from outside, 200 columns wide, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECADO_")}
    return env | {"COLUMNS": "200", **variables}


def recado(*args: str, db: str | None, cwd: Path, env: Mapping[str, str], stdin: str | None = None) -> Result:
    """Run `recado [--db DB] ARGS` in `cwd` with exactly the environment `env`."""
    database = [] if db is None else ["--db", db]
    done = subprocess.run(
        [RECADO, *database, *args], cwd=cwd, env=dict(env), input=stdin, capture_output=True, text=True, timeout=120
    )
    return Result(done.returncode, done.stdout, done.stderr)
