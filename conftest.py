"""What every test of the tree shares, core and plugins alike."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _logging_as_pytest_set_it() -> Iterator[None]:
    """Give the root logger back its handlers and level after each test.

    `recado`'s root command configures logging for its process (a handler on stderr);
    invoked in-process, that handler would outlive the test's captured stderr, and the
    threads of later tests (SMTP, HTTP servers) would log into a closed stream.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level
