"""Shared test setup of the FreeSWITCH plugin: the ESL emulator module is importable, a secret key is set."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The key secrets are encrypted with, as an operator's environment has it."""
    monkeypatch.setenv("RECADO_SECRET_KEY", "J8U7Qx3wqNwQ2n0W9m3a2Yw6sQ1y3x5k7o9q1s3u5w4=")
