"""What every router needs: the runtime, access checks, and text cleaning."""
from __future__ import annotations

import unicodedata

from fastapi import Request

from service.runtime import Runtime, get_runtime


def runtime(request: Request) -> Runtime:
    return get_runtime(request.app.state.settings)


def read_access(request: Request) -> None:
    request.app.state.access.check(request, write=False)


def write_access(request: Request) -> None:
    request.app.state.access.check(request, write=True)


def clean_text(value: str) -> str:
    """NFC, without control characters or lone surrogates (DOCX and HTML refuse them)."""
    value = unicodedata.normalize("NFC", value)
    return "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")
