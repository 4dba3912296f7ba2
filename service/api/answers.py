"""Answers: ask, ask with streaming (SSE), search."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from service import observability
from service.api.deps import clean_text, read_access, runtime
from service.api.errors import ApiError
from service.runtime import Runtime
from service.schemas import Answer, AskRequest, SearchResponse

router = APIRouter(tags=["answers"], dependencies=[Depends(read_access)])


@router.post("/v1/ask", response_model=Answer)
def ask(body: AskRequest, rt: Runtime = Depends(runtime)) -> Answer:
    answer = rt.ask(body.question, body.lang, body.history, body.top_k, body.llm)
    observability.record_answer(answer)
    return answer


@router.post("/v1/ask/stream", response_class=EventSourceResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "Server-Sent Events: evidence, token*, final"}})
def ask_stream(body: AskRequest, rt: Runtime = Depends(runtime)) -> EventSourceResponse:
    def events():
        for item in rt.ask_stream(body.question, body.lang, body.history, body.top_k, body.llm):
            if item.event == "final":
                observability.record_answer(Answer.model_validate(item.data))
            yield ServerSentEvent(data=json.dumps(item.data, ensure_ascii=False), event=item.event,
                                  sep="\n")

    # sse-starlette runs the synchronous generator in a worker thread.
    return EventSourceResponse(events(), sep="\n",
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/v1/search", response_model=SearchResponse)
def search(q: str = Query(min_length=1, max_length=2000),
           top_k: int = Query(default=10, ge=1, le=50), rt: Runtime = Depends(runtime)) -> SearchResponse:
    cleaned = clean_text(q)
    if not cleaned.strip():
        raise ApiError(422, "invalid_request", "q is empty or only whitespace/control characters")
    return SearchResponse(query=cleaned, hits=rt.search(cleaned, top_k))
