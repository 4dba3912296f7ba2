"""Deterministic checks on LLM output: nothing unverifiable reaches the user.

An answer sentence survives only if it cites a supplied clause and every
number, date and document number in it occurs in the clauses it cites.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from ingest.model import Citation
from ingest.vocab import NUMBER_RE, detect_language, number_key
from service.llm.backends import generate
from service.llm.prompts import prompt_messages

MIN_KEPT_RATIO = 0.5

# ---------------------------------------------------------------- facts

_MARKER_GROUP = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], start=1)}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<![\d/])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d/])"), "ymd"),
    (re.compile(r"(?<![\d/.])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?![\d/])"), "dmy"),
    (re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE), "dmy"),
    (re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE}),?\s+(\d{{4}})", re.IGNORECASE), "dMy"),
    (re.compile(rf"({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})", re.IGNORECASE), "Mdy"),
    (re.compile(r"tháng\s+(\d{1,2})\s*(?:/|năm)\s*(\d{4})", re.IGNORECASE), "my"),
    (re.compile(rf"({_MONTH_RE})\s+(\d{{4}})", re.IGNORECASE), "My"),
    (re.compile(r"(?<![\d/.])(\d{1,2})/(\d{1,2})(?![\d/])"), "dm"),
]
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

Date = tuple[int | None, int | None, int | None]   # (day, month, year)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    return text.replace("đ", "d")


def _normalize_number(token: str) -> str:
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", token):        # 1.000.000 / 1,000,000
        return re.sub(r"[.,]", "", token)
    token = token.replace(",", ".")
    if "." in token:
        token = token.rstrip("0").rstrip(".") or "0"
    return token.lstrip("0") or "0"


def _date_from(kind: str, groups: tuple[str, ...]) -> Date | None:
    g = list(groups)
    if kind == "ymd":
        y, m, d = int(g[0]), int(g[1]), int(g[2])
    elif kind == "dmy":
        d, m, y = int(g[0]), int(g[1]), int(g[2])
    elif kind == "dMy":
        d, m, y = int(g[0]), _MONTHS[g[1].lower()], int(g[2])
    elif kind == "Mdy":
        m, d, y = _MONTHS[g[0].lower()], int(g[1]), int(g[2])
    elif kind == "my":
        d, m, y = None, int(g[0]), int(g[1])
    elif kind == "My":
        d, m, y = None, _MONTHS[g[0].lower()], int(g[1])
    else:   # "dm"
        d, m, y = int(g[0]), int(g[1]), None
    if m is None or not 1 <= m <= 12 or (d is not None and not 1 <= d <= 31):
        return None
    return (d, m, y)


class Facts(BaseModel):
    doc_numbers: set[str] = Field(default_factory=set)
    dates: set[Date] = Field(default_factory=set)
    numbers: set[str] = Field(default_factory=set)       # standalone numbers
    atoms: set[str] = Field(default_factory=set)         # every digit run, incl. inside dates

    def is_empty(self) -> bool:
        return not (self.doc_numbers or self.dates or self.numbers)


def extract_facts(text: str) -> Facts:
    """Document numbers, dates and other numbers in `text` (markers [n] excluded)."""
    text = unicodedata.normalize("NFC", _MARKER_GROUP.sub(" ", text))
    facts = Facts()
    facts.atoms = {_normalize_number(t) for t in _NUMBER.findall(text) + re.findall(r"\d+", text)}
    consumed = list(text)

    def blank(span: tuple[int, int]) -> None:
        for i in range(*span):
            consumed[i] = " "

    for m in NUMBER_RE.finditer(text):          # '968/CĐ-TTg' and '968/CD-TTG' are one number
        facts.doc_numbers.add(number_key(m.group()))
        blank(m.span())
    remaining = "".join(consumed)
    for pattern, kind in _DATE_PATTERNS:
        for m in pattern.finditer(remaining):
            date = _date_from(kind, m.groups())
            if date is not None:
                facts.dates.add(date)
                remaining = remaining[:m.start()] + " " * (m.end() - m.start()) + remaining[m.end():]
    facts.numbers = {_normalize_number(t) for t in _NUMBER.findall(remaining)}
    return facts


def _date_supported(date: Date, known: set[Date]) -> bool:
    d, m, y = date
    for kd, km, ky in known:
        if km != m:
            continue
        if (d is None or kd is None or kd == d) and (y is None or ky is None or ky == y):
            # A partial date is supported only by something at least as specific.
            if (d is not None and kd is None) or (y is not None and ky is None):
                continue
            return True
    return False


def unsupported_facts(claim: Facts, source: Facts) -> list[str]:
    """Facts in `claim` that `source` does not contain, as readable strings."""
    missing = [f"document number {n}" for n in sorted(claim.doc_numbers)
               if n not in source.doc_numbers]
    for date in sorted(claim.dates, key=lambda t: tuple(x or 0 for x in t)):
        if not _date_supported(date, source.dates):
            missing.append("date " + "/".join(str(x) for x in date if x is not None))
    missing += [f"number {n}" for n in sorted(claim.numbers)
                if n not in source.numbers and n not in source.atoms]
    return missing


# ---------------------------------------------------------------- splitting

_BULLET = re.compile(r"^\s*(?:[-*•+–]|\d{1,2}[.)]|[a-zđ][)])\s+")
_BOUNDARY = re.compile(r"[.!?…]+(?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])*(?=\s|$)")
_ABBREVIATIONS = {
    "tp", "kt", "tl", "tm", "tuq", "q", "ts", "ths", "pgs", "gs", "bs", "ubnd", "v/v",
    "e.g", "i.e", "etc", "mr", "mrs", "ms", "dr", "vs", "no", "art", "para", "cl", "st",
}


def _starts_sentence(rest: str) -> bool:
    ch = rest[0]
    return ch.isupper() or ch.isdigit() or ch in "\"'“‘([-•*"


def _split_line(line: str) -> list[str]:
    pieces, start = [], 0
    for m in _BOUNDARY.finditer(line):
        rest = line[m.end():].lstrip()
        if not rest or not _starts_sentence(rest):
            continue
        words = line[start:m.start()].split()
        last = words[-1].strip("([\"'“").casefold() if words else ""
        if m.group() == "." and (last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())):
            continue
        pieces.append(line[start:m.end()].strip())
        start = m.end()
    pieces.append(line[start:].strip())
    return [p for p in pieces if p]


def sentences_of(text: str) -> list[str]:
    """The sentences of `text`, line by line, split where `verify_answer` splits them."""
    return [piece for line in text.splitlines() for piece in _split_line(line)]


class Unit(BaseModel):
    line: int
    prefix: str          # bullet marker, kept for the rebuilt text
    text: str


def split_units(text: str) -> list[Unit]:
    """Sentences and bullet items, in order; marker-only fragments join the previous one."""
    units: list[Unit] = []
    for line_no, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        bullet = _BULLET.match(line)
        prefix = bullet.group().strip() if bullet else ""
        body = line[bullet.end():] if bullet else line
        for i, piece in enumerate(_split_line(body)):
            if not re.search(r"[^\W\d_]", _MARKER_GROUP.sub("", piece)) and units:
                units[-1].text += " " + piece      # "[1]" alone on a line, or "." leftovers
                continue
            units.append(Unit(line=line_no, prefix=prefix if i == 0 else "", text=piece))
    return units


def markers_in(text: str) -> list[int]:
    found: list[int] = []
    for group in _MARKER_GROUP.findall(text):
        for n in re.split(r"\s*[,;]\s*", group):
            if int(n) not in found:
                found.append(int(n))
    return found


def _canonical(text: str) -> str:
    text = _fold(_MARKER_GROUP.sub(" ", text))
    return " ".join(re.findall(r"\w+", text))


def has_degenerate_loop(text: str, n: int = 5, times: int = 3) -> bool:
    """True when some n-word phrase recurs `times` or more: a decoding loop."""
    words = _canonical(text).split()
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        gram = tuple(words[i:i + n])
        seen[gram] = seen.get(gram, 0) + 1
        if seen[gram] >= times:
            return True
    return False


# ---------------------------------------------------------------- verification

class SentenceCheck(BaseModel):
    text: str
    markers: list[int]
    ok: bool
    reason: str | None = None


class Verification(BaseModel):
    kept_text: str
    sentences: list[SentenceCheck]
    n_total: int
    n_kept: int
    forged_markers: list[int]
    passed: bool


def _reference_texts(citations: Sequence[Citation], clause_texts: Mapping[int, str]) -> dict[int, str]:
    """What each marker may vouch for: clause text plus its doc number and label/path."""
    refs: dict[int, str] = {n: t for n, t in clause_texts.items()}
    for c in citations:
        refs[c.n] = "\n".join(x for x in (refs.get(c.n, ""), c.quote, c.doc, c.path, c.label) if x)
    return refs


# Scripts that never belong in a Vietnamese or English answer (a small model's stray tokens).
_FOREIGN_SCRIPT = re.compile(
    r"[\u0400-\u04FF\u0590-\u06FF\u0E00-\u0E7F\u3040-\u30FF\u3400-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF]")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|\([^()]*\)")


def _wrong_language(text: str, language: str) -> bool:
    """The sentence, quotes and parentheses aside, reads as the other language."""
    body = _QUOTED.sub(" ", _MARKER_GROUP.sub(" ", text))
    if len(re.findall(r"[^\W\d_]+", body)) < 4:
        return False
    return detect_language(body) != language


def verify_answer(
    text: str,
    citations: Sequence[Citation],
    clause_texts: Mapping[int, str],
    min_kept_ratio: float = MIN_KEPT_RATIO,
    language: str | None = None,
) -> Verification:
    """Check every sentence of `text`; `language` ('vi'/'en'), when given, is the one the
    answer must be written in."""
    refs = _reference_texts(citations, clause_texts)
    ref_facts = {n: extract_facts(t) for n, t in refs.items()}
    units = split_units(text)
    checks: list[SentenceCheck] = []
    forged: list[int] = []
    seen: set[str] = set()
    kept_by_line: dict[int, list[str]] = {}
    prefixes: dict[int, str] = {}

    for unit in units:
        markers = markers_in(unit.text)
        bad = [n for n in markers if n not in refs]
        forged += [n for n in bad if n not in forged]
        canonical = _canonical(unit.text)
        reason = None
        if canonical in seen:
            reason = "repeated sentence"
        elif has_degenerate_loop(unit.text):
            reason = "degenerate repetition"
        elif _FOREIGN_SCRIPT.search(unit.text):
            reason = "foreign script"
        elif language and _wrong_language(unit.text, language):
            reason = "not in " + ("English" if language == "en" else "Vietnamese")
        elif not markers:
            reason = "no citation marker"
        elif bad:
            reason = "forged marker " + ", ".join(f"[{n}]" for n in bad)
        else:
            source = Facts()
            for n in markers:
                f = ref_facts[n]
                source.doc_numbers |= f.doc_numbers
                source.dates |= f.dates
                source.numbers |= f.numbers
                source.atoms |= f.atoms
            missing = unsupported_facts(extract_facts(unit.text), source)
            if missing:
                cited = ", ".join(f"[{n}]" for n in markers)
                reason = f"not in cited clause {cited}: " + "; ".join(missing)
        ok = reason is None
        if ok:
            # Only a kept sentence makes later copies redundant; a rejected one may
            # reappear with the right marker.
            seen.add(canonical)
        checks.append(SentenceCheck(text=unit.text, markers=markers, ok=ok, reason=reason))
        if ok:
            kept_by_line.setdefault(unit.line, []).append(unit.text)
            if unit.prefix:
                prefixes[unit.line] = unit.prefix

    lines = []
    for line_no in sorted(kept_by_line):
        body = " ".join(kept_by_line[line_no])
        prefix = prefixes.get(line_no, "")
        lines.append(f"{prefix} {body}" if prefix else body)
    n_kept = sum(c.ok for c in checks)
    n_total = len(checks)
    passed = n_kept >= 1 and n_kept / n_total >= min_kept_ratio
    return Verification(kept_text="\n".join(lines), sentences=checks, n_total=n_total,
                        n_kept=n_kept, forged_markers=forged, passed=passed)


# ---------------------------------------------------------------- translation

_LEADING_MARKER = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*[.)]|[a-zđ]\)|[-+•])\s+")
_TRANSLATION_PREFIX = re.compile(r"^\s*(?:english\s+)?translation\s*:\s*", re.IGNORECASE)


def relevant_glossary(text: str, glossary: Mapping[str, str]) -> dict[str, str]:
    folded = unicodedata.normalize("NFC", text).casefold()
    return {vi: en for vi, en in glossary.items()
            if unicodedata.normalize("NFC", vi).casefold() in folded}


def _clean_translation(output: str) -> str:
    output = re.split(r"<\|im_end\|>|<\|im_start\|>", output)[0].strip()
    output = _TRANSLATION_PREFIX.sub("", output).strip()
    if len(output) >= 2 and output[0] in "\"“'" and output[-1] in "\"”'":
        output = output[1:-1].strip()
    return output


def check_translation(source: str, output: str) -> str | None:
    """Why `output` is not an acceptable translation of `source`, or None if it is."""
    if not output.strip():
        return "empty"
    if has_degenerate_loop(output):
        return "repeats itself"
    lines = [_canonical(x) for x in output.splitlines() if x.strip()]
    if len(lines) != len(set(lines)):
        return "repeats a line"
    if len(output) > 3 * len(source) + 200:
        return "far longer than the source"
    words = output.split()
    vi_words = [w for w in words if re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]",
                                              w, re.IGNORECASE)]
    if words and len(vi_words) / len(words) > 0.3:
        return "not English"
    # The clause's own marker ("7.", "a)") is layout, not content a translation must keep.
    src = extract_facts(_LEADING_MARKER.sub("", source, count=1))
    out = extract_facts(output)
    lost = [f"document number {n}" for n in sorted(src.doc_numbers) if n not in out.doc_numbers]
    lost += ["date " + "/".join(str(x) for x in d if x is not None)
             for d in sorted(src.dates, key=lambda t: tuple(x or 0 for x in t))
             if not _date_supported(d, out.dates)]
    lost += [f"number {n}" for n in sorted(src.numbers)
             if n not in out.numbers and n not in out.atoms]
    if lost:
        return "lost " + "; ".join(lost)
    return None


class TranslationAttempt(BaseModel):
    text: str                    # the model's output, cleaned
    rejected: str | None         # why it fails `check_translation`; None when it passes


def attempt_translation(
    llm: Any, text: str, glossary: Mapping[str, str], max_tokens: int | None = None,
) -> TranslationAttempt:
    """One clause through the translation prompt, and the verdict of the checks."""
    terms = relevant_glossary(text, glossary)
    glossary_block = "\n".join(f"{vi} = {en}" for vi, en in terms.items()) or "(none)"
    # Enough for a faithful translation, not enough for a runaway loop.
    cap = max_tokens or min(512, 64 + len(text) // 2)
    messages = prompt_messages("translate_clause", glossary=glossary_block, clause=text)
    output = _clean_translation(generate(llm, messages, max_tokens=cap))
    return TranslationAttempt(text=output, rejected=check_translation(text, output))


def translate_clause(
    llm: Any, text: str, glossary: Mapping[str, str], max_tokens: int | None = None,
) -> str | None:
    """English rendering of one clause, or None when the output fails the checks."""
    attempt = attempt_translation(llm, text, glossary, max_tokens)
    return attempt.text if attempt.rejected is None else None
