"""How answers and articles put parsed facts into words: titles, dates, labels, English gists.

Shared by the grounded composer (`service.qa.compose`) and article drafting
(`service.articles`), so a document reads the same wherever it is named.
"""
from __future__ import annotations

import re
import textwrap
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.model import Clause, Document
from ingest.parse import actor_table
from ingest.vocab import kind_en

_MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    """English domain term → Vietnamese term (service/data/glossary.yaml)."""
    path = Path(__file__).resolve().parent.parent / "data" / "glossary.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def lexicon() -> dict[str, list[str]]:
    """English term → Vietnamese renderings for matching English questions against Vietnamese
    clauses: the curated glossary plus the general administrative lexicon
    (service/data/lexicon_en_vi.yaml); the glossary wins where both have a term."""
    data = Path(__file__).resolve().parent.parent / "data"
    merged: dict[str, list[str]] = {}
    extra = data / "lexicon_en_vi.yaml"
    if extra.is_file():
        for english, vietnamese in (yaml.safe_load(extra.read_text(encoding="utf-8")) or {}).items():
            values = vietnamese if isinstance(vietnamese, list) else [vietnamese]
            merged[str(english).lower()] = [str(v) for v in values if v]
    for english, vietnamese in glossary().items():
        merged[english.lower()] = [vietnamese]
    return merged


@lru_cache(maxsize=1)
def _lexicon_pattern() -> re.Pattern[str]:
    terms = sorted(lexicon(), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in terms) + r")(?:s|es)?(?!\w)",
                      re.IGNORECASE)


def lexicon_matches(text: str) -> list[re.Match[str]]:
    """Non-overlapping lexicon terms in an English text, longest term first at each place."""
    return list(_lexicon_pattern().finditer(text))


def format_date(value: date | None, lang: str) -> str:
    if value is None:
        return ""
    if lang == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day}/{value.month}/{value.year}"


def numeric_date(value: date) -> str:
    return f"{value.day}/{value.month}/{value.year}"


def verbatim_quote(text: str, limit: int = 400) -> str:
    """A verbatim prefix of the clause, cut at a sentence or word boundary."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(". ", 0, limit), text.rfind("; ", 0, limit))
    if cut < limit // 3:
        cut = text.rfind(" ", 0, limit)
    return text[: cut + 1].rstrip()


def one_line(text: str, limit: int | None = None) -> str:
    """Whitespace collapsed; with a limit, cut at a word boundary with an ellipsis."""
    flat = " ".join(text.split())
    if limit is None or len(flat) <= limit:
        return flat
    return textwrap.shorten(flat, width=limit + 1, placeholder=" …")


def strip_marker(clause: Clause) -> str:
    """The clause text without its item marker ("2.", "a)", "-")."""
    return (clause.text[len(clause.marker):] if clause.marker else clause.text).strip()


def find_line(text: str, needle: str) -> str:
    for line in text.split("\n"):
        if needle in line:
            return line.strip()
    return needle


def doc_title(document: Document, lang: str) -> str:
    """'Official Dispatch 3476/BHXH-TCCB, dated 25 October 2023' / 'Công văn 3476/BHXH-TCCB ngày 25/10/2023'."""
    if lang == "en":
        kind = kind_en(document.kind) or "Document"
        when = f", dated {format_date(document.issued, 'en')}" if document.issued else ""
        return f"{kind} {document.number}{when}"
    when = f" ngày {format_date(document.issued, 'vi')}" if document.issued else ""
    return f"{document.kind or 'Văn bản'} {document.number}{when}"


def clause_label(clause: Clause, lang: str) -> str:
    return clause.label_en if lang == "en" else clause.label_vi


def actor_en(actor_vi: str) -> str:
    return next((a.en for a in actor_table() if a.vi == actor_vi), actor_vi)


def addressed_actors(clause: Clause) -> list[str]:
    """Actors the clause tells to act: named before its verb, not as a partner ("phối hợp với X")."""
    body = strip_marker(clause)[:160]
    addressed = []
    for actor in actor_table():
        if actor.vi not in clause.actors:
            continue
        for pattern in actor.patterns:
            m = pattern.search(body)
            if m and m.start() < 90 and not re.search(r"(phối hợp với|với|và)\s*$", body[:m.start()]):
                addressed.append(actor.vi)
                break
    return addressed


def english_gist(clause: Clause) -> str:
    """An English account built only from what the parser extracted and the glossary: actors,
    deadlines, cited documents and domain terms. No model involved, nothing invented."""
    parts = []
    actors = addressed_actors(clause) or clause.actors
    names = {a.vi: a.en for a in actor_table()}
    if actors:
        parts.append("Addressed to " + ", ".join(f"{names.get(a, a)} (“{a}”)" for a in actors[:3]) + ".")
    for deadline in clause.deadlines:
        parts.append(f"Deadline: {format_date(deadline.date, 'en')} ({numeric_date(deadline.date)}).")
    if clause.references:
        parts.append("Cites " + ", ".join(clause.references[:4]) + ".")
    figures = list(dict.fromkeys(re.findall(r"\d+(?:[.,]\d+)?\s?%", clause.text)))[:5]
    if figures:
        parts.append("Figures: " + ", ".join(figures) + ".")
    deadline_days = {d.date for d in clause.deadlines}
    other_dates = []
    for m in re.finditer(r"(\d{1,2})/(\d{1,2})/(\d{4})", clause.text):
        try:
            value = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            continue
        if value not in deadline_days and value not in other_dates:
            other_dates.append(value)
    if other_dates:
        parts.append("Dates: " + ", ".join(f"{format_date(d, 'en')} ({numeric_date(d)})"
                                          for d in other_dates[:3]) + ".")
    low = clause.text.lower()
    seen_vi: set[str] = set()
    terms = []
    for en, vi in glossary().items():
        if vi.lower() in low and len(vi) > 6 and vi.lower() not in seen_vi:
            seen_vi.add(vi.lower())
            terms.append(en)
    terms = terms[:6]
    if terms:
        parts.append("Deals with: " + ", ".join(dict.fromkeys(terms)) + ".")
    return " ".join(parts) or "No English rendering is available yet."


_TITLES_EN = [("PHÓ TỔNG GIÁM ĐỐC", "Deputy General Director"), ("TỔNG GIÁM ĐỐC", "General Director"),
              ("PHÓ GIÁM ĐỐC", "Deputy Director"), ("GIÁM ĐỐC", "Director"),
              ("PHÓ VỤ TRƯỞNG", "Deputy Director-General"), ("VỤ TRƯỞNG", "Director-General"),
              ("CHỦ TỊCH", "Chairperson"), ("THỦ TƯỚNG", "Prime Minister")]
_AUTHORITY_EN = {"KT.": "signing for the", "TL.": "by order of the", "TM.": "on behalf of the",
                 "TUQ.": "by authorisation of the"}


def capacity_en(capacity: str) -> str:
    """'KT. TỔNG GIÁM ĐỐC / PHÓ TỔNG GIÁM ĐỐC' → 'Deputy General Director, signing for the General Director'."""
    def title(text: str) -> str:
        for vi, en in _TITLES_EN:
            if text.strip().startswith(vi):
                return en + text.strip()[len(vi):].title()
        return text.strip().title()

    m = re.match(r"^(KT\.|TL\.|TM\.|TUQ\.)\s*(.*)$", capacity)
    if not m:
        return title(capacity)
    principal, _, own = m.group(2).partition(" / ")
    own_title = title(own) if own else "signatory"
    return f"{own_title}, {_AUTHORITY_EN[m.group(1)]} {title(principal)}"
