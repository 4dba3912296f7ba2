"""Domain errors → HTTP, in one place: each error type has one status and one message."""
from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.loaders import IngestError
from service.access import Forbidden, RateLimited, Unauthorized
from service.llm.composer import LLMBusy
from service.qa import AmbiguousDocument
from service.runtime import BatchRejected, LLMNotConfigured
from service.store import DocumentNotFound, EmbedderMismatch, StoreLocked

log = logging.getLogger("dqa.api")


class ApiError(Exception):
    """A request problem found by a route itself (bad file name, empty text, size limit)."""

    def __init__(self, status: int, error: str, detail: str, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.error, self.detail, self.headers = status, error, detail, headers


def _body(status: int, error: str, detail: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


class ClauseNotFound(KeyError):
    def __init__(self, clause_id: str):
        super().__init__(clause_id)
        self.clause_id = clause_id

    def __str__(self) -> str:
        return (f"clause {self.clause_id} is not in the corpus "
                "(IDs look like 3476/BHXH-TCCB#2.a; encode # as %23 in URLs)")


# (error type, status, error code, extra headers) — the whole mapping.
DOMAIN_ERRORS: list[tuple[type[Exception], int, str, dict | None]] = [
    (DocumentNotFound, 404, "document_not_found", None),
    (ClauseNotFound, 404, "clause_not_found", None),
    (AmbiguousDocument, 409, "ambiguous_document", None),
    (BatchRejected, 409, "conflict", None),
    (StoreLocked, 503, "store_locked", {"Retry-After": "30"}),
    (EmbedderMismatch, 503, "embedder_mismatch", None),
    (LLMNotConfigured, 503, "llm_not_configured", None),
    (Unauthorized, 401, "unauthorized", None),
    (Forbidden, 403, "forbidden", None),
]


def register_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError):
        return _body(exc.status, exc.error, exc.detail, exc.headers)

    for error_type, status, code, headers in DOMAIN_ERRORS:
        def handler(_: Request, exc: Exception, status=status, code=code, headers=headers):
            return _body(status, code, str(exc), headers)
        app.add_exception_handler(error_type, handler)

    @app.exception_handler(IngestError)
    async def bad_document(_: Request, exc: IngestError):
        status = 415 if "unsupported file type" in str(exc) else 400
        return _body(status, "bad_document", str(exc))

    @app.exception_handler(LLMBusy)
    async def busy(_: Request, exc: LLMBusy):
        return _body(503, "llm_busy", str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(RateLimited)
    async def limited(_: Request, exc: RateLimited):
        return _body(429, "rate_limited", str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where or 'body'}: {err.get('msg')}")
        return _body(422, "invalid_request", "; ".join(parts)[:1000])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException):
        return _body(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        request_id = getattr(request.state, "request_id", uuid.uuid4().hex[:12])
        log.exception("unhandled error", extra={"request_id": request_id})
        return _body(500, "internal_error", f"unexpected server error (request {request_id})")
