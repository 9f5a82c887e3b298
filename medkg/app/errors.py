"""medkg's errors as HTTP answers: ``{"error": message, "status": code}``, never a traceback.

- 400: ``QueryError``, ``InputError``, ``VocabularyError`` (the question, query or file cannot be used), a
  user's Cypher or SPARQL the store refused (syntax, a write on a read-only server), a request body that
  fails validation (a missing field, a value out of range);
- 404: ``NotFoundError`` (no such document, concept or job);
- 503: ``BusyError`` (the LLM queue or the job queue is full, with ``Retry-After``), ``ModelNotFoundError``
  (the message says how to install it), any other ``StoreError`` (the store cannot be reached);
- 500: any other ``MedKGError`` with its message (a damaged graph, a model that failed); anything else as
  "internal error", the traceback going to the server log only.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from medkg.app.handles import BusyError
from medkg.errors import (
    InputError,
    MedKGError,
    ModelNotFoundError,
    NotFoundError,
    QueryError,
    StoreError,
    VocabularyError,
)

log = logging.getLogger(__name__)


class UserQueryError(MedKGError):
    """A user's own Cypher or SPARQL failed in the store (raised by the query routes): a 400, not a 503."""


def status_of(error: MedKGError) -> int:
    if isinstance(error, QueryError | InputError | VocabularyError | UserQueryError):
        return 400
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, BusyError | ModelNotFoundError | StoreError):
        return 503
    return 500


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


def medkg_error_response(error: MedKGError) -> JSONResponse:
    status = status_of(error)
    if status >= 500:
        log.warning("%s: %s", type(error).__name__, error)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, BusyError) else None
    return error_response(status, str(error), headers)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(MedKGError)
    async def on_medkg_error(request: Request, error: MedKGError) -> JSONResponse:
        return medkg_error_response(error)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(400, "; ".join(_describe(e) for e in error.errors()) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return error_response(error.status_code, str(error.detail), getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error; the server log has the details")


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid"))
