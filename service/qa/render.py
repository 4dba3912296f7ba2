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
from ingest.vocab import MONTHS_EN, kind_en

_MONTHS_EN = [name.capitalize() for name in MONTHS_EN]


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
    for english, vietnamese in list(merged.items()):
        for form in inflections(english):
            merged.setdefault(form, vietnamese)
    return merged


def inflections(term: str) -> list[str]:
    """The forms a question may use of a lexicon term besides its plural: the last word's past
    and -ing forms ("replace" → "replaced", "replacing"; "repeal" → "repealed") and the British
    spelling of -ize words ("demobilized soldier" → "demobilised soldier"). Forms that are not
    words ("decisioned") never occur in a question, so they cost nothing."""
    head, _, last = term.rpartition(" ")
    prefix = f"{head} " if head else ""
    if last.endswith("e"):
        forms = [last + "d", last[:-1] + "ing"]
    elif last.endswith("y") and len(last) > 2 and last[-2] not in "aeiou":
        forms = [last[:-1] + "ied", last + "ing"]
    else:
        forms = [last + "ed", last + "ing"]
    found = [prefix + form for form in forms]
    if "iz" in term:
        found += [variant.replace("iz", "is") for variant in [term, *found]]
    return found


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
    marker = clause.marker
    if not marker or not clause.text.startswith(marker):
        return clause.text.strip()
    rest = clause.text[len(marker):]
    if rest and marker[-1].isalnum() and rest[0].isalnum():
        return clause.text.strip()      # a marker that ends inside a word is a title, not a marker
    return rest.strip()


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


# A date is a deadline only where the clause sets one. "tính đến (hết) ngày" (as of) and "từ
# ngày" / "kể từ ngày" (from) are not deadlines, whatever the parser's pattern caught.
_DEADLINE_LEAD = re.compile(
    r"(?:trước ngày|trước|chậm nhất(?: là)?(?: vào| trước)?(?: ngày)?|hạn chót(?: là)?(?: ngày)?|"
    r"không muộn hơn(?: ngày)?|hoàn thành trước(?: ngày)?|before|no later than|not later than|by)\s*$",
    re.IGNORECASE)
_NOT_DEADLINE_LEAD = re.compile(r"(?:tính đến|tính tới|kể từ|từ|đến|tới|as of|from|since|until)"
                                r"(?:\s+hết)?(?:\s+ngày)?\s*$", re.IGNORECASE)
_DMY = re.compile(r"(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})|"
                  r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)
_DATE_RELATION_EN = [
    (re.compile(r"(?:tính đến|tính tới)(?:\s+hết)?(?:\s+ngày)?\s*$", re.IGNORECASE), "as of"),
    (re.compile(r"(?:kể từ|từ)(?:\s+ngày)?\s*$", re.IGNORECASE), "from"),
]
# What a figure measures, when the words just before it name it (Vietnamese → English).
_MEASURES = [
    ("tỷ lệ chậm đóng", "late-payment rate"), ("tỷ lệ", "rate"), ("tăng trưởng", "growth"),
    ("mức hỗ trợ", "support level"), ("mức chi", "spending level"), ("mức đóng", "contribution rate"),
    ("mức trợ cấp", "allowance"), ("mức quà", "gift value"), ("số tiền", "amount"),
    ("kinh phí", "funding"), ("chỉ tiêu", "target"), ("suy giảm khả năng lao động", "working-capacity loss"),
]
_FIGURE = re.compile(r"(?<![\d/.,])(\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?)\s?"
                     r"(%|đồng(?:/(?:đơn vị|[\wđ]+))*|triệu đồng|tỷ đồng|giờ|ngày|tháng|năm|người|hộ|km)(?!\w)")
_UNITS_EN = {"%": "%", "đồng": "VND", "triệu đồng": "million VND", "tỷ đồng": "billion VND",
             "giờ": "hours", "ngày": "days", "tháng": "months", "năm": "years", "người": "people",
             "hộ": "households", "km": "km"}


_PER_EN = {"người": "person", "lần": "occasion", "tháng": "month", "năm": "year", "đơn vị": "unit",
           "hộ": "household", "ngày": "day", "giờ": "hour", "suất": "allocation", "thẻ": "card"}


def _date_at(m: re.Match[str]) -> date | None:
    groups = [g for g in m.groups() if g]
    try:
        day, month, year = (int(g) for g in groups[:3])
        return date(year, month, day)
    except ValueError:
        return None


def clause_deadlines(clause: Clause) -> list[date]:
    """The dates the clause sets as deadlines: those written right after "trước (ngày)",
    "chậm nhất", "hoàn thành trước", "before", "no later than"… and not after "tính đến",
    "từ ngày", "kể từ"."""
    found: list[date] = []
    text = clause.text
    for m in _DMY.finditer(text):
        lead = text[max(0, m.start() - 40): m.start()]
        value = _date_at(m)
        if value is None or value in found:
            continue
        if _DEADLINE_LEAD.search(lead) and not _NOT_DEADLINE_LEAD.search(lead):
            found.append(value)
    for deadline in clause.deadlines:        # English-worded deadlines the parser read
        lead_ok = re.match(r"(?:before|no later than|not later than|by)\b", deadline.text, re.I)
        if lead_ok and deadline.date not in found:
            found.append(deadline.date)
    return found


def _figures(text: str) -> list[str]:
    """Figures with their unit and what they measure, when the words before them say; the others
    are left out (a bare "5,8%" tells an English reader nothing true)."""
    out: list[str] = []
    low = text.lower()
    for m in _FIGURE.finditer(text):
        unit = m.group(2)
        before = low[max(0, m.start() - 60): m.start()]
        measure = None
        best = -1
        for vi, en in _MEASURES:
            at = before.rfind(vi)
            if at > best:
                best, measure = at, en
        if measure is None or best < 0:
            continue
        if re.search(r"\d", before[best:]):      # another figure stands between: not this one's
            continue
        number = m.group(1)
        if unit == "%" or unit.startswith(("đồng", "triệu", "tỷ")):
            number = number.replace(".", ",") if "." in number else number.replace(",", ".")
        head = unit.split("/")[0]
        unit_en = _UNITS_EN.get(head, head)
        per = "".join(f" per {_PER_EN.get(p, p)}" for p in unit.split("/")[1:])
        if any(p not in _PER_EN for p in unit.split("/")[1:]):
            continue                                  # a unit with no English: left out
        value = f"{number}%" if unit == "%" else f"{number} {unit_en}{per}"
        entry = f"{measure} {value}"
        if entry not in out:
            out.append(entry)
    return out[:5]


def _gist_actors(clause: Clause) -> list[str]:
    """Addressed actors whose name is written out in the clause: a bare head word ("Văn phòng")
    followed by another capitalised name ("Văn phòng Chính phủ") names a different body."""
    body = strip_marker(clause)[:200]
    kept = []
    for actor in actor_table():
        if actor.vi not in addressed_actors(clause):
            continue
        for pattern in actor.patterns:
            m = pattern.search(body)
            if m and not re.match(r"\s+[A-ZĐÂĂÊÔƠƯÁÀẢÃẠÉÈẺẼẸÍÌỈĨỊÓÒỎÕỌÚÙỦŨỤÝỲỶỸỴ]", body[m.end():]):
                kept.append(actor.vi)
                break
    return kept


def english_gist(clause: Clause) -> str:
    """An English account built only from what the parser extracted and the glossary: actors,
    deadlines the clause sets, cited documents, figures with what they measure, and domain terms.
    No model involved, nothing invented: what cannot be said truly is left out."""
    parts = []
    actors = _gist_actors(clause)
    names = {a.vi: a.en for a in actor_table()}
    if actors:
        parts.append("Addressed to " + ", ".join(f"{names.get(a, a)} (“{a}”)" for a in actors[:3]) + ".")
    deadlines = clause_deadlines(clause)
    for value in deadlines:
        parts.append(f"Deadline: {format_date(value, 'en')} ({numeric_date(value)}).")
    if clause.references:
        parts.append("Cites " + ", ".join(clause.references[:4]) + ".")
    figures = _figures(clause.text)
    if figures:
        parts.append("Figures: " + "; ".join(figures) + ".")
    other_dates: list[tuple[str, date]] = []
    for m in _DMY.finditer(clause.text):
        value = _date_at(m)
        if value is None or value in deadlines or any(value == d for _, d in other_dates):
            continue
        lead = clause.text[max(0, m.start() - 40): m.start()]
        relation = next((en for pattern, en in _DATE_RELATION_EN if pattern.search(lead)), "")
        other_dates.append((relation, value))
    if other_dates:
        parts.append("Dates: " + ", ".join(
            f"{relation + ' ' if relation else ''}{format_date(d, 'en')} ({numeric_date(d)})"
            for relation, d in other_dates[:3]) + ".")
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
