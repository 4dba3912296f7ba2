"""Public contract of the API (and of `dqa --json`): answers, search hits, documents."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ingest.model import Citation, Document

Lang = Literal["vi", "en"]
MAX_QUESTION_CHARS = 2000


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20000)


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    lang: Lang | None = None
    history: list[Turn] = Field(default_factory=list, max_length=20)
    top_k: int | None = Field(default=None, ge=1, le=50)
    llm: bool | None = None

    @field_validator("question")
    @classmethod
    def question_has_text(cls, value: str) -> str:
        cleaned = "".join(ch for ch in value if ch.isprintable() or ch in "\n\t")
        if not cleaned.strip():
            raise ValueError("question is empty or only whitespace/control characters")
        return cleaned


class Related(BaseModel):
    id: str
    label: str
    quote: str


class Verification(BaseModel):
    composer: Literal["grounded", "llm"] = "grounded"
    checked_sentences: int = 0
    removed_sentences: int = 0
    forged_markers: list[int] = Field(default_factory=list)
    fell_back: bool = False
    note: str = ""


class Answer(BaseModel):
    answer: str                       # markdown with [n] markers
    language: Lang
    refused: bool
    intent: str = "topic"
    citations: list[Citation] = Field(default_factory=list)
    related: list[Related] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)    # numbers the question resolved to
    candidates: list[str] = Field(default_factory=list)   # ambiguous number → choices
    verification: Verification = Field(default_factory=Verification)
    timings: dict[str, float] = Field(default_factory=dict)


class Hit(BaseModel):
    id: str
    doc: str
    path: str
    label_vi: str
    label_en: str
    text: str
    score: float
    kind: str | None = None
    issued: date | None = None


class SearchResponse(BaseModel):
    query: str
    hits: list[Hit]


class DocumentSummary(BaseModel):
    number: str
    kind: str | None
    issued: date | None
    subject: str | None
    clauses: int
    provisional: bool
    identity_method: str

    @classmethod
    def of(cls, document: Document) -> "DocumentSummary":
        return cls(number=document.number, kind=document.kind, issued=document.issued,
                   subject=document.subject, clauses=len(document.clauses),
                   provisional=document.provisional, identity_method=document.identity.method)


class ErrorBody(BaseModel):
    error: str
    detail: str
