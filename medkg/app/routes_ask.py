"""``POST /api/ask`` and its streaming twin ``POST /api/ask/stream`` (server-sent events).

The stream sends, in order: ``queued`` (how many questions are ahead), ``retrieval`` (the numbered passages
and the question's concepts, as soon as they are found, while the LLM is still to run), then ``answer`` (the
same JSON as ``/api/ask``) or ``error`` (``{"status", "error"}``). A comment line every 15 s keeps proxies
from closing a quiet connection. Both refuse a full queue before anything is sent (503, ``Retry-After``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from medkg.app.errors import status_of
from medkg.app.schemas import AskBody
from medkg.app.state import State
from medkg.errors import MedKGError
from medkg.queries.records import Answer
from medkg.queries.retrieval import Retrieval

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["ask"])
KEEP_ALIVE_S = 15.0

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "an unusable question or setting (the message says which)"},
    503: {"description": "the LLM queue is full (see Retry-After), or the model is not installed"},
}


@router.post("/ask", response_model=Answer, responses=ERRORS)
async def ask(st: State, body: AskBody) -> JSONResponse:
    """Answer a question with numbered citations (the ``Answer`` JSON of ``medkg ask --json``)."""
    ticket = st.asks.submit(body.question_record())
    try:
        answer = await asyncio.wrap_future(ticket.future)
    except asyncio.CancelledError:
        ticket.future.cancel()
        raise
    return JSONResponse(answer.to_dict())


@router.post("/ask/stream", responses={**ERRORS, 200: {
    "description": "server-sent events: queued, retrieval, then answer or error",
    "content": {"text/event-stream": {}}}})
async def ask_stream(st: State, body: AskBody) -> StreamingResponse:
    """The same question, streamed: the evidence first, the answer when the LLM has it."""
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def on_retrieval(retrieval: Retrieval) -> None:  # called in the LLM thread
        loop.call_soon_threadsafe(events.put_nowait, ("retrieval", retrieval_json(retrieval)))

    ticket = st.asks.submit(body.question_record(), on_retrieval)
    ahead = st.asks.waiting() - 1

    async def stream() -> AsyncIterator[str]:
        answer = asyncio.wrap_future(ticket.future)
        try:
            yield sse("queued", {"ahead": max(0, ahead)})
            while True:
                getter: asyncio.Future[tuple[str, Any]] = asyncio.ensure_future(events.get())
                waiting: set[asyncio.Future[Any]] = {getter, answer}
                done, _ = await asyncio.wait(waiting, timeout=KEEP_ALIVE_S, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield sse(*getter.result())
                    continue
                getter.cancel()
                if answer in done:
                    while not events.empty():
                        yield sse(*events.get_nowait())
                    yield _final(answer)
                    return
                yield ": keep-alive\n\n"
        finally:
            answer.cancel()  # the client went away: a question still waiting is dropped

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _final(answer: asyncio.Future[Answer]) -> str:
    try:
        return sse("answer", answer.result().to_dict())
    except MedKGError as e:
        return sse("error", {"status": status_of(e), "error": str(e)})
    except Exception:
        log.exception("answering failed")
        return sse("error", {"status": 500, "error": "internal error; the server log has the details"})


def retrieval_json(retrieval: Retrieval) -> dict[str, Any]:
    """What the page shows before the answer: the numbered passages, the concepts and the document ranking."""
    return {"mode": retrieval.mode, "passages": [dataclasses.asdict(p) for p in retrieval.passages],
            "concepts": [dataclasses.asdict(c) for c in retrieval.concepts], "ranking": retrieval.ranking,
            "path": retrieval.path}


def sse(event: str, data: Any) -> str:
    """One server-sent event; the JSON is on one line, so one ``data:`` field holds it."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
