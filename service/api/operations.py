"""Health and readiness (metrics are installed by service.observability)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.runtime import get_runtime
from service.store import EmbedderMismatch, StoreLocked

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    settings = request.app.state.settings
    checks = {"store": False, "embedder": False, "llm": settings.llm}
    try:
        rt = get_runtime(settings)
    except (StoreLocked, EmbedderMismatch) as error:
        return JSONResponse({"ready": False, **checks, "detail": str(error)}, status_code=503)
    checks.update(store=True, embedder=rt.embedder.identity, documents=len(rt.documents()))
    return JSONResponse({"ready": True, **checks})
