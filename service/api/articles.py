"""Article drafting: JSON (md/html) or a DOCX file."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from service.api.deps import clean_text, read_access, runtime
from service.api.errors import ApiError
from service.articles import ArticleRequest, render
from service.runtime import Runtime

router = APIRouter(tags=["articles"], dependencies=[Depends(read_access)])
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@router.post("/v1/articles", responses={200: {"description": "JSON article (md/html) or a DOCX file",
                                              "content": {"application/json": {}, DOCX: {}}}})
def draft(body: ArticleRequest, rt: Runtime = Depends(runtime)):
    question = clean_text(body.question)
    if not question.strip():
        raise ApiError(422, "invalid_request", "question is empty or only whitespace/control characters")
    body = body.model_copy(update={
        "question": question, "documents": [clean_text(d) for d in body.documents],
        "asker": clean_text(body.asker) if body.asker is not None else None})
    article = rt.draft(body)
    rendered = render(article, body.format)
    if body.format == "docx":
        return Response(rendered, media_type=DOCX,
                        headers={"Content-Disposition": 'attachment; filename="article.docx"'})
    payload = article.model_dump(mode="json")
    payload["markdown" if body.format == "md" else "html"] = rendered
    return JSONResponse(payload)
