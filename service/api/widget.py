"""The chat widget (one <script> tag) and its demo page."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/")
def demo_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/widget.js")
def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="application/javascript")
