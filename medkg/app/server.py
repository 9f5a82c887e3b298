"""The ASGI app of ``medkg serve``: the JSON API under ``/api``, the web page at ``/``, OpenAPI docs at ``/docs``.

Everything the browser loads comes from this process (``medkg/app/static``, with Cytoscape.js and Swagger UI
vendored); the Content-Security-Policy says so to the browser too, so a page that tried to fetch from
elsewhere would be stopped there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medkg.app import errors, routes_ask, routes_graph, routes_query
from medkg.app.config import ServeConfig
from medkg.app.security import Guard
from medkg.app.state import AppState
from medkg.version import __version__

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
PAGE_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
DOCS_CSP = PAGE_CSP.replace("default-src 'self';", "default-src 'self'; script-src 'self' 'unsafe-inline';")

DESCRIPTION = """
The API of one medkg graph: ask questions with cited answers (plain or streamed as server-sent events),
read documents with their entity spans and relations, browse concepts and their neighbourhoods, add and
delete documents (background jobs), and run read-only Cypher and SPARQL with a row and a time limit.

Errors are `{"error": message, "status": code}`. When the server has a token (`MEDKG_API_TOKEN`), send it as
`Authorization: Bearer <token>`.
"""


def create_app(config: ServeConfig, state: AppState | None = None) -> FastAPI:
    """The app over the graph of ``config`` (opened here, so a missing graph fails before serving)."""
    st = state or AppState(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        st.close()

    app = FastAPI(title="medkg", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_tags=[
                      {"name": "ask", "description": "questions and cited answers"},
                      {"name": "documents", "description": "documents, uploads, deletes and their jobs"},
                      {"name": "concepts", "description": "vocabulary concepts and their neighbourhoods"},
                      {"name": "query", "description": "Cypher and SPARQL"},
                      {"name": "graph", "description": "statistics and health"}])
    app.state.medkg = st
    errors.install(app)
    for module in (routes_ask, routes_graph, routes_query):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="medkg API",
                                   swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg",
                                   swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True})

    app.add_middleware(SecurityHeaders)
    app.add_middleware(Guard, config=st.config)
    if config.cors_origins:  # outermost, so that preflight requests (which carry no token) are answered
        app.add_middleware(CORSMiddleware, allow_origins=list(config.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
    return app


class SecurityHeaders:
    """The page's Content-Security-Policy (only this server), no MIME sniffing, no referrer (plain ASGI, so that
    event streams pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] == "/docs" else PAGE_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"content-security-policy", csp.encode()),
                                      (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
            await send(message)

        await self.app(scope, receive, send_with_headers)
