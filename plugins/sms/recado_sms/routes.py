"""``POST /sms/reports`` on the hub's web server, for the ``sms_reports`` source running in the same process."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from hub.core import records
from hub.core.store import Store
from recado_sms.reports import SIGNATURE_HEADER
from recado_sms.source import MAX_BODY_BYTES, Receipt, RecordFinder, SmsReportsSource

__all__ = ["REPORTS_PATH", "mount", "record_finder", "running_source"]

log = logging.getLogger(__name__)

REPORTS_PATH = "/sms/reports"


def record_finder(store: Store) -> RecordFinder:
    """Looks a record up by id in `store` (off the event loop) and gives its ``(source, call_id)``."""

    def find(record_id: str) -> tuple[str, str] | None:
        with store.connect() as conn:
            record = records.get(conn, record_id)
        return None if record is None else (record.source, record.call_id)

    async def find_async(record_id: str) -> tuple[str, str] | None:
        return await asyncio.to_thread(find, record_id)

    return find_async


def running_source(extras: dict[str, Any]) -> SmsReportsSource | None:
    """The ``sms_reports`` source this process runs, if any (the first one when several are listed)."""
    running = [(name, s) for name, s in extras.get("sources", {}).items() if isinstance(s, SmsReportsSource)]
    if not running:
        return None
    if len(running) > 1:
        log.warning("several sms_reports sources run here; %s is served on %s", running[0][0], REPORTS_PATH)
    return running[0][1]


def mount(app: FastAPI, source: SmsReportsSource, store: Store) -> None:
    """Serve `source` at ``POST /sms/reports`` of `app`, finding records in `store`."""
    find = record_finder(store)

    @app.post(
        REPORTS_PATH,
        tags=["sms"],
        summary="SMS delivery reports and replies",
        status_code=202,
        responses={
            400: {"description": "not a report"},
            401: {"description": "missing or wrong X-Signature"},
            404: {"description": "no record with this reference"},
            413: {"description": "body too large"},
            503: {"description": "the sms_reports source is not running"},
        },
    )
    async def sms_reports(request: Request) -> JSONResponse:
        """A delivery report or a reply from the SMS gateway, signed with HMAC-SHA256 in `X-Signature`."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            receipt = Receipt.error(413, "too_large", f"a report has at most {MAX_BODY_BYTES} bytes")
        else:
            body = await request.body()
            receipt = await source.receive(body, request.headers.get(SIGNATURE_HEADER), find)
        return JSONResponse(receipt.body, status_code=receipt.status, headers=receipt.headers or None)
