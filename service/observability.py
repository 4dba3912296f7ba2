"""Structured JSON logs with a request ID, and Prometheus metrics at /metrics."""
from __future__ import annotations

import json
import logging
import sys
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REGISTRY = CollectorRegistry()
LATENCY = Histogram("dqa_request_seconds", "Request latency", ["route", "status"], registry=REGISTRY,
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30))
REFUSALS = Counter("dqa_refusals_total", "Answers that said the corpus has no answer", registry=REGISTRY)
ANSWERS = Counter("dqa_answers_total", "Answers returned", ["language", "intent"], registry=REGISTRY)
VERIFY_FAILURES = Counter("dqa_citation_verification_failures_total",
                          "LLM sentences removed by citation verification", registry=REGISTRY)
LLM_TOKENS_PER_SECOND = Histogram("dqa_llm_tokens_per_second", "LLM generation speed",
                                  registry=REGISTRY, buckets=(1, 2, 5, 10, 20, 50, 100))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": round(record.created, 3), "level": record.levelname, "logger": record.name,
                 "msg": record.getMessage()}
        for key in ("request_id", "method", "path", "status", "ms"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)[-2000:]
        return json.dumps(entry, ensure_ascii=False)


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("dqa")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def record_answer(answer) -> None:
    ANSWERS.labels(answer.language, answer.intent).inc()
    if answer.refused:
        REFUSALS.inc()
    if answer.verification.removed_sentences:
        VERIFY_FAILURES.inc(answer.verification.removed_sentences)
    if answer.timings.get("llm_tokens_per_s"):
        LLM_TOKENS_PER_SECOND.observe(answer.timings["llm_tokens_per_s"])


def install(app: FastAPI) -> None:
    configure_logging()
    log = logging.getLogger("dqa.http")

    @app.middleware("http")
    async def request_context(request: Request, call_next):
        request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex[:12]
        request.state.request_id = request_id
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        LATENCY.labels(getattr(route, "path", "unmatched"), str(response.status_code)).observe(elapsed)
        response.headers["X-Request-ID"] = request_id
        # The query string is left out: it may carry user text; keys travel only in headers.
        log.info("request", extra={"request_id": request_id, "method": request.method,
                                   "path": request.url.path, "status": response.status_code,
                                   "ms": round(elapsed * 1000, 1)})
        return response

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(REGISTRY).decode(), media_type=CONTENT_TYPE_LATEST)
