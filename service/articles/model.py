"""The article's public shape: request, paragraphs, and the article with its citations."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ingest.model import Citation

Lang = Literal["vi", "en"]
ParagraphKind = Literal["title", "asker", "opener", "document", "purpose", "actor_heading",
                        "item", "closing"]


class ArticleRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    documents: list[str] = Field(default_factory=list)     # document numbers, full or bare
    lang: Lang = "vi"
    format: Literal["md", "html", "docx"] = "md"
    asker: str | None = None


class ArticleParagraph(BaseModel):
    kind: ParagraphKind
    text: str
    citations: list[str] = Field(default_factory=list)   # clause IDs, or a document number
    machine_translated: bool = False
    untranslated: bool = False       # English gist + the Vietnamese text (no rendering yet)
    level: int = 0                   # 1 for a point listed under its clause's item


class Article(BaseModel):
    title: str
    lang: Lang
    documents: list[str] = Field(default_factory=list)
    paragraphs: list[ArticleParagraph] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    # Clause IDs the drafting selected from the documents as the article's evidence (the clauses
    # addressed to the asked-about body, directly or through a parent, plus those addressed to
    # every recipient; all operative clauses when the question names no body). Every citation
    # is one of these or a document number.
    selected: list[str] = Field(default_factory=list)
    # The body the question asks about, as the question words it ("Giám đốc BHXH tỉnh"), when
    # one was recognised and found addressed in the directive.
    addressee: str | None = None

    def marker(self, cited_id: str) -> int | None:
        for citation in self.citations:
            if citation.id == cited_id:
                return citation.n
        return None
