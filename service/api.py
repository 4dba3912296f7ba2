"""FastAPI app: routers hold HTTP concerns; Engine/Runtime hold the logic.

Errors are typed and mapped to one status and one message each, in `_register_errors`.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import unicodedata
import uuid
from pathlib import Path, PurePath

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.index import DocumentNotFound, EmbedderMismatch, StoreLocked
from ingest.loaders import IngestError
from ingest.model import Clause, Document
from ingest.pipeline import FileReport, ingest_upload
from service import observability
from service.access import AccessControl, Forbidden, RateLimited, Unauthorized
from service.articles import ArticleRequest
from service.compose_llm import LLMBusy
from service.runtime import Runtime, get_runtime
from service.schemas import (
    Answer, AskRequest, DocumentSummary, ErrorBody, SearchResponse,
)
from service.settings import Settings, get_settings

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("dqa.api")


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str, headers: dict | None = None):
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="directive-qa", version="0.1.0",
                  description="Answers about Vietnamese administrative directives, every claim "
                              "backed by a checked clause citation.",
                  responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                             404: {"model": ErrorBody}, 422: {"model": ErrorBody},
                             429: {"model": ErrorBody}, 503: {"model": ErrorBody}})
    app.state.settings = settings
    app.state.access = AccessControl(settings)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST", "DELETE"],
                       allow_headers=["Content-Type", "X-API-Key"])
    _register_errors(app)
    observability.install(app)

    def runtime() -> Runtime:
        try:
            return get_runtime(settings)
        except StoreLocked as error:
            raise ApiError(503, "store_locked", str(error), {"Retry-After": "30"}) from None

    def read_access(request: Request) -> None:
        app.state.access.check(request, write=False)

    def write_access(request: Request) -> None:
        app.state.access.check(request, write=True)

    # ------------------------------------------------------------ health
    @app.get("/healthz", tags=["health"])
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        checks = {"store": False, "embedder": False, "llm": settings.llm}
        try:
            rt = runtime()
            checks["store"] = True
            checks["embedder"] = rt.embedder.identity
            checks["documents"] = len(rt.engine.documents)
        except ApiError as error:
            return JSONResponse({"ready": False, **checks, "detail": error.detail}, status_code=503)
        return JSONResponse({"ready": True, **checks})

    # ------------------------------------------------------------ answers
    @app.post("/v1/ask", response_model=Answer, tags=["answers"], dependencies=[Depends(read_access)])
    def ask(body: AskRequest) -> Answer:
        rt = runtime()
        try:
            answer = rt.ask(body.question, body.lang, body.history, body.top_k, body.llm)
        except LLMBusy as error:
            raise ApiError(503, "llm_busy", str(error), {"Retry-After": str(error.retry_after)}) from None
        observability.record_answer(answer)
        return answer

    @app.post("/v1/ask/stream", tags=["answers"], dependencies=[Depends(read_access)],
              response_class=StreamingResponse,
              responses={200: {"content": {"text/event-stream": {}},
                               "description": "Server-Sent Events: evidence, token*, final"}})
    async def ask_stream(body: AskRequest) -> StreamingResponse:
        rt = runtime()

        async def events():
            grounded = await asyncio.to_thread(rt.engine.ask, body.question, body.lang,
                                               body.history, body.top_k)
            # Evidence first: the retrieved, checked clauses reach the reader before any prose.
            evidence = {"citations": [c.model_dump(mode="json") for c in grounded.citations],
                        "refused": grounded.refused, "language": grounded.language}
            yield _sse("evidence", evidence)
            wants_llm = rt.llm_enabled if body.llm is None else (body.llm and rt.llm_enabled)
            answer = grounded
            if wants_llm and not grounded.refused:
                queue: asyncio.Queue = asyncio.Queue()
                loop = asyncio.get_running_loop()

                def on_token(delta: str) -> None:
                    loop.call_soon_threadsafe(queue.put_nowait, delta)

                composer = await asyncio.to_thread(rt.composer)
                task = asyncio.ensure_future(asyncio.to_thread(
                    composer.compose, rt.engine, body.question, grounded, on_token))
                while not task.done() or not queue.empty():
                    try:
                        delta = await asyncio.wait_for(queue.get(), timeout=0.2)
                        yield _sse("token", {"text": delta})
                    except asyncio.TimeoutError:
                        continue
                try:
                    answer = task.result()
                except LLMBusy as error:
                    yield _sse("notice", {"detail": str(error)})
            else:
                for line in grounded.answer.split("\n"):
                    yield _sse("token", {"text": line + "\n"})
            observability.record_answer(answer)
            yield _sse("final", answer.model_dump(mode="json"))

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/v1/search", response_model=SearchResponse, tags=["answers"],
             dependencies=[Depends(read_access)])
    def search(q: str = Query(min_length=1, max_length=2000),
               top_k: int = Query(default=10, ge=1, le=50)) -> SearchResponse:
        cleaned = _clean_text(q)
        if not cleaned.strip():
            raise ApiError(422, "invalid_request", "q is empty or only whitespace/control characters")
        return SearchResponse(query=cleaned, hits=runtime().engine.search(cleaned, top_k))

    # ------------------------------------------------------------ documents
    @app.get("/v1/documents", response_model=list[DocumentSummary], tags=["documents"],
             dependencies=[Depends(read_access)])
    def documents() -> list[DocumentSummary]:
        return [summary(d) for d in runtime().engine.documents.values()]

    @app.get("/v1/documents/{number:path}", tags=["documents"], dependencies=[Depends(read_access)])
    def document(number: str) -> dict:
        engine = runtime().engine
        doc = engine.document(_clean_text(number))
        incoming = [{"from": other.number, "clause": ref.citing_clause, "mention": ref.mention}
                    for other in engine.documents.values() for ref in other.references
                    if ref.number == doc.number]
        return {**doc.model_dump(mode="json", exclude={"source"}),
                "source": {"file": PurePath(doc.source.file).name, "sha256": doc.source.sha256,
                           "stats": doc.source.stats.model_dump()},
                "references_in": incoming}

    @app.get("/v1/clauses/{clause_id:path}", response_model=Clause, tags=["documents"],
             dependencies=[Depends(read_access)])
    def clause(clause_id: str) -> Clause:
        try:
            return runtime().engine.clause(_clean_text(clause_id))
        except KeyError:
            raise ApiError(404, "clause_not_found", f"clause {clause_id} is not in the corpus "
                           "(IDs look like 3476/BHXH-TCCB#2.a; encode # as %23 in URLs)") from None

    @app.post("/v1/documents", response_model=list[FileReport], tags=["documents"],
              dependencies=[Depends(write_access)], status_code=201)
    async def upload(file: UploadFile = File(...)) -> list[FileReport]:
        rt = runtime()
        name = PurePath((file.filename or "upload.txt").replace("\\", "/")).name
        if not name or name in (".", "..") or name.startswith("."):
            raise ApiError(400, "bad_filename", "the upload has no usable file name")
        limit = settings.max_upload_bytes
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise ApiError(413, "too_large", f"upload is over the {limit} byte limit "
                           "(DQA_MAX_UPLOAD_BYTES)")
        documents, commentaries = await asyncio.to_thread(rt.known)
        try:
            batch = await asyncio.to_thread(ingest_upload, data, name, limit, documents, commentaries)
        except IngestError as error:
            status = 415 if "unsupported file type" in str(error) else 400
            raise ApiError(status, "bad_document", str(error)) from None
        if batch.failed:
            raise ApiError(409, "conflict", batch.failed[0].error or "document rejected")
        return await asyncio.to_thread(rt.commit_batch, batch)

    @app.delete("/v1/documents/{number:path}", tags=["documents"], dependencies=[Depends(write_access)])
    def delete(number: str) -> dict:
        rt = runtime()
        with rt.write_lock:
            removed = rt.store.remove_document(_clean_text(number))
            rt.engine.refresh()
        return {"deleted": number, "clauses": removed}

    # ------------------------------------------------------------ articles
    @app.post("/v1/articles", tags=["articles"], dependencies=[Depends(read_access)],
              responses={200: {"description": "JSON article (md/html) or a DOCX file",
                               "content": {"application/json": {},
                                           "application/vnd.openxmlformats-officedocument."
                                           "wordprocessingml.document": {}}}})
    def draft(body: ArticleRequest):
        from service.articles import draft_article, render

        rt = runtime()
        # Control characters and lone surrogates cannot go into DOCX (lxml refuses them) or HTML.
        question = _clean_text(body.question)
        if not question.strip():
            raise ApiError(422, "invalid_request", "question is empty or only whitespace/control "
                           "characters")
        body = body.model_copy(update={
            "question": question, "documents": [_clean_text(d) for d in body.documents],
            "asker": _clean_text(body.asker) if body.asker is not None else None})
        try:
            article = draft_article(rt.engine, body)
        except ValueError as error:
            raise ApiError(404, "document_not_found", str(error)) from None
        rendered = render(article, body.format)
        if body.format == "docx":
            return Response(rendered, media_type="application/vnd.openxmlformats-officedocument."
                            "wordprocessingml.document",
                            headers={"Content-Disposition": 'attachment; filename="article.docx"'})
        payload = article.model_dump(mode="json")
        payload["markdown" if body.format == "md" else "html"] = rendered
        return JSONResponse(payload)

    # ------------------------------------------------------------ widget
    @app.get("/", include_in_schema=False)
    def demo_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="application/javascript")

    return app


def summary(document: Document) -> DocumentSummary:
    return DocumentSummary(number=document.number, kind=document.kind, issued=document.issued,
                           subject=document.subject, clauses=len(document.clauses),
                           provisional=document.provisional,
                           identity_method=document.identity.method)


def _clean_text(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    return "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _register_errors(app: FastAPI) -> None:
    def body(status: int, error: str, detail: str, headers: dict | None = None) -> JSONResponse:
        return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError):
        return body(exc.status, exc.error, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where or 'body'}: {err.get('msg')}")
        return body(422, "invalid_request", "; ".join(parts)[:1000])

    @app.exception_handler(DocumentNotFound)
    async def not_found(_: Request, exc: DocumentNotFound):
        return body(404, "document_not_found", str(exc))

    @app.exception_handler(StoreLocked)
    async def locked(_: Request, exc: StoreLocked):
        return body(503, "store_locked", str(exc), {"Retry-After": "30"})

    @app.exception_handler(EmbedderMismatch)
    async def mismatch(_: Request, exc: EmbedderMismatch):
        return body(503, "embedder_mismatch", str(exc))

    @app.exception_handler(Unauthorized)
    async def unauthorized(_: Request, exc: Unauthorized):
        return body(401, "unauthorized", str(exc))

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden):
        return body(403, "forbidden", str(exc))

    @app.exception_handler(RateLimited)
    async def limited(_: Request, exc: RateLimited):
        return body(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        return body(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        request_id = getattr(request.state, "request_id", uuid.uuid4().hex[:12])
        log.exception("unhandled error", extra={"request_id": request_id})
        return body(500, "internal_error", f"unexpected server error (request {request_id})")
