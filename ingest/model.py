"""The domain model: one parsed directive that every stage reads and extends.

Ingestion produces `Document`s; indexing, retrieval, answering, the API, the
evaluation harness and the widget all speak in these terms.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = 1


class Repair(BaseModel):
    """One layout repair: what raw span became what repaired text."""

    kind: Literal[
        "join_split", "newline_to_space", "paragraph_break", "respace_word",
        "strip_boilerplate", "strip_trailing_space", "nfc", "encoding",
        "strip_page_furniture", "strip_front_matter",
    ]
    raw_start: int
    raw_end: int
    after: str = ""


class RepairStats(BaseModel):
    split_joins: int = 0          # newlines removed inside a word, digit run or code
    wrap_spaces: int = 0          # hard wraps turned into a space
    paragraph_breaks: int = 0
    respaced_words: int = 0       # run-together words split by the dictionary
    boilerplate_lines: int = 0
    furniture_lines: int = 0      # page headers, page numbers, rules, e-signature stamps
    nfc_changes: int = 0
    encoding: str = "utf-8"
    converted_from: str | None = None   # legacy encoding that was converted, if any


class Source(BaseModel):
    file: str
    sha256: str
    raw_text: str
    repaired_text: str
    # offset_map[i] = raw offset of repaired_text[i]; len == len(repaired_text) + 1
    offset_map: list[int] = Field(default_factory=list, repr=False)
    stats: RepairStats = Field(default_factory=RepairStats)
    repairs: list[Repair] = Field(default_factory=list, repr=False)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a repaired-text span back to the raw text."""
        if not self.offset_map:
            return (start, end)
        end_raw = self.offset_map[end - 1] + 1 if end > start else self.offset_map[start]
        return (self.offset_map[start], end_raw)


class Signer(BaseModel):
    name: str
    capacity: str                 # e.g. "KT. TỔNG GIÁM ĐỐC / PHÓ TỔNG GIÁM ĐỐC"
    authority: Literal["KT.", "TL.", "TM.", "TUQ.", "Q."] | None = None


class Reference(BaseModel):
    """A document cited in the text of another."""

    number: str                   # normalised, e.g. "968/CĐ-TTg"
    kind: str | None = None       # "Công điện"
    issued: date | None = None
    citing_clause: str | None = None   # clause path in the citing document
    mention: str = ""             # the words as written


class Deadline(BaseModel):
    text: str                     # "trước ngày 20/5/2022"
    date: date


class Clause(BaseModel):
    id: str                       # "<number>#<path>"
    doc: str                      # document number (or provisional id)
    # "2.a", "5.-1", "preamble", "closing", "p1", "header" (header + signature block text),
    # "ch2.art5.3.b", "annex.ch1.art4" (a promulgated Quy chế), "appendix1", "I.1.a", "1.1.a"
    path: str
    marker: str = ""              # the marker as written: "a)", "2.", "-"
    label_vi: str
    label_en: str
    text: str                     # verbatim repaired text, marker included
    span: tuple[int, int]         # in Source.repaired_text
    raw_span: tuple[int, int]     # in Source.raw_text
    parent: str | None = None     # parent path
    children: list[str] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    deadlines: list[Deadline] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)   # numbers cited in this clause
    # The clause in English, aligned by path from an English version of the same document.
    text_en: str | None = None
    translation_source: Literal["official", "commentary", "machine"] | None = None

    @property
    def depth(self) -> int:
        return 0 if self.parent is None else self.path.count(".") + 1


class IdentityEvidence(BaseModel):
    """Why a headerless document carries the number it does."""

    method: Literal["header", "manifest", "inferred", "provisional", "filename"]
    source: str | None = None     # manifest path or commentary file
    signals: list[str] = Field(default_factory=list)
    confidence: float = 1.0


class Alignment(BaseModel):
    """A commentary paragraph aligned to the clause it paraphrases."""

    paragraph: int
    text: str
    clause_id: str
    score: float


class Commentary(BaseModel):
    """A secondary source (e.g. a LawNet-style article) about a directive."""

    id: str
    title: str
    language: str
    discusses: str | None = None  # document number it describes
    described_date: date | None = None
    paragraphs: list[str] = Field(default_factory=list)
    alignments: list[Alignment] = Field(default_factory=list)
    source_file: str = ""


class Document(BaseModel):
    number: str                   # normalised "1869/BHXH-BT", or provisional "draft-<hash>"
    provisional: bool = False
    kind: str | None = None       # Công văn, Công điện, Quyết định, ...
    issuer: str | None = None
    parent_issuer: str | None = None
    place: str | None = None
    issued: date | None = None
    issued_partial: str | None = None   # "2022-04" when the header's day (or month) is unreadable
    subject: str | None = None
    recipients: list[str] = Field(default_factory=list)
    signer: Signer | None = None
    cc: list[str] = Field(default_factory=list)
    language: str = "vi"
    references: list[Reference] = Field(default_factory=list)
    clauses: list[Clause] = Field(default_factory=list)
    identity: IdentityEvidence = Field(default_factory=lambda: IdentityEvidence(method="header"))
    site_metadata: dict[str, str] = Field(default_factory=dict)   # a site's table: evidence
    translations: list[str] = Field(default_factory=list)         # files of official English versions
    warnings: list[str] = Field(default_factory=list)
    source: Source

    def clause(self, path: str) -> Clause:
        for clause in self.clauses:
            if clause.path == path:
                return clause
        raise KeyError(path)

    @property
    def content_hash(self) -> str:
        return self.source.sha256


class Citation(BaseModel):
    """A clause ID plus everything a reader needs to see it."""

    n: int                        # marker number in the answer text: [n]
    id: str
    doc: str
    path: str
    label: str                    # in the answer's language
    quote: str                    # verbatim span of the clause text
    issued: date | None = None
    kind: str | None = None
    translation: str | None = None          # English rendering, when shown
    translation_source: Literal["official", "commentary", "machine", None] = None
