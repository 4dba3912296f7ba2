"""Layout repair: raw directive text → clean paragraphs, with an offset map back to the raw text.

Repair never changes the authors' letters. It only decides, at each line break, whether
the break was a split inside a word (join), a hard wrap (space) or a paragraph break, and it
respaces run-together words where the dictionary leaves no doubt. Split words are rejoined
by a small dynamic programme that scores candidate tokens with Vietnamese syllable
statistics (see `lexicon.py`).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, count
from operator import add
from pathlib import Path
from typing import Sequence

from pydantic import TypeAdapter

from ingest.lexicon import LETTER_RE, Lexicon, default_lexicon
from ingest.model import Repair, RepairStats

MAX_PIECES_PER_TOKEN = 10
INVALID_PER_SYLLABLE = -14.0   # an unknown letter string costs more the more syllables it hides
SINGLE_CAPITAL = -10.0
KNOWN_ACRONYM = -5.0
UNKNOWN_ACRONYM = -8.0
WORD_BONUS = 4.0

_SEPARATOR_RE = re.compile(r"^(?:[-_=*.·…]{3,}|[|#]+|\*\*)$")
_SEPARATOR_CHARS = "-_=*.·…|#"       # the characters a separator line is made of
# Page furniture of printed gazettes and PDFs: never the authors' words, wherever it appears.
_PAGE_HEADER_RE = re.compile(
    r"^(?:\d{1,4}\s+)?C[ÔO]NG\s*B[ÁA]O\s*/\s*S[ốô]\s*[\d+ ]{1,20}/\s*Ngày\s*[\d\-./ ]{6,12}(?:\s+\d{1,4})?$",
    re.IGNORECASE)
_PAGE_NUMBER_RE = re.compile(r"^(?:\d{1,4}|-\s*\d{1,4}\s*-|Trang\s+\d{1,4}(?:\s*/\s*\d{1,4})?)$")
_RULE_RE = re.compile(r"^_{3,}$")
# A line that opens an attachment: "Phụ lục 01", "PHỤ LỤC", "Biểu số 1".
_ATTACHMENT_WORDS = frozenset({"Phụ", "PHỤ", "Biểu", "BIỂU"})
_OPENS_ATTACHMENT_RE = re.compile(r"^(?:Phụ lục|PHỤ LỤC|Biểu số|BIỂU SỐ)(?: \S+)?(?: |$)")
# A PDF-to-text tool's page separator ("--- PAGE BREAK ---").
_PAGE_BREAK_RE = re.compile(r"^-{2,}\s*PAGE\s+BREAK\s*-{2,}$", re.IGNORECASE)
_STAMP_KEY_RE = re.compile(r"^(?:Người ký|Ký bởi|Email|Cơ quan|Thời gian ký|Địa chỉ|Tổ chức)\s*:", re.IGNORECASE)
_STAMP_TIME_RE = re.compile(r"^(?:Thời gian ký|Ký bởi)\s*:", re.IGNORECASE)
# The characters a line matching one of the patterns above can start with (under IGNORECASE 'k'
# also matches the Kelvin sign), besides the digits of a page number: most lines start with
# another, and only the others need the patterns.
_FURNITURE_FIRST = frozenset("CcTtKk\u212a_-")
_CODE_SPLIT_RE = re.compile(r"[/\-.]")
_ACRONYM_RE = re.compile(r"^[A-ZĐ][A-ZĐ]+[a-z]?$|^[A-ZĐ][a-z][A-ZĐ]+$")
_LEADING_PUNCT = "([“\"'‘«"
_TRAILING_PUNCT = ".,;:)]”\"'’»!?%…"
# (a web page's markdown may bold it: "**I. VỀ HOÀN THIỆN THỂ CHẾ**")
_ITEM_MARKER_RE = re.compile(
    r"^(?:[*_]{1,3}(?=[IVXLC\dĐ]))?(?:[IVXLC]{1,5}\.|\d{1,2}(?:\.\d{1,2})*\.|[a-zđ]\)|[-–+•]|Điều\s+\d+\.)\s*[*_]{0,3}\s+\S"
)
_LONE_MARKER_RE = re.compile(r"[*_]{0,3}(?:[IVXLC]{1,5}\.|\d{1,2}(?:\.\d{1,2})+\.?|\d{1,2}\.|[a-zđ]\))[*_]{0,3}")
_HEADER_KEYWORD_RE = re.compile(
    r"^(?:Số\s*:|V/v\b|Về việc\b|Kính\s+gửi|Nơi\s+nhận|KT\.|TL\.|TM\.|TUQ\.|Q\.\s|Căn\s+cứ|"
    r"CỘNG\s+HÒA|CỘNG\s+HOÀ|Độc\s+lập|QUYẾT\s+ĐỊNH|CÔNG\s+ĐIỆN|KẾ\s+HOẠCH|THÔNG\s+BÁO|"
    r"CHỈ\s+THỊ|HƯỚNG\s+DẪN|[A-ZĐ][\w\s]{1,25},\s+ngày\s+\d)"
)
_PLACE_DATE_RE = re.compile(r"^[A-ZĐ][\w\s]{1,25},\s+ngày\s+\d")
_BODY_OPENER_RE = re.compile(r"^(?:Ngày\s+\d{1,2}/\d|Căn\s+cứ\s|Thực\s+hiện\s|Để\s|Thời\s+gian\s|"
                             r"Trong\s+(?:những|thời)\s|Năm\s+\d{4})")
_BOILERPLATE_FILE = Path(__file__).parent / "data" / "boilerplate.txt"
# The repairs of the hot loops are collected as plain dicts and validated in one call (the same
# Repair objects, at half the cost of one constructor call each).
_REPAIR_LIST = TypeAdapter(list[Repair])


@lru_cache(maxsize=1)
def known_abbreviations() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "abbreviations.txt"
    return frozenset(line.split("#")[0].strip() for line in
                     path.read_text(encoding="utf-8").splitlines() if line.split("#")[0].strip())


@lru_cache(maxsize=1)
def boilerplate_patterns() -> list[re.Pattern[str]]:
    lines = _BOILERPLATE_FILE.read_text(encoding="utf-8").splitlines()
    return [re.compile(rf"^(?:{line})$", re.IGNORECASE) for line in lines
            if line.strip() and not line.startswith("#")]


@dataclass
class RepairResult:
    text: str
    offset_map: list[int]              # repaired index → raw index; one extra entry at the end
    stats: RepairStats = field(default_factory=RepairStats)
    repairs: list[Repair] = field(default_factory=list)


class _Lines:
    """The non-blank lines of a text, one list per field: index k is the k-th line.

    Inside a line every break between words is a space; only the breaks between lines need
    deciding, so repair works a line at a time and looks at single words only at line edges.
    Lists of plain values rather than an object per line: objects alive for the whole text
    cost as much again in the garbage collector as in building them.
    """

    __slots__ = ("text", "start", "end", "size", "first", "last", "spaced", "lead", "trail",
                 "blank_before", "separator", "unspaced", "all_words", "long_line_words")

    def __init__(self, lines: list[str], starts: list[int]):
        self.text: list[str] = []          # the line as repair writes it: its words, one space apart
        self.start: list[int] = []         # of the first word, in the NFC text
        self.end: list[int] = []           # of the last word
        self.size: list[int] = []          # words
        self.first: list[str] = []         # first word
        self.last: list[str] = []          # last word
        self.spaced: list[bool] = []       # one whitespace character between each two words
        self.lead: list[bool] = []         # whitespace before the first word
        self.trail: list[bool] = []        # ... after the last
        self.blank_before: list[bool] = []
        self.separator: list[bool] = []    # a rule line ('-----', '|', '**')
        self.unspaced: dict[int, tuple[str, int]] = {}    # k → (line, its start), if not spaced
        # Every distinct word, and those of lines of four words or more, collected while the
        # words are at hand (splitting the lines again costs more than the whole set).
        self.all_words: set[str] = set()
        self.long_line_words: set[str] = set()
        add_words, add_long_line_words = self.all_words.update, self.long_line_words.update
        add_text, add_start, add_end, add_size = self.text.append, self.start.append, \
            self.end.append, self.size.append
        add_first, add_last, add_spaced, add_lead = self.first.append, self.last.append, \
            self.spaced.append, self.lead.append
        add_trail, add_blank, add_separator = self.trail.append, self.blank_before.append, \
            self.separator.append
        blank = False
        for line, line_start in zip(lines, starts):
            words = line.split()          # the same runs as \S+: str.split and \s agree on spaces
            if not words:
                blank = True
                continue
            first = len(line) - len(line.lstrip())
            last_end = len(line.rstrip())
            text = " ".join(words)
            spaced = len(text) == last_end - first
            if not spaced:
                self.unspaced[len(self.text)] = (line, line_start)
            add_words(words)
            if len(words) >= 4:
                add_long_line_words(words)
            add_text(text)
            add_start(line_start + first)
            add_end(line_start + last_end)
            add_size(len(words))
            add_first(words[0])
            add_last(words[-1])
            add_spaced(spaced)
            add_lead(first > 0)
            add_trail(last_end < len(line))
            add_blank(blank)
            add_separator(line[first] in _SEPARATOR_CHARS and not line[first:last_end].strip(_SEPARATOR_CHARS)
                          and bool(_SEPARATOR_RE.match(line[first:last_end])))
            blank = False

    def __len__(self) -> int:
        return len(self.text)

    def words(self, k: int) -> list[str]:
        return self.text[k].split(" ")

    def word_spans(self, k: int) -> list[tuple[int, int]]:
        """(start, end) in the NFC text of each word of line k."""
        if k in self.unspaced:
            line, line_start = self.unspaced[k]
            return [(line_start + m.start(), line_start + m.end()) for m in _WORD_SPAN_RE.finditer(line)]
        spans, at = [], self.start[k]
        for word in self.words(k):
            spans.append((at, at + len(word)))
            at += len(word) + 1
        return spans

    def interior(self, k: int) -> str:
        """The words of line k but its first and last, one space apart."""
        text = self.text[k]
        return text[len(self.first[k]) + 1: len(text) - len(self.last[k]) - 1]


_WORD_SPAN_RE = re.compile(r"\S+")       # the same runs as str.split: \s and str agree on spaces


# ---------------------------------------------------------------- NFC with offsets

def nfc_with_offsets(raw: str) -> tuple[str, Sequence[int], int]:
    """NFC-normalise while keeping, for each output char, the index of its raw source char.

    A text already in NFC (most are) maps each char to itself: a range, not a list of an int
    per character that the garbage collector would go through again and again."""
    if unicodedata.is_normalized("NFC", raw):
        return raw, range(len(raw)), 0
    out: list[str] = []
    offsets: list[int] = []
    changes = 0
    cluster_start = 0
    for i in range(1, len(raw) + 1):
        if i < len(raw) and unicodedata.combining(raw[i]):
            continue
        cluster = raw[cluster_start:i]
        normal = unicodedata.normalize("NFC", cluster)
        if normal != cluster:
            changes += 1
        out.append(normal)
        offsets.extend([cluster_start] * len(normal))
        cluster_start = i
    return "".join(out), offsets, changes


# ---------------------------------------------------------------- token scoring

class _Scorer:
    """Token scores for one document: what its vocabulary vouches for, over the lexicon's
    scores (which hold for every document, so they are computed once: `_part_shape`)."""

    def __init__(self, lexicon: Lexicon, vocabulary: set[str]):
        self.lexicon = lexicon
        self.vocabulary = vocabulary
        self._cache: dict[str, float] = {}

    def core(self, token: str) -> str:
        return token.strip(_LEADING_PUNCT).rstrip(_TRAILING_PUNCT)

    def score(self, token: str) -> float:
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        core = self.core(token)
        if not core:
            value = 0.0
        else:
            value = sum(self._score_part(p) for p in _CODE_SPLIT_RE.split(core) if p)
        self._cache[token] = value
        return value

    def _score_part(self, part: str) -> float:
        shape, value = _part_shape(part, self.lexicon)
        if shape == "fixed":
            return value
        if shape == "code":
            # Letters mixed with digits or symbols: plausible only as a whole-seen code.
            return KNOWN_ACRONYM if part in self.vocabulary else value
        if shape == "acronym":
            return KNOWN_ACRONYM if part in self.vocabulary else UNKNOWN_ACRONYM
        return UNKNOWN_ACRONYM if part in self.vocabulary and len(part) > 1 else value

    def bigram_bonus(self, left: str, right: str) -> float:
        if " " in left or " " in right:
            return 0.0          # (a line's interior words as one piece) no letters-only core
        return _bigram_bonus(left, right, self.lexicon)


@lru_cache(maxsize=200_000)
def _part_shape(part: str, lexicon: Lexicon) -> tuple[str, float]:
    """What the score of a code part is without the document's vocabulary: ('fixed', score),
    or 'code' / 'acronym' / 'other' with the score when the vocabulary does not know it."""
    if part.isdigit():
        return "fixed", 0.0
    if not LETTER_RE.match(part):
        return "code", _invalid_cost(part)
    if _case_shape_ok(part):
        logprob = lexicon.syllable_logprob(part)
        if logprob is not None:
            return "fixed", logprob
    if len(part) == 1 and part.isupper():
        return "fixed", SINGLE_CAPITAL
    if _ACRONYM_RE.match(part):
        return "acronym", UNKNOWN_ACRONYM
    return "other", _invalid_cost(part)


@lru_cache(maxsize=200_000)
def _bigram_bonus(left: str, right: str, lexicon: Lexicon) -> float:
    a = left.strip(_LEADING_PUNCT).rstrip(_TRAILING_PUNCT)
    b = right.strip(_LEADING_PUNCT).rstrip(_TRAILING_PUNCT)
    if a and b and LETTER_RE.match(a) and LETTER_RE.match(b) and lexicon.is_word(a, b):
        return WORD_BONUS
    return 0.0


_VOWEL_RUN_RE = re.compile(r"[aăâeêioôơuưyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]+",
                           re.IGNORECASE)


def _invalid_cost(part: str) -> float:
    cost = INVALID_PER_SYLLABLE * max(1, len(_VOWEL_RUN_RE.findall(part)))
    # Case flipping inside a token ("vàTTHC") is a strong sign of two words run together.
    return cost if _case_shape_ok(part) else cost + INVALID_PER_SYLLABLE


def _case_shape_ok(part: str) -> bool:
    return part.islower() or part.isupper() or (part[0].isupper() and part[1:].islower())


# ---------------------------------------------------------------- boundary decisions

def _forced_decision(left: str, right: str) -> str | None:
    """'join', 'space' or None (ambiguous) for a line break between two pieces."""
    if left in ("-", "+", "•", "–") or left in known_abbreviations() \
            or right in known_abbreviations():
        return "space"                      # a bullet marker alone, or a whole abbreviation
    first, last = right[0], left[-1]
    if first in ".,;:)]!?%…":
        return "join"
    if last in "([“/" or first in "/":
        return "join"
    if last == "-" and len(left) > 1:
        return "join"
    if first == "-" and len(right) > 1 and left[-1].isalnum() and right[1].isalnum():
        return "join"
    if last in ",;:!?)]”\"":
        return "space"
    if last.isdigit() and first.isdigit():
        return "join"
    if last.isdigit() != first.isdigit() and (last.isalnum() and first.isalnum()):
        return "space"
    if last == "." and first.isalpha():
        return "space"
    if not (last.isalnum() and first.isalnum()):
        return "space"
    return None


def _choose_joins(texts: list[str], scorer: _Scorer, prev_token: str | None) -> list[bool]:
    """Best join/space choice for a run of pieces (line-edge words) linked by ambiguous breaks.

    Dynamic programme over token boundaries; state = span of the last token, so a
    dictionary bigram (prev, current) can earn a bonus.
    """
    n = len(texts)
    if n == 2:
        # One break (the usual run): the programme below reduces to joined against spaced,
        # a tie going to the join.
        left, right = texts
        joined = left + right
        spaced = scorer.score(left) + (scorer.bigram_bonus(prev_token, left) if prev_token else 0.0)
        spaced = spaced + scorer.score(right) + scorer.bigram_bonus(left, right)
        return [scorer.score(joined) + (scorer.bigram_bonus(prev_token, joined) if prev_token else 0.0) >= spaced]
    # best[(i, j)] = (score, back-pointer i_prev) for a last token spanning pieces i..j
    best: dict[tuple[int, int], tuple[float, tuple[int, int] | None]] = {}
    ending_at: dict[int, list[tuple[int, int]]] = {}
    for j in range(min(n, MAX_PIECES_PER_TOKEN)):
        token = "".join(texts[: j + 1])
        bonus = scorer.bigram_bonus(prev_token, token) if prev_token else 0.0
        best[(0, j)] = (scorer.score(token) + bonus, None)
        ending_at.setdefault(j, []).append((0, j))
    for i in range(1, n):
        previous = [(key, best[key]) for key in ending_at.get(i - 1, [])]
        for j in range(i, min(n, i + MAX_PIECES_PER_TOKEN)):
            token = "".join(texts[i: j + 1])
            own = scorer.score(token)
            choice = None
            for key, (score, _) in previous:
                left_token = "".join(texts[key[0]: key[1] + 1])
                total = score + own + scorer.bigram_bonus(left_token, token)
                if choice is None or total > choice[0]:
                    choice = (total, key)
            if choice is not None:
                best[(i, j)] = choice
                ending_at.setdefault(j, []).append((i, j))
    end_key = max((k for k in best if k[1] == n - 1), key=lambda k: best[k][0])
    joins = [True] * (n - 1)
    key: tuple[int, int] | None = end_key
    while key is not None:
        if key[0] > 0:
            joins[key[0] - 1] = False
        key = best[key][1]
    return joins


# ---------------------------------------------------------------- respacing

@lru_cache(maxsize=100_000)
def _respace(token: str, lexicon: Lexicon) -> tuple[str, str] | None:
    """Split a run-together token (trựcthuộc, BHYTnăm) when exactly one split is certain."""
    core = token.rstrip(_TRAILING_PUNCT).lstrip(_LEADING_PUNCT)
    if len(core) < 4 or not LETTER_RE.match(core) or lexicon.is_syllable(core) \
            or _ACRONYM_RE.match(core):
        return None
    candidates = []
    for cut in range(1, len(core)):
        left, right = core[:cut], core[cut:]
        if not _case_shape_ok(right) or not right[0].isalpha():
            continue
        if left.isupper() and len(left) >= 2 and right.islower() and lexicon.is_syllable(right):
            candidates.append(cut)
        elif _case_shape_ok(left) and lexicon.is_syllable(left) and lexicon.is_syllable(right) \
                and lexicon.is_word(left, right):
            candidates.append(cut)
    if len(candidates) != 1:
        return None
    cut = token.index(core) + candidates[0]
    return (token[:cut], token[cut:])


# ---------------------------------------------------------------- main entry

def repair_text(raw: str, lexicon: Lexicon | None = None) -> RepairResult:
    lexicon = lexicon or default_lexicon()
    stats = RepairStats()
    repairs: list[Repair] = []
    text, nfc_map, stats.nfc_changes = nfc_with_offsets(raw)

    lines, starts = _split_lines(text)
    lines, starts = _strip_boilerplate(lines, starts, stats, repairs, nfc_map)
    lines, starts = _strip_furniture(lines, starts, stats, repairs, nfc_map)
    rows = _Lines(lines, starts)
    boundary = _boundaries(rows)
    if "amb" in boundary:
        if _looks_english(text):
            # English text: a word is never split across lines without a hyphen, so every
            # ambiguous break is a wrap (the Vietnamese syllable statistics would glue
            # "GOVERNMENT" + "OF").
            boundary = ["space" if b == "amb" else b for b in boundary]
        else:
            _resolve_ambiguous(rows, boundary, _Scorer(lexicon, _clean_vocabulary(rows)))
    return _assemble(rows, boundary, nfc_map, lexicon, stats, repairs, raw)


def _boundaries(rows: _Lines) -> list[str]:
    """boundary[k] between lines k and k+1: 'join' | 'space' | 'break' | 'amb'."""
    boundary: list[str] = []
    add = boundary.append
    for a_last, a_trail, a_separator, b_first, b_size, b_lead, b_blank, b_separator, b_text in zip(
            rows.last, rows.trail, rows.separator, rows.first[1:], rows.size[1:], rows.lead[1:],
            rows.blank_before[1:], rows.separator[1:], rows.text[1:]):
        if b_blank or a_separator or b_separator or b_first[0] == "|" != a_last[-1] \
                or a_last[-1] == "|" != b_first[0] \
                or b_first in _ATTACHMENT_WORDS and _OPENS_ATTACHMENT_RE.match(b_text):
            add("break")      # into or out of a table, or an attachment starts ("Biểu số 1")
        elif b_lead or a_trail:
            # Whitespace at the break marks a real space, unless punctuation follows.
            add("join" if b_first[0] in ".,;:)" else "space")
        elif b_size >= 3 and _ITEM_PIECE_RE.match(b_first):
            add("space")      # "NĂM 2025\n1. Chỉ tiêu": an item starts, never a split
        else:
            add(_forced_decision(a_last, b_first) or "amb")
    return boundary


def _resolve_ambiguous(rows: _Lines, boundary: list[str], scorer: _Scorer) -> None:
    """Decide each run of ambiguous breaks: the last word of a line, any one-word lines, and the
    first word of the line that ends the run, joined or spaced by `_choose_joins`."""
    size = rows.size
    k = 0
    while k < len(boundary):
        if boundary[k] != "amb":
            k += 1
            continue
        run_end = k + 1
        # A line of two or more words ends the run: the break inside it is a plain space.
        while run_end < len(boundary) and boundary[run_end] == "amb" and size[run_end] == 1:
            run_end += 1
        texts = [rows.last[k]] + rows.first[k + 1: run_end + 1]
        for offset, joined in enumerate(_choose_joins(texts, scorer, _token_before(rows, boundary, k))):
            boundary[k + offset] = "join" if joined else "space"
        k = run_end


def _token_before(rows: _Lines, boundary: list[str], k: int) -> str | None:
    """The piece before the last word of line k when a space separates them: the line's other
    words (its interior as one piece), or the previous line's last word."""
    if rows.size[k] >= 3:
        return rows.interior(k)
    if rows.size[k] == 2:
        return rows.first[k]
    return rows.last[k - 1] if k > 0 and boundary[k - 1] == "space" else None


def _looks_english(text: str) -> bool:
    from ingest.vocab import detect_language
    return detect_language(text) == "en"


_ITEM_PIECE_RE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.|[a-zđ]\)|[IVXLC]{1,5}\.)$")


def _split_lines(text: str) -> tuple[list[str], list[int]]:
    """The lines of the text (without '\\r') and where each starts, as two lists (a tuple per
    line would be as many objects for the garbage collector)."""
    lines = text.split("\n")
    # line k starts after the k earlier lines and their k newlines (C-level loops)
    starts = [0, *map(add, accumulate(map(len, lines[:-1])), count(1))]
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    return lines, starts


def _strip_boilerplate(lines, starts, stats, repairs, nfc_map):
    patterns = boilerplate_patterns()

    def is_boilerplate(line: str) -> bool:
        stripped = line.strip()
        return bool(stripped) and any(p.match(stripped) for p in patterns)

    def is_blank_or_boilerplate(line: str) -> bool:
        return not line.strip() or is_boilerplate(line)

    first = 0
    while first < len(lines) and is_blank_or_boilerplate(lines[first]):
        first += 1
    # A YAML front-matter block ('---' / 'key: value' lines / '---') opening the file.
    if first < len(lines) and lines[first].strip() == "---":
        end = next((i for i in range(first + 1, min(len(lines), first + 40))
                    if lines[i].strip() == "---"), None)
        if end is not None and all(re.match(r"^\s*[\w-]+\s*:", line) or not line.strip()
                                   for line in lines[first + 1: end]):
            for line, start in zip(lines[first: end + 1], starts[first: end + 1]):
                if line.strip():
                    stats.boilerplate_lines += 1
                    repairs.append(Repair(kind="strip_front_matter", raw_start=_raw(nfc_map, start),
                                          raw_end=_raw(nfc_map, start + len(line))))
            lines = lines[:first] + [""] * (end + 1 - first) + lines[end + 1:]
            starts = starts[:first] + [starts[first]] * (end + 1 - first) + starts[end + 1:]
            while first < len(lines) and is_blank_or_boilerplate(lines[first]):
                first += 1
    last = len(lines)
    while last > first and is_blank_or_boilerplate(lines[last - 1]):
        last -= 1
    for line, start in zip(lines[:first] + lines[last:], starts[:first] + starts[last:]):
        if line.strip():
            stats.boilerplate_lines += 1
            repairs.append(Repair(kind="strip_boilerplate", raw_start=_raw(nfc_map, start),
                                  raw_end=_raw(nfc_map, start + len(line))))
    return lines[first:last], starts[first:last]


def _strip_furniture(lines, starts, stats, repairs, nfc_map):
    """Remove page furniture anywhere: page separators ('--- PAGE BREAK ---'), gazette page
    headers ('CÔNG BÁO/Số 271/Ngày 12-05-2026'),
    the page numbers beside them, '____' rules and e-signature stamps ('Người ký: …',
    'Thời gian ký: …'). A page header between two halves of a sentence disappears with the
    blank lines around it, so the halves meet again as one wrapped line. Each removal is a
    recorded repair; the authors' words are never touched."""
    candidates = [i for i, line in enumerate(lines)
                  if (first := line.lstrip()[:1]) in _FURNITURE_FIRST or first.isdecimal()]
    if not candidates:
        return lines, starts
    stripped = [line.strip() for line in lines]
    drop: set[int] = set()
    rule_lines: set[int] = set()
    for i in candidates:          # (a line that starts otherwise matches none of the patterns)
        text = stripped[i]
        if text[:1] == "-":       # a bullet, unless it is a page separator
            if _PAGE_BREAK_RE.match(text):
                drop.add(i)
        elif _PAGE_HEADER_RE.match(text):
            drop.add(i)
            # The page number printed beside the header, on the line before or after it.
            for j in (i - 1, i + 1, i - 2, i + 2):
                if 0 <= j < len(lines) and _PAGE_NUMBER_RE.match(stripped[j]) and \
                        all(not stripped[k] or k == j for k in range(min(i, j) + 1, max(i, j))):
                    drop.add(j)
                    break
        elif _RULE_RE.match(text):
            rule_lines.add(i)
        elif _STAMP_TIME_RE.match(text):
            # An e-signature stamp: the run of 'key: value' lines around 'Thời gian ký:'.
            j = i
            while j > 0 and (_STAMP_KEY_RE.match(stripped[j - 1]) or not stripped[j - 1]) \
                    and i - j < 6:
                j -= 1
            k = i
            while k + 1 < len(lines) and _STAMP_KEY_RE.match(stripped[k + 1]) and k - i < 4:
                k += 1
            drop.update(x for x in range(j, k + 1) if stripped[x])
    if not drop and not rule_lines:
        return lines, starts
    # Blank lines that only surrounded removed furniture go with it.
    removable = drop | {i for i, t in enumerate(stripped) if not t}
    for i in sorted(drop):
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and j in removable and j not in drop:
                j += step
    kept, kept_starts = [], []
    previous_dropped = False
    for i, (line, start) in enumerate(zip(lines, starts)):
        if i in drop or i in rule_lines:
            stats.furniture_lines += 1
            repairs.append(Repair(kind="strip_page_furniture", raw_start=_raw(nfc_map, start),
                                  raw_end=_raw(nfc_map, start + len(line))))
            if i in rule_lines:
                kept.append("")                # a rule still separates what it separated
                kept_starts.append(start)
            previous_dropped = i in drop
            continue
        if previous_dropped and not stripped[i]:
            continue                           # a blank line right after furniture
        if not stripped[i] and i + 1 < len(lines) and (i + 1) in drop:
            continue                           # a blank line right before furniture
        previous_dropped = False
        kept.append(line)
        kept_starts.append(start)
    return kept, kept_starts


def _raw(nfc_map: list[int], index: int) -> int:
    if not nfc_map:
        return index
    return nfc_map[min(index, len(nfc_map) - 1)] if index < len(nfc_map) else nfc_map[-1] + 1


_CODE_CHAR_RE = re.compile(r"[A-ZĐ0-9]")


def _clean_vocabulary(rows: _Lines) -> set[str]:
    """Words seen whole inside long lines: evidence that a code or acronym is real."""
    vocabulary = set()
    # The vocabulary only vouches for codes and acronyms: words with capitals or digits.
    for word in filter(_CODE_CHAR_RE.search, rows.long_line_words):
        core = word.strip(_LEADING_PUNCT).rstrip(_TRAILING_PUNCT)
        for part in _CODE_SPLIT_RE.split(core):
            if len(part) > 1:
                vocabulary.add(part)
    return vocabulary


def _respaceable(rows: _Lines, lexicon: Lexicon) -> set[str]:
    """The words of these lines that `_respace` splits. A word once found unsplittable is
    remembered, so a document costs one set difference for the words other texts had."""
    plain = _unsplittable(lexicon)
    if len(plain) > 200_000:
        plain.clear()                 # bounded, like the cache of `_respace`
    found = set()
    for word in rows.all_words - plain:
        if len(word) >= 4 and _respace(word, lexicon):
            found.add(word)
        else:
            plain.add(word)
    return found


@lru_cache(maxsize=4)
def _unsplittable(lexicon: Lexicon) -> set[str]:
    return set()


def _append_words(rows: _Lines, k: int, nfc_map: list[int], lexicon: Lexicon, stats: RepairStats,
                  found: list[dict], respaceable: set[str], out: list[str], offsets: list[int]) -> None:
    """Line k word by word: for uneven spacing (each gap becomes one space, mapped to the gap's
    first character) and for run-together words to respace. `found` takes Repair fields."""
    words = rows.words(k)
    interior_end = len(words) - 1
    previous_end = 0
    for index, (start, end) in enumerate(rows.word_spans(k)):
        if index:
            out.append(" ")
            offsets.append(nfc_map[previous_end])
        previous_end = end
        word = words[index]
        split = _respace(word, lexicon) if word in respaceable else None
        if not split:
            out.append(word)
            offsets.extend(nfc_map[start:end])
            continue
        stats.respaced_words += 1
        # The interior words end at their last character's source, the line-edge words where
        # the next character starts (as the two kinds of pieces always have).
        raw_end = nfc_map[end - 1] + 1 if 0 < index < interior_end else _raw(nfc_map, end)
        found.append({"kind": "respace_word", "raw_start": nfc_map[start], "raw_end": raw_end,
                      "after": " ".join(split)})
        cut = start + len(split[0])
        out.extend((split[0], " ", split[1]))
        offsets.extend(nfc_map[start:cut])
        offsets.append(nfc_map[cut])
        offsets.extend(nfc_map[cut:end])


def _assemble(rows, boundary, nfc_map, lexicon, stats, repairs, raw) -> RepairResult:
    out: list[str] = []
    offsets: list[int] = []
    # Each cross-line separator: its index in `out`, its raw offset, and whether the raw break
    # had no whitespace marker (three lists of plain values: see `_Lines`).
    cross_at: list[int] = []
    cross_raw: list[int] = []
    cross_unmarked: list[bool] = []
    append_text, append_offset, extend_offsets = out.append, offsets.append, offsets.extend
    found: list[dict] = []                     # this pass's repairs, in order (Repair fields)
    add_repair = found.append
    last_map = len(nfc_map) - 1
    past_end = nfc_map[-1] + 1 if nfc_map else 0
    respaceable = _respaceable(rows, lexicon)
    starts, leads, trails = rows.start, rows.lead, rows.trail

    joins = 0
    last = len(rows) - 1
    for k, (text, start, end, spaced) in enumerate(zip(rows.text, starts, rows.end, rows.spaced)):
        if spaced and (not respaceable or respaceable.isdisjoint(text.split(" "))):
            append_text(text)
            extend_offsets(nfc_map[start:end])
        else:
            _append_words(rows, k, nfc_map, lexicon, stats, found, respaceable, out, offsets)
        if k == last:
            break
        decision = boundary[k]
        gap_raw = nfc_map[end] if end <= last_map else past_end     # _raw(nfc_map, end), inlined
        if decision == "join":
            joins += 1
            add_repair({"kind": "join_split", "raw_start": gap_raw, "raw_end": _raw(nfc_map, starts[k + 1])})
            continue
        cross_at.append(len(offsets))
        cross_raw.append(gap_raw)
        cross_unmarked.append(not (leads[k + 1] or trails[k]))
        append_text("\n" if decision == "break" else " ")
        append_offset(gap_raw)
    stats.split_joins += joins
    text = "".join(out)
    # A wrap space becomes a paragraph break where the structure says so. Only positions before
    # the current one change, and never inside the slices read (they start after the last
    # break), so the checks read the assembled text itself. Every newline of the text is at a
    # crossing (words hold none), so the current line starts after the last crossing that broke.
    breaks: list[int] = []
    line_start = 0
    paragraph_breaks = 0
    for position, raw_at, unmarked in zip(cross_at, cross_raw, cross_unmarked):
        if text[position] == "\n" or (
                _is_structural_break(text, position, line_start)
                or unmarked and position - line_start < 160 and _is_hard_upper_break(
                    text[line_start:position],
                    text[position + 1: position + 120].split("\n", 1)[0])):
            if text[position] == " ":
                breaks.append(position)
            line_start = position + 1
            paragraph_breaks += 1
            add_repair({"kind": "paragraph_break", "raw_start": raw_at, "raw_end": raw_at + 1, "after": "\n"})
        else:
            add_repair({"kind": "newline_to_space", "raw_start": raw_at, "raw_end": raw_at + 1, "after": " "})
    if breaks:
        parts, previous = [], 0
        for position in breaks:
            parts.append(text[previous:position])
            parts.append("\n")
            previous = position + 1
        parts.append(text[previous:])
        text = "".join(parts)
    stats.paragraph_breaks += paragraph_breaks
    stats.wrap_spaces += len(cross_at) - paragraph_breaks
    repairs.extend(_REPAIR_LIST.validate_python(found))
    offsets.append(len(raw))
    return RepairResult(text=text, offset_map=offsets, stats=stats, repairs=repairs)


def _is_structural_break(text: str, position: int, line_start: int) -> bool:
    if _LOWER_LETTER_RE.match(text, position + 1) and text[position + 2: position + 3] != ")" \
            and (position - line_start > 160 or not _is_upper_line(text[line_start:position])):
        # (the common wrap, mid-sentence) What follows starts with a small letter and is no
        # 'a)' item: of `_structural_rules` only the capitals line before it could hold, and
        # the line before is no capitals line.
        return False
    return _structural_rules(text, position, line_start)


def _structural_rules(text: str, position: int, line_start: int) -> bool:
    # Only the head (markers) and the tail (sentence end) of a long paragraph matter; slicing
    # just those keeps this linear in the paragraph's length.
    if position - line_start > 400:
        prev_line = text[line_start: line_start + 60] + " … " + text[position - 300: position]
    else:
        prev_line = text[line_start: position]
    after = text[position + 1: position + 81]
    if prev_line.strip() in known_abbreviations():
        return False        # "KT.\n TỔNG GIÁM ĐỐC": the signing authority belongs to its title
    if _LONE_MARKER_RE.fullmatch(prev_line.strip()):
        return False        # "2.6.\n Căn cứ vào …": a numbered item's marker, alone, opens its text
    keyword = _HEADER_KEYWORD_RE.match(after)
    if keyword:
        # "Hà\n  Nội, ngày": the place name began on the previous line; break before it instead.
        continued = prev_line.strip() + " " + after
        return not (len(prev_line.strip()) < 20 and _PLACE_DATE_RE.match(continued)
                    and _PLACE_DATE_RE.match(after))
    # r"[.:;!?]$|\./\.$" on the right-stripped line: its last character.
    ends_sentence = prev_line.rstrip().endswith((".", ":", ";", "!", "?"))
    if _ITEM_MARKER_RE.match(after) and (ends_sentence or not prev_line.strip()
                                         or _ITEM_MARKER_RE.match(prev_line)):
        return True
    # The last recipient line runs straight into the body's opening sentence.
    if _ITEM_MARKER_RE.match(prev_line) and _BODY_OPENER_RE.match(after):
        return True
    # A list item that ended its sentence at the line end: what follows is a new paragraph.
    if _ITEM_MARKER_RE.match(prev_line) and prev_line.rstrip().endswith((".", ";")) \
            and after[:1].isupper() and len(prev_line) > 2:
        return True
    next_words = after.split(" ", 2)[:2]
    if prev_line.strip() and _is_upper_line(prev_line) and next_words \
            and any(w[:1].isupper() and any(c.islower() for c in w[1:]) for w in next_words):
        return True
    # (the last word of the line has a letter or digit: what is left of it once r"[^\w]" goes)
    if ends_sentence and _WORD_CHAR_RE.search(prev_line.rsplit(" ", 1)[-1] if prev_line else "") \
            and _is_upper_line(" ".join(after.split(" ", 2)[:2])):
        return True
    return False


_WORD_CHAR_RE = re.compile(r"\w")


def _is_hard_upper_break(prev_line: str, next_line: str) -> bool:
    """Two capitals lines with no wrap marker are two header lines (agency, parent agency)."""
    return (_is_upper_line(prev_line) and _is_upper_line(next_line)
            and len(prev_line.split()) >= 2 and len(next_line.split()) >= 2)
    return False


_LOWER_LETTER_RE = re.compile(_VOWEL_RUN_RE.pattern.replace("]+", "bcdfghjklmnpqrstvwxzđ]").lower())


def _is_upper_line(line: str) -> bool:
    if len(line) > 160:
        return False        # header and signature lines are short; skip long paragraphs fast
    if _LOWER_LETTER_RE.search(line):
        return False        # a lower-case letter: not all letters are capitals
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)
