"""Commentary articles (LawNet-style Q&A about a directive): secondary sources.

They are parsed for what they say about a directive (its number, date, cited documents),
used to identify headerless directives, and aligned paragraph-by-clause so their English
can render clauses. They are never cited as the directive itself.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

from ingest.model import Alignment, Commentary, Document, IdentityEvidence
from ingest.parse import NUMBER_RE, detect_language, normalise_number
from ingest.repair import boilerplate_patterns
import unicodedata

_ASCII_CODES = {"CD": "CĐ", "ND": "NĐ", "QD": "QĐ", "DD": "ĐĐ"}
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_EN_DATE_RE = re.compile(rf"(?:({_MONTHS})\s+(\d{{1,2}}),\s*(\d{{4}})|(\d{{1,2}})\s+({_MONTHS})\s+(\d{{4}}))")
_KIND_EN = r"(?:Official Dispatch|Official Letter|Dispatch|Decision|Plan|Notice|Directive|Official Telegram)"


def restore_diacritics(number: str) -> str:
    """English sites write 968/CD-TTg for 968/CĐ-TTg."""
    parts = re.split(r"([/\-])", number)
    return "".join(_ASCII_CODES.get(p, p) for p in parts)


def looks_like_commentary(text: str) -> bool:
    """An English (or Vietnamese Q&A) article about a directive rather than the directive."""
    if detect_language(text) == "en":
        return True
    return bool(re.search(r"(xin được trả lời|giải đáp như sau|trả lời như sau)", text[:2000]))


def _parse_en_date(match: re.Match[str]) -> date | None:
    month, day, year = (match.group(1), match.group(2), match.group(3)) if match.group(1) \
        else (match.group(5), match.group(4), match.group(6))
    try:
        return datetime.strptime(f"{day} {month} {year}", "%d %B %Y").date()
    except ValueError:
        return None


def parse_commentary(raw: str, file: str) -> Commentary:
    # Articles are one paragraph per line already; only site chrome needs removing.
    patterns = boilerplate_patterns()
    paragraphs = [line.strip() for line in unicodedata.normalize("NFC", raw).splitlines()
                  if line.strip() and not any(p.match(line.strip()) for p in patterns)]
    text = "\n".join(paragraphs)
    numbers = [restore_diacritics(normalise_number(m.group(0))) for m in NUMBER_RE.finditer(text)]
    counts: dict[str, int] = {}
    for number in numbers:
        counts[number] = counts.get(number, 0) + 1
    # The article's subject: the number named in an "issued ... N" or "details ... N" sentence,
    # else the most frequent one.
    discusses = None
    described = None
    for para in paragraphs:
        m = re.search(rf"(?:issued|details[^.]*?in|ban hành)\s+{_KIND_EN}?\s*({NUMBER_RE.pattern})", para)
        if m:
            discusses = restore_diacritics(normalise_number(m.group(1)))
            dm = _EN_DATE_RE.search(para)
            described = _parse_en_date(dm) if dm else None
            break
    if discusses is None and counts:
        discusses = max(counts, key=counts.get)
    return Commentary(
        id="commentary-" + hashlib.sha256(raw.encode()).hexdigest()[:10],
        title=paragraphs[0] if paragraphs else file, language=detect_language(text),
        discusses=discusses, described_date=described, paragraphs=paragraphs, source_file=file)


def cited_numbers(commentary: Commentary) -> set[str]:
    text = "\n".join(commentary.paragraphs)
    return {restore_diacritics(normalise_number(m.group(0))) for m in NUMBER_RE.finditer(text)}


def match_identity(document: Document, commentary: Commentary) -> IdentityEvidence | None:
    """Evidence that a headerless `document` is the one `commentary` describes."""
    if not commentary.discusses:
        return None
    theirs = cited_numbers(commentary) - {commentary.discusses}
    ours = {ref.number for ref in document.references}
    if not theirs or not ours:
        return None
    shared = theirs & ours
    overlap = len(shared) / len(theirs | ours)
    signals = [f"cites the same documents: {', '.join(sorted(shared))} "
               f"({len(shared)} of {len(theirs | ours)})"]
    score = overlap
    if commentary.described_date:
        latest = max((ref.issued for ref in document.references if ref.issued), default=None)
        body_dates = _body_dates(document)
        newest = max([d for d in [latest, *body_dates] if d], default=None)
        if newest and newest <= commentary.described_date:
            signals.append(f"every date in the text ({newest.isoformat()} latest) precedes "
                           f"{commentary.described_date.isoformat()}")
            score += 0.2
        elif newest:
            signals.append(f"text mentions {newest.isoformat()}, after the described date")
            score -= 0.5
    aligned = align(document, commentary)
    if aligned:
        signals.append(f"{len(aligned)} commentary paragraphs align with clauses")
        score += min(0.2, 0.04 * len(aligned))
    confidence = round(max(0.0, min(1.0, score)), 2)
    if confidence < 0.5 or len(shared) < 2:
        return None
    return IdentityEvidence(method="inferred", source=commentary.source_file, signals=signals,
                            confidence=confidence)


def _body_dates(document: Document) -> list[date]:
    found = []
    for m in re.finditer(r"(\d{1,2})/(\d{1,2})/(\d{4})", document.source.repaired_text):
        try:
            found.append(date(int(m.group(3)), int(m.group(2)), int(m.group(1))))
        except ValueError:
            pass
    return found


def align(document: Document, commentary: Commentary) -> list[Alignment]:
    """Structural alignment: "(n)" paragraphs → clause n; the "- " bullets after it → its points.

    Follow-on paragraphs without a marker stay with the clause before them.
    """
    paths = {c.path for c in document.clauses}
    alignments: list[Alignment] = []
    current_clause = None
    children: list[str] = []
    bullet_index = 0
    for index, para in enumerate(commentary.paragraphs):
        numbered = re.match(r"^\((\d+)\)\s*", para) or re.match(r"^(\d+)\.\s+", para)
        if numbered and numbered.group(1) in paths:
            current_clause = numbered.group(1)
            children = document.clause(current_clause).children
            bullet_index = 0
            alignments.append(Alignment(paragraph=index, text=para, clause_id=f"{document.number}#"
                                        f"{current_clause}", score=1.0))
            continue
        if current_clause is None:
            continue
        if re.match(r"^[-–•]\s+", para) and bullet_index < len(children):
            target = children[bullet_index]
            bullet_index += 1
            alignments.append(Alignment(paragraph=index, text=para.lstrip("-–• "),
                                        clause_id=f"{document.number}#{target}", score=0.9))
        elif re.match(r"^(More details|Full details|Chi tiết|Xem chi tiết)", para):
            break
        elif alignments and not re.match(r"^[-–•]", para):
            last = alignments[-1]
            alignments.append(Alignment(paragraph=index, text=para, clause_id=last.clause_id,
                                        score=0.8))
    return alignments


def english_rendering(alignments: list[Alignment], clause_id: str) -> str | None:
    parts = [a.text for a in alignments if a.clause_id == clause_id]
    if not parts:
        return None
    return re.sub(r"^\(\d+\)\s*", "", "\n".join(parts))
