"""`dqa --url`: the same operations as `service.runtime.Runtime`, over a running service's API.

The CLI calls one of the two without knowing which; a store-level operation that has no HTTP
endpoint (check, export, import, translate, eval's baselines) says so instead of guessing.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx

from ingest.model import Clause
from ingest.pipeline import FileReport, collect_files
from service.articles import Article, ArticleRequest
from service.runtime import TranslationProgress
from service.schemas import Answer, DocumentSummary, Hit, Turn


class RemoteError(RuntimeError):
    def __init__(self, status: int, error: str, detail: str):
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail

    def __str__(self) -> str:
        return f"{self.detail} (HTTP {self.status} {self.error})"


class NotOverHttp(RuntimeError):
    def __init__(self, operation: str):
        super().__init__(f"`dqa {operation}` works on a store folder, not over --url: run it where "
                         "the store is (stop the service first, or use its --store)")


class RemoteService:
    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 120.0):
        headers = {"X-API-Key": api_key} if api_key else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)
        self.llm_enabled = True       # the service decides; requests just don't force it off

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise RemoteError(0, "unreachable", f"cannot reach {self.http.base_url}: {error}") from None
        _raise_for_error(response)
        return response

    def ask(self, question: str, lang: str | None = None, history: list[Turn] | None = None,
            top_k: int | None = None, use_llm: bool | None = None) -> Answer:
        body = {"question": question, "lang": lang, "top_k": top_k, "llm": use_llm,
                "history": [t.model_dump() for t in history or []]}
        return Answer.model_validate(self._call("POST", "/v1/ask", json=body).json())

    def search(self, query: str, top_k: int = 10) -> list[Hit]:
        data = self._call("GET", "/v1/search", params={"q": query, "top_k": top_k}).json()
        return [Hit.model_validate(h) for h in data["hits"]]

    def summaries(self) -> list[DocumentSummary]:
        return [DocumentSummary.model_validate(d) for d in self._call("GET", "/v1/documents").json()]

    def describe(self, number: str) -> dict:
        return self._call("GET", f"/v1/documents/{_quote(number)}").json()

    def clause(self, clause_id: str) -> Clause:
        return Clause.model_validate(self._call("GET", f"/v1/clauses/{_quote(clause_id)}").json())

    def ingest_paths(self, paths: list[Path], manifest: Path | None = None,
                     on_file: Callable[[Path], None] | None = None,
                     on_document=None) -> list[FileReport]:
        if manifest is not None:
            raise NotOverHttp("ingest --manifest")
        files, reports = collect_files(paths)
        for path in files:
            if on_file:
                on_file(path)
            try:
                with path.open("rb") as handle:
                    response = self._call("POST", "/v1/documents", files={"file": (path.name, handle)})
                reports.extend(FileReport.model_validate(r) for r in response.json())
            except RemoteError as error:
                reports.append(FileReport(file=str(path), status="error", error=error.detail))
        return reports

    def remove(self, number: str) -> tuple[str, int]:
        data = self._call("DELETE", f"/v1/documents/{_quote(number)}").json()
        return data["deleted"], data["clauses"]

    def draft_rendered(self, request: ArticleRequest, on_progress=None) -> tuple[Article | None, str | bytes]:
        if request.format == "docx":
            response = self._call("POST", "/v1/articles", json=request.model_dump(mode="json"))
            return None, response.content
        payload = None
        # The streamed form carries the server's translation progress; "final" is the article.
        for event, data in self._events("/v1/articles/stream", request.model_dump(mode="json")):
            if event == "progress" and on_progress:
                on_progress(TranslationProgress(**data))
            elif event == "final":
                payload = data
        if payload is None:
            raise RemoteError(502, "the article stream ended before the article")
        rendered = payload.pop("markdown" if request.format == "md" else "html")
        return Article.model_validate(payload), rendered

    def _events(self, path: str, body: dict):
        """(event, data) pairs of a Server-Sent Events response."""
        try:
            with self.http.stream("POST", path, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_error(response)
                yield from _sse_pairs(response.iter_lines())
        except httpx.HTTPError as error:
            raise RemoteError(0, "unreachable", f"cannot reach {self.http.base_url}: {error}") from None


def _sse_pairs(lines):
    """(event, data) pairs from the lines of a Server-Sent Events body (data is JSON here)."""
    event, data = "message", []
    for line in lines:
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
        elif not line.strip() and data:
            yield event, json.loads("\n".join(data))
            event, data = "message", []
    if data:
        yield event, json.loads("\n".join(data))


def _raise_for_error(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
        error, detail = body.get("error", "http_error"), body.get("detail", response.text)
    except ValueError:
        error, detail = "http_error", response.text[:300]
    raise RemoteError(response.status_code, error, detail)

    def close(self) -> None:
        self.http.close()


def _quote(value: str) -> str:
    """Percent-encode each path segment ('#' → %23) and keep the '/' of document numbers."""
    return "/".join(quote(part, safe="") for part in value.split("/"))
