"""Documents (list, read, upload, delete), the jobs that add and delete them, and concepts.

Uploads are saved under a fresh temporary directory with their own (sanitised) file name, because readers
go by the name (``.jsonl``, ``.xml``, ``.txt``...) and a report's id is ``report:<file stem>``. They are read
once before the job is queued, so an unreadable file is refused at once (400) with the reader's own message,
and the job knows how many documents it has to extract.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import StreamingResponse

from medkg.app.routes_ask import KEEP_ALIVE_S, sse
from medkg.app.schemas import JobOut
from medkg.app.state import State
from medkg.errors import InputError
from medkg.pipelines.reading import SUPPORTED, read_documents
from medkg.queries.api import KnowledgeGraph
from medkg.queries.explore import ConceptHit, ConceptView, DocumentList, DocumentView

router = APIRouter(prefix="/api")
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such document, concept or job"}}
MAX_IDS_SHOWN = 1000  # document ids an upload's job lists


@router.get("/documents", response_model=DocumentList, tags=["documents"])
def list_documents(st: State, tier: Annotated[int | None, Query(ge=1, le=2)] = None,
                   q: Annotated[str, Query(max_length=200, description="part of the id or title")] = "",
                   offset: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> DocumentList:
    """A page of documents, by tier then id."""
    return st.read(lambda g: g.documents(tier=tier, text=q, offset=offset, limit=limit))


@router.get("/documents/{doc_id:path}", response_model=DocumentView, responses=NOT_FOUND, tags=["documents"])
def read_document(st: State, doc_id: str) -> DocumentView:
    """One document: text, chunks, entity spans (concept, group, negation and other flags), typed relations."""
    return st.read(lambda g: g.document(doc_id))


@router.post("/documents", status_code=202, response_model=JobOut, tags=["documents"],
             responses={400: {"description": "the file cannot be read (the reader's message)"},
                        413: {"description": "the file is over the upload limit"},
                        503: {"description": "too many builds waiting"}})
def upload(st: State, file: Annotated[UploadFile, File(description=f"a document file: {SUPPORTED}")],
           tier: Annotated[int | None, Form(ge=1, le=2, description="1 reports, 2 literature")] = None) -> JobOut:
    """Add the documents of one file to the graph: a build job (follow it at ``/api/jobs/{id}``)."""
    name = safe_name(file.filename or "")
    tmp = Path(tempfile.mkdtemp(prefix="medkg-upload-"))
    try:
        path = tmp / name
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out)
        try:
            ids = [d.id for d in read_documents([path], tier)]
        except InputError as e:  # the reader's message, with the upload's name instead of the temporary path
            raise InputError(str(e).replace(f"{tmp}/", "")) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    job = st.jobs.add([path], name, len(ids), ids[:MAX_IDS_SHOWN], tier, cleanup=tmp)
    return JobOut(**job.to_dict())


@router.delete("/documents/{doc_id:path}", status_code=202, response_model=JobOut, responses=NOT_FOUND,
               tags=["documents"])
def delete_document(st: State, doc_id: str) -> JobOut:
    """Remove a document and everything derived only from it: a delete job."""

    def check(g: KnowledgeGraph) -> None:
        g.document(doc_id)  # NotFoundError: 404 now rather than a failed job
        if g.documents(limit=1).total <= 1:
            raise InputError("deleting the last document would leave the graph empty; remove the graph instead")

    st.read(check)
    return JobOut(**st.jobs.delete([doc_id]).to_dict())


@router.get("/jobs", response_model=list[JobOut], tags=["documents"])
def list_jobs(st: State) -> list[JobOut]:
    """Recent builds and deletes, newest first."""
    return [JobOut(**j.to_dict()) for j in st.jobs.jobs()]


@router.get("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND, tags=["documents"])
def read_job(st: State, job_id: str) -> JobOut:
    """Where a build or delete stands: state, stage, documents done of total, result or error."""
    return JobOut(**st.jobs.get(job_id).to_dict())


@router.get("/jobs/{job_id}/events", responses={**NOT_FOUND, 200: {
    "description": "server-sent events: one 'job' event per change, the last when it has finished",
    "content": {"text/event-stream": {}}}}, tags=["documents"])
async def job_events(st: State, job_id: str) -> StreamingResponse:
    """The job's progress as server-sent events, until it is done or has failed."""
    job = st.jobs.get(job_id)

    async def stream() -> AsyncIterator[str]:
        seen, quiet = -1, 0.0
        while True:
            if job.version != seen:
                seen, quiet = job.version, 0.0
                yield sse("job", job.to_dict())
            if job.finished is not None:
                return
            await asyncio.sleep(0.25)
            quiet += 0.25
            if quiet >= KEEP_ALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.get("/concepts", response_model=list[ConceptHit], tags=["concepts"])
def search_concepts(st: State,
                    q: Annotated[str, Query(min_length=1, max_length=200, description="a name, synonym or id")],
                    limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[ConceptHit]:
    """Concepts by id, name or synonym: the exact match first, then prefixes, then the most mentioned."""
    return st.read(lambda g: g.find_concepts(q, limit))


@router.get("/concepts/{concept_id:path}", response_model=ConceptView, responses=NOT_FOUND, tags=["concepts"])
def read_concept(st: State, concept_id: str) -> ConceptView:
    """One concept: broader, narrower and mapped concepts, mentions and documents per tier, relations (typed
    first), and its neighbourhood as ``graph.nodes`` and ``graph.edges``."""
    return st.read(lambda g: g.concept(concept_id))


def safe_name(filename: str) -> str:
    """The upload's base name with anything but letters, digits, ``.``, ``-`` and ``_`` replaced by ``_``."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename.replace("\\", "/")).name).strip("._")
    if not name:
        raise InputError("the upload has no file name; its name (e.g. notes.txt, papers.jsonl) says how to read it")
    return name[:200]
