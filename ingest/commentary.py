"""Commentary articles (LawNet-style Q&A about a directive): secondary sources.

They are parsed for what they say about a directive (its number, date, cited documents),
used to identify headerless directives, and aligned paragraph-by-clause so their English
can render clauses. They are never cited as the directive itself.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date

import unicodedata

from ingest.model import Alignment, Commentary, Document, IdentityEvidence
from ingest.repair import boilerplate_patterns
from ingest.vocab import (  # noqa: F401  (restore_diacritics is re-exported: its old home)
    EN_DATE_RE, HEADER_NUMBER_RE, NUMBER_RE, date_of_en_match, detect_language, kinds,
    normalise_number, restore_diacritics,
)

_EN_DATE_RE = EN_DATE_RE
_KIND_EN = "(?:" + "|".join(sorted({re.escape(a) for k in kinds() for a in k.en_aliases},
                                   key=len, reverse=True)) + ")"
_PLACE_DATE_EN_LINE = re.compile(rf"^\W*[A-Z][A-Za-z .]{{1,30}},\s*(?:{EN_DATE_RE.pattern})\W*$",
                                 re.MULTILINE)


def directive_header_signals(text: str) -> list[str]:
    """What in the opening of a text marks it as a directive itself (in any language):
    its own number line, a place-and-date line, an addressee line, the national motto."""
    head = unicodedata.normalize("NFC", text[:6000])
    signals = []
    lines = [re.sub(r"\*{1,3}", "", line).strip().strip("|").strip() for line in head.splitlines()]
    cells = [c.strip() for line in head.splitlines() for c in re.sub(r"\*{1,3}", "", line).split("|")]
    if any(HEADER_NUMBER_RE.match(c) and not c.startswith(("Số hiệu", "Official number"))
           for c in lines + cells):
        signals.append("number line")
    if any(_PLACE_DATE_EN_LINE.match(c) for c in lines + cells) or \
            re.search(r"^\W*[A-ZĐ][\w .]{1,30},\s*ngày\s*\d{1,2}\s*tháng", head, re.MULTILINE):
        signals.append("place and date line")
    if re.search(r"^\W*(?:To|Kính gửi)\s*:", head, re.MULTILINE | re.IGNORECASE) or \
            any(re.match(r"^(?:To|Kính gửi)\s*:?$", c) for c in cells):
        signals.append("addressee line")
    if re.search(r"SOCIALIST REPUBLIC OF VIET\s*NAM|CỘNG HÒA XÃ HỘI CHỦ NGHĨA|Independence\s*[-–]\s*Freedom",
                 head, re.IGNORECASE):
        signals.append("national motto")
    return signals


def looks_like_commentary(text: str) -> bool:
    """An article about a directive (LawNet-style, news, Q&A) rather than the directive.

    A text with a directive's own header (number line, place and date, addressees, motto) is
    the directive, in whichever language: an official English version is a directive too.
    """
    if len(directive_header_signals(text)) >= 2:
        return False
    if detect_language(text) == "en":
        return True
    return bool(re.search(r"(xin được trả lời|giải đáp như sau|trả lời như sau)", text[:2000]))


def _parse_en_date(match: re.Match[str]) -> date | None:
    return date_of_en_match(match)


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
