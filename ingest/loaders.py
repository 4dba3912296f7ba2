"""Read a file of any accepted format into text, or fail with one readable line."""
from __future__ import annotations

import io
import re
from pathlib import Path

from ingest.encoding import DecodedText, UndecodableInput, decode_bytes

ACCEPTED_SUFFIXES = {".txt", ".md", ".html", ".htm", ".docx", ".pdf"}
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class IngestError(ValueError):
    """A file that can't be ingested; the message is one line meant for the user."""


def load_bytes(data: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES) -> DecodedText:
    suffix = Path(name).suffix.lower()
    if suffix not in ACCEPTED_SUFFIXES:
        raise IngestError(f"{name}: unsupported file type '{suffix or 'none'}' "
                          f"(accepted: {', '.join(sorted(ACCEPTED_SUFFIXES))})")
    if len(data) > max_bytes:
        raise IngestError(f"{name}: file is {len(data) / 1e6:.1f} MB, over the "
                          f"{max_bytes / 1e6:.0f} MB limit (DQA_MAX_UPLOAD_BYTES)")
    try:
        if suffix == ".docx":
            return DecodedText(_docx_text(data, name), "docx", None)
        if suffix == ".pdf":
            return DecodedText(_pdf_text(data, name), "pdf", None)
        decoded = decode_bytes(data, name)
        if suffix in (".html", ".htm"):
            return DecodedText(html_to_text(decoded.text), decoded.encoding, decoded.converted_from)
        return decoded
    except UndecodableInput as error:
        raise IngestError(str(error)) from None


def load_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> DecodedText:
    size = path.stat().st_size
    if size > max_bytes:
        raise IngestError(f"{path.name}: file is {size / 1e6:.1f} MB, over the "
                          f"{max_bytes / 1e6:.0f} MB limit (DQA_MAX_UPLOAD_BYTES)")
    return load_bytes(path.read_bytes(), path.name, max_bytes)


def html_to_text(html: str) -> str:
    """Visible text only: scripts, styles and markup never survive."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "iframe", "object", "template", "head"]):
        tag.decompose()
    text = soup.get_text("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


def _docx_text(data: bytes, name: str) -> str:
    if not data.startswith(b"PK\x03\x04"):
        raise IngestError(f"{name}: not a DOCX file (it is not a ZIP container)")
    from docx import Document as DocxDocument

    try:
        document = DocxDocument(io.BytesIO(data))
    except Exception as error:   # python-docx raises several unrelated types on bad input
        raise IngestError(f"{name}: not a readable DOCX file ({type(error).__name__})") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells) + " |")
    text = "\n".join(lines)
    if not text.strip():
        raise IngestError(f"{name}: the DOCX file contains no text")
    return text


def _pdf_text(data: bytes, name: str) -> str:
    if not data.lstrip().startswith(b"%PDF"):
        raise IngestError(f"{name}: not a PDF file (missing %PDF header)")
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except Exception as error:   # pypdf raises many error types on damaged files
        raise IngestError(f"{name}: damaged PDF ({type(error).__name__})") from None
    if not text.strip():
        raise IngestError(f"{name}: the PDF has no text layer (scanned image?); OCR it first")
    return text
