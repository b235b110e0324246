"""The web application: API, pages, `/healthz`, `/metrics`, and the plugins' own routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from hub import __version__
from hub.core.engine import Engine
from hub.core.store import Store
from hub.plugins import Plugins
from hub.settings import Settings
from hub.web import (
    api,
    api_campaigns,
    dashboard,
    destinations,
    errors,
    invoice_pages,
    metrics,
    pages,
    portal,
    portal_campaigns,
    privacy_api,
    signup,
)
from hub.web import payments as payment_pages
from hub.web import reports as report_pages
from hub.web.context import WebContext, web

DESCRIPTION = """The HTTP API of Recado.

Every `/api/v1` route needs `Authorization: Bearer <token>` (made with
`recado tokens create`). A client token sees its own client only. Errors are
`{"error": {"code": "...", "message": "..."}}`.
"""


def build_context(
    store: Store,
    plugins: Plugins,
    settings: Settings | None = None,
    *,
    secure_cookies: bool = True,
) -> WebContext:
    """What the application needs: the store, the plugins, settings, an engine that notifies the plugins."""
    settings = settings or Settings(database_url=store.url)
    engine = Engine(store, plugins.registry, settings, notify=plugins.call_guarded)
    return WebContext(store=store, plugins=plugins, settings=settings, engine=engine, secure_cookies=secure_cookies)


def create_app(context: WebContext, **fastapi_options: Any) -> FastAPI:
    """The FastAPI application over `context`, with every plugin's routes mounted."""
    app = FastAPI(title="Recado", version=__version__, description=DESCRIPTION, **fastapi_options)
    app.state.recado = context
    errors.install(app)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")

    @app.get("/healthz", tags=["operations"], summary="Health")
    def healthz(request: Request) -> dict[str, str]:
        """`ok` when the database answers."""
        with web(request).store.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    def metrics_page(request: Request) -> Response:
        """Calls by disposition, records, deliveries by outcome and sink, the outbox, sources."""
        context = web(request)
        states = context.extras.get("source_states")
        return Response(metrics.render(context.store, states), media_type=metrics.CONTENT_TYPE)

    app.include_router(api.router)
    app.include_router(api_campaigns.router)
    app.include_router(pages.router)
    app.include_router(portal.router)
    app.include_router(portal_campaigns.router)
    app.include_router(destinations.router)
    app.include_router(dashboard.router)
    app.include_router(report_pages.pages)
    app.include_router(report_pages.api)
    app.include_router(privacy_api.router)
    app.include_router(signup.router)
    app.include_router(invoice_pages.router)
    app.include_router(payment_pages.router)
    context.plugins.call_guarded("register_routes", app=app)
    return app
