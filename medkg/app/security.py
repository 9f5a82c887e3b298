"""The guard in front of every request: host, token, origin and body size (a plain ASGI middleware).

- **Host.** Bound to a loopback address, the server answers only requests whose ``Host`` names the loopback
  (``127.0.0.1``, ``localhost``, ``[::1]``): a web page elsewhere cannot reach it through DNS rebinding.
- **Token.** With ``MEDKG_API_TOKEN`` set (required to bind elsewhere), every request must carry it: an
  ``Authorization: Bearer`` header, or the ``medkg_token`` cookie that opening ``/?token=...`` once sets
  (HttpOnly, SameSite=Lax), as Jupyter does. Tokens are compared in constant time.
- **Origin.** A request that changes something (POST, PUT, PATCH, DELETE) from a browser page of another
  origin is refused, unless ``--cors-origin`` allowed that origin. Without this, any site open in the same
  browser could upload to or delete from a server on localhost with a plain form post, which CORS does not stop.
- **Size.** Uploads are cut off at the configured limit (413) while they arrive, whatever ``Content-Length``
  claims; other requests at 1 MiB.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medkg.app.config import MiB, ServeConfig

COOKIE = "medkg_token"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
OTHER_BODY_LIMIT = MiB
UPLOAD_PATH = "/api/documents"


class _TooLarge(Exception):
    pass


class Guard:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, config: ServeConfig) -> None:
        self.app = app
        self.token = config.token
        self.check_host = config.loopback
        self.cors = set(config.cors_origins)
        self.upload_limit = config.max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await _reply(send, *refusal)
            return
        if self.token and scope["method"] == "GET" and _query(scope).get("token"):
            await self._login(scope, headers, send)
            return
        limit = self.upload_limit if scope["path"] == UPLOAD_PATH else OTHER_BODY_LIMIT
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _reply(send, 413, _too_large(limit))
            return
        started = False
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _TooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _reply(send, 413, _too_large(limit))

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str, dict[str, str]] | None:
        """(status, message, extra headers) when the request must be refused, else None."""
        host = headers.get("host", "")
        if self.check_host and _hostname(host) not in LOOPBACK_HOSTS:
            return 400, f"unexpected Host header {host!r}: this server answers only on the loopback address", {}
        if self.token and not self._authorised(headers, scope):
            return (401, "this server needs its token (MEDKG_API_TOKEN): send 'Authorization: Bearer <token>', "
                    "or open /?token=<token> once in the browser", {"www-authenticate": "Bearer"})
        origin = headers.get("origin")
        cross = origin and origin != "null" and urlsplit(origin).netloc != host and origin not in self.cors
        if scope["method"] in UNSAFE and cross:
            return 403, f"cross-origin request from {origin} refused (see --cors-origin)", {}
        return None

    def _authorised(self, headers: dict[str, str], scope: Scope) -> bool:
        assert self.token is not None
        offered = []
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            offered.append(auth[7:].strip())
        cookie = SimpleCookie(headers.get("cookie", ""))
        if COOKIE in cookie:
            offered.append(cookie[COOKIE].value)
        if scope["method"] == "GET":
            offered.append(_query(scope).get("token", ""))
        return any(o and hmac.compare_digest(o.encode(), self.token.encode()) for o in offered)

    async def _login(self, scope: Scope, headers: dict[str, str], send: Send) -> None:
        """``GET /path?token=...`` with the right token: set the cookie and redirect to the same URL without it."""
        assert self.token is not None
        rest = urlencode([(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode())
                          if k != "token"])
        path = "/" + scope["path"].lstrip("/")  # never "//host": a redirect must stay on this server
        location = path + (f"?{rest}" if rest else "")
        cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Lax"
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode()),
                                (b"cache-control", b"no-store"), (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def _query(scope: Scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _hostname(host: str) -> str:
    """``127.0.0.1:8000`` -> ``127.0.0.1``; ``[::1]:8000`` -> ``::1``."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _too_large(limit: int) -> str:
    return f"the request is larger than the limit of {limit / MiB:g} MiB"


async def _reply(send: Send, status: int, message: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json"),
                                          (b"content-length", str(len(body)).encode())]
    headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
