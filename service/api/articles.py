"""Article drafting: JSON (md/html) or a DOCX file, or streamed with translation progress."""
from __future__ import annotations

import json

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from service.api.deps import clean_text, read_access, runtime
from service.api.errors import ApiError
from service.articles import ArticleRequest, render
from service.runtime import Runtime

router = APIRouter(tags=["articles"], dependencies=[Depends(read_access)])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def cleaned(body: ArticleRequest) -> ArticleRequest:
    question = clean_text(body.question)
    if not question.strip():
        raise ApiError(422, "invalid_request", "question is empty or only whitespace/control characters")
    return body.model_copy(update={
        "question": question, "documents": [clean_text(d) for d in body.documents],
        "asker": clean_text(body.asker) if body.asker is not None else None})


@router.post("/v1/articles", responses={200: {"description": "JSON article (md/html) or a DOCX file",
                                              "content": {"application/json": {}, DOCX: {}}}})
def draft(body: ArticleRequest, rt: Runtime = Depends(runtime)):
    body = cleaned(body)
    article = rt.draft(body)
    rendered = render(article, body.format)
    if body.format == "docx":
        return Response(rendered, media_type=DOCX,
                        headers={"Content-Disposition": 'attachment; filename="article.docx"'})
    payload = article.model_dump(mode="json")
    payload["markdown" if body.format == "md" else "html"] = rendered
    return JSONResponse(payload)


@router.post("/v1/articles/stream", response_class=EventSourceResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "Server-Sent Events: progress* (clauses machine-translated "
                                             "for an English draft), final (the article, md or html)"}})
def draft_stream(body: ArticleRequest, rt: Runtime = Depends(runtime)) -> EventSourceResponse:
    body = cleaned(body)
    if body.format == "docx":
        raise ApiError(422, "invalid_request", "a DOCX article is a file: POST /v1/articles for it")
    # Checked before the stream starts, so a missing document is a 404, not a broken stream.
    for number in body.documents:
        rt.document(number)

    def events():
        for item in rt.draft_events(body):
            yield ServerSentEvent(data=json.dumps(item.data, ensure_ascii=False), event=item.event, sep="\n")

    return EventSourceResponse(events(), sep="\n",
                               headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
