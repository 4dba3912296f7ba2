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
from pathlib import Path

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
# Page furniture of printed gazettes and PDFs: never the authors' words, wherever it appears.
_PAGE_HEADER_RE = re.compile(
    r"^(?:\d{1,4}\s+)?C[ÔO]NG\s*B[ÁA]O\s*/\s*S[ốô]\s*[\d+ ]{1,20}/\s*Ngày\s*[\d\-./ ]{6,12}(?:\s+\d{1,4})?$",
    re.IGNORECASE)
_PAGE_NUMBER_RE = re.compile(r"^(?:\d{1,4}|-\s*\d{1,4}\s*-|Trang\s+\d{1,4}(?:\s*/\s*\d{1,4})?)$")
_RULE_RE = re.compile(r"^_{3,}$")
_STAMP_KEY_RE = re.compile(r"^(?:Người ký|Ký bởi|Email|Cơ quan|Thời gian ký|Địa chỉ|Tổ chức)\s*:", re.IGNORECASE)
_STAMP_TIME_RE = re.compile(r"^(?:Thời gian ký|Ký bởi)\s*:", re.IGNORECASE)
_CODE_SPLIT_RE = re.compile(r"[/\-.]")
_ACRONYM_RE = re.compile(r"^[A-ZĐ][A-ZĐ]+[a-z]?$|^[A-ZĐ][a-z][A-ZĐ]+$")
_LEADING_PUNCT = "([“\"'‘«"
_TRAILING_PUNCT = ".,;:)]”\"'’»!?%…"
_ITEM_MARKER_RE = re.compile(
    r"^(?:[IVXLC]{1,5}\.|\d{1,2}(?:\.\d{1,2})*\.|[a-zđ]\)|[-–+•]|Điều\s+\d+\.)\s+\S"
)
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


@dataclass
class _Piece:
    text: str
    start: int                          # offset in the NFC text
    line: int
    end: int = -1                       # end offset in the NFC text (blobs collapse spaces)
    raw_offsets: list[int] | None = None   # per-char raw offsets, for blobs
    blob: bool = False                  # the interior words of a line: never joined across lines

    def __post_init__(self) -> None:
        if self.end < 0:
            self.end = self.start + len(self.text)


# ---------------------------------------------------------------- NFC with offsets

def nfc_with_offsets(raw: str) -> tuple[str, list[int], int]:
    """NFC-normalise while keeping, for each output char, the index of its raw source char."""
    if unicodedata.is_normalized("NFC", raw):
        return raw, list(range(len(raw))), 0
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
        if part.isdigit():
            return 0.0
        if not LETTER_RE.match(part):
            # Letters mixed with digits or symbols: plausible only as a whole-seen code.
            return KNOWN_ACRONYM if part in self.vocabulary else _invalid_cost(part)
        if _case_shape_ok(part):
            logprob = self.lexicon.syllable_logprob(part)
            if logprob is not None:
                return logprob
        if len(part) == 1 and part.isupper():
            return SINGLE_CAPITAL
        if _ACRONYM_RE.match(part):
            return KNOWN_ACRONYM if part in self.vocabulary else UNKNOWN_ACRONYM
        if part in self.vocabulary and len(part) > 1:
            return UNKNOWN_ACRONYM
        return _invalid_cost(part)

    def bigram_bonus(self, left: str, right: str) -> float:
        a, b = self.core(left), self.core(right)
        if a and b and LETTER_RE.match(a) and LETTER_RE.match(b) and self.lexicon.is_word(a, b):
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


def _choose_joins(pieces: list[_Piece], scorer: _Scorer, prev_token: str | None) -> list[bool]:
    """Best join/space choice for a run of pieces linked by ambiguous line breaks.

    Dynamic programme over token boundaries; state = span of the last token, so a
    dictionary bigram (prev, current) can earn a bonus.
    """
    n = len(pieces)
    texts = [p.text for p in pieces]
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

    lines = _split_lines(text)
    lines = _strip_boilerplate(lines, stats, repairs, nfc_map)
    lines = _strip_furniture(lines, stats, repairs, nfc_map)

    pieces: list[_Piece] = []
    line_tokens: dict[int, int] = {}
    line_flags: list[tuple[bool, bool]] = []          # (leading space, trailing space) per line
    blank_before: list[bool] = []
    previous_blank = False
    separator_lines: set[int] = set()
    for line_no, (line, start) in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            previous_blank = True
            line_flags.append((False, False))
            continue
        if _SEPARATOR_RE.match(stripped):
            separator_lines.add(line_no)
        line_flags.append((line[:1].isspace(), line[-1:].isspace()))
        words = line.split()          # the same runs as \S+: str.split and \s agree on spaces
        line_tokens[line_no] = len(words)
        # Only a line's first and last words can meet a line break; its interior travels as one
        # blob, which keeps the per-word work (and the cost on long wrapped texts) small.
        first = len(line) - len(line.lstrip())
        if len(words) < 3:
            at = first
            for position, word in enumerate(words):
                if position:
                    at = line.index(word, at)
                pieces.append(_Piece(word, start + at, line_no))
                blank_before.append(previous_blank and position == 0)
                at += len(word)
        else:
            last_end = len(line.rstrip())
            last = last_end - len(words[-1])
            inner_start = _NON_SPACE_RE.search(line, first + len(words[0])).start()
            inner_end = len(line[:last].rstrip())
            pieces.append(_Piece(words[0], start + first, line_no))
            pieces.append(_blob_span(line, inner_start, inner_end, words, start, line_no, nfc_map))
            pieces.append(_Piece(words[-1], start + last, line_no))
            blank_before.extend((previous_blank, False, False))
        previous_blank = False

    vocabulary = _clean_vocabulary(pieces, line_tokens)
    line_sizes = line_tokens
    scorer = _Scorer(lexicon, vocabulary)

    # boundary[k] between pieces[k] and pieces[k+1]: 'join' | 'space' | 'break' | 'amb'
    boundary: list[str] = []
    for k in range(len(pieces) - 1):
        a, b = pieces[k], pieces[k + 1]
        if a.line == b.line:
            boundary.append("space")
        elif blank_before[k + 1] or a.line in separator_lines or b.line in separator_lines:
            boundary.append("break")
        elif line_flags[b.line][0] or line_flags[a.line][1]:
            # Whitespace at the break marks a real space, unless punctuation follows.
            boundary.append("join" if b.text[0] in ".,;:)" else "space")
        elif _starts_item_line(b.line, pieces, k + 1, line_sizes):
            boundary.append("space")      # "NĂM 2025\n1. Chỉ tiêu": an item starts, never a split
        else:
            boundary.append(_forced_decision(a.text, b.text) or "amb")

    # English text: a word is never split across lines without a hyphen, so every ambiguous
    # break is a wrap (the Vietnamese syllable statistics would glue "GOVERNMENT" + "OF").
    if "amb" in boundary and _looks_english(text):
        boundary = ["space" if b == "amb" else b for b in boundary]
    k = 0
    while k < len(boundary):
        if boundary[k] != "amb":
            k += 1
            continue
        run_end = k
        while run_end < len(boundary) and boundary[run_end] == "amb":
            run_end += 1
        run = pieces[k: run_end + 1]
        prev_token = pieces[k - 1].text if k > 0 and boundary[k - 1] == "space" else None
        for offset, joined in enumerate(_choose_joins(run, scorer, prev_token)):
            boundary[k + offset] = "join" if joined else "space"
        k = run_end

    marked = {k for k in range(len(boundary)) if pieces[k].line != pieces[k + 1].line
              and (line_flags[pieces[k + 1].line][0] or line_flags[pieces[k].line][1])}
    return _assemble(pieces, boundary, nfc_map, lexicon, stats, repairs, raw, marked)


def _looks_english(text: str) -> bool:
    from ingest.vocab import detect_language
    return detect_language(text) == "en"


_ITEM_PIECE_RE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.|[a-zđ]\)|[IVXLC]{1,5}\.)$")


def _starts_item_line(line: int, pieces: list[_Piece], index: int, line_sizes: dict[int, int]) -> bool:
    return line_sizes.get(line, 0) >= 3 and bool(_ITEM_PIECE_RE.match(pieces[index].text))


def _split_lines(text: str) -> list[tuple[str, int]]:
    lines = []
    start = 0
    for line in text.split("\n"):
        lines.append((line.rstrip("\r"), start))
        start += len(line) + 1
    return lines


def _strip_boilerplate(lines, stats, repairs, nfc_map):
    patterns = boilerplate_patterns()

    def is_boilerplate(line: str) -> bool:
        stripped = line.strip()
        return bool(stripped) and any(p.match(stripped) for p in patterns)

    def is_blank_or_boilerplate(line: str) -> bool:
        return not line.strip() or is_boilerplate(line)

    first = 0
    while first < len(lines) and is_blank_or_boilerplate(lines[first][0]):
        first += 1
    # A YAML front-matter block ('---' / 'key: value' lines / '---') opening the file.
    if first < len(lines) and lines[first][0].strip() == "---":
        end = next((i for i in range(first + 1, min(len(lines), first + 40))
                    if lines[i][0].strip() == "---"), None)
        if end is not None and all(re.match(r"^\s*[\w-]+\s*:", line) or not line.strip()
                                   for line, _ in lines[first + 1: end]):
            for line, start in lines[first: end + 1]:
                if line.strip():
                    stats.boilerplate_lines += 1
                    repairs.append(Repair(kind="strip_front_matter", raw_start=_raw(nfc_map, start),
                                          raw_end=_raw(nfc_map, start + len(line))))
            lines = lines[:first] + [("", lines[first][1])] * (end + 1 - first) + lines[end + 1:]
            while first < len(lines) and is_blank_or_boilerplate(lines[first][0]):
                first += 1
    last = len(lines)
    while last > first and is_blank_or_boilerplate(lines[last - 1][0]):
        last -= 1
    for line, start in lines[:first] + lines[last:]:
        if line.strip():
            stats.boilerplate_lines += 1
            repairs.append(Repair(kind="strip_boilerplate", raw_start=_raw(nfc_map, start),
                                  raw_end=_raw(nfc_map, start + len(line))))
    return lines[first:last]


def _strip_furniture(lines, stats, repairs, nfc_map):
    """Remove page furniture anywhere: gazette page headers ('CÔNG BÁO/Số 271/Ngày 12-05-2026'),
    the page numbers beside them, '____' rules and e-signature stamps ('Người ký: …',
    'Thời gian ký: …'). A page header between two halves of a sentence disappears with the
    blank lines around it, so the halves meet again as one wrapped line. Each removal is a
    recorded repair; the authors' words are never touched."""
    stripped = [line.strip() for line, _ in lines]
    drop: set[int] = set()
    rule_lines: set[int] = set()
    for i, text in enumerate(stripped):
        if _PAGE_HEADER_RE.match(text):
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
        return lines
    # Blank lines that only surrounded removed furniture go with it.
    removable = drop | {i for i, t in enumerate(stripped) if not t}
    for i in sorted(drop):
        for step in (-1, 1):
            j = i + step
            while 0 <= j < len(lines) and j in removable and j not in drop:
                j += step
    out = []
    previous_dropped = False
    for i, (line, start) in enumerate(lines):
        if i in drop or i in rule_lines:
            stats.furniture_lines += 1
            repairs.append(Repair(kind="strip_page_furniture", raw_start=_raw(nfc_map, start),
                                  raw_end=_raw(nfc_map, start + len(line))))
            if i in rule_lines:
                out.append(("", start))        # a rule still separates what it separated
            previous_dropped = i in drop
            continue
        if previous_dropped and not stripped[i]:
            continue                           # a blank line right after furniture
        if not stripped[i] and i + 1 < len(lines) and (i + 1) in drop:
            continue                           # a blank line right before furniture
        previous_dropped = False
        out.append((line, start))
    return out


def _raw(nfc_map: list[int], index: int) -> int:
    if not nfc_map:
        return index
    return nfc_map[min(index, len(nfc_map) - 1)] if index < len(nfc_map) else nfc_map[-1] + 1


_NON_SPACE_RE = re.compile(r"\S")


def _blob_span(line: str, inner_start: int, inner_end: int, words: list[str], line_start: int,
               line_no: int, nfc_map: list[int]) -> _Piece:
    """The interior words of a line (all but its first and last) as one piece."""
    text = " ".join(words[1:-1])
    if len(text) == inner_end - inner_start:
        # Words one space apart (the usual line): the blob is the line's own slice.
        return _Piece(text, line_start + inner_start, line_no, end=line_start + inner_end,
                      raw_offsets=nfc_map[line_start + inner_start: line_start + inner_end], blob=True)
    tokens = list(re.finditer(r"\S+", line))[1:-1]
    return _blob(tokens, line_start, line_no, nfc_map)


def _blob(tokens: list[re.Match[str]], line_start: int, line_no: int, nfc_map: list[int]) -> _Piece:
    text = " ".join(m.group() for m in tokens)
    first, last = tokens[0].start(), tokens[-1].end()
    if len(text) == last - first:
        # Words one space apart (the usual line): the blob is the line's own slice.
        return _Piece(text, line_start + first, line_no, end=line_start + last,
                      raw_offsets=nfc_map[line_start + first: line_start + last], blob=True)
    offsets: list[int] = []
    for index, m in enumerate(tokens):
        if index:
            offsets.append(nfc_map[line_start + tokens[index - 1].end()])
        offsets.extend(nfc_map[line_start + m.start(): line_start + m.end()])
    return _Piece(text, line_start + tokens[0].start(), line_no, end=line_start + tokens[-1].end(),
                  raw_offsets=offsets, blob=True)


# Whole words with a capital or a digit, matched only from word starts (no backtracking).
_CODE_WORD_FAST_RE = re.compile(r"(?<!\S)\S*?[A-ZĐ0-9]\S*")


def _clean_vocabulary(pieces: list[_Piece], line_tokens: dict[int, int]) -> set[str]:
    """Words seen whole inside long lines: evidence that a code or acronym is real."""
    vocabulary = set()
    long_lines = {line for line, size in line_tokens.items() if size >= 4}
    # Piece texts are space-separated words with no space at either end, so one pass over them
    # joined by spaces finds the same whole words as a pass over each.
    # The vocabulary only vouches for codes and acronyms: words with capitals or digits.
    words = set(_CODE_WORD_FAST_RE.findall(" ".join(p.text for p in pieces if p.line in long_lines)))
    for word in words:
        core = word.strip(_LEADING_PUNCT).rstrip(_TRAILING_PUNCT)
        for part in _CODE_SPLIT_RE.split(core):
            if len(part) > 1:
                vocabulary.add(part)
    return vocabulary


def _respaceable(pieces: list[_Piece], lexicon: Lexicon) -> set[str]:
    """The words of these pieces that `_respace` splits (each distinct word looked up once)."""
    words = set(" ".join(p.text for p in pieces).split(" "))
    return {w for w in words if len(w) >= 4 and _respace(w, lexicon)}


def _respace_blob(piece: _Piece, lexicon: Lexicon, stats, repairs, respaceable: set[str]) -> tuple[str, list[int]]:
    """`repairs` takes Repair fields as dicts; `respaceable` is `_respaceable` of the pieces."""
    words = piece.text.split(" ")
    if respaceable.isdisjoint(words):
        return piece.text, piece.raw_offsets
    text_parts, offsets, cursor = [], [], 0
    for index, word in enumerate(words):
        if index:
            text_parts.append(" ")
            offsets.append(piece.raw_offsets[cursor])
            cursor += 1
        word_offsets = piece.raw_offsets[cursor: cursor + len(word)]
        split = _respace(word, lexicon) if len(word) >= 4 else None
        if split:
            stats.respaced_words += 1
            repairs.append({"kind": "respace_word", "raw_start": word_offsets[0],
                            "raw_end": word_offsets[-1] + 1, "after": " ".join(split)})
            cut = len(split[0])
            text_parts.extend([split[0], " ", split[1]])
            offsets.extend(word_offsets[:cut] + [word_offsets[cut]] + word_offsets[cut:])
        else:
            text_parts.append(word)
            offsets.extend(word_offsets)
        cursor += len(word)
    return "".join(text_parts), offsets


def _assemble(pieces, boundary, nfc_map, lexicon, stats, repairs, raw, marked) -> RepairResult:
    out: list[str] = []
    offsets: list[int] = []
    cross_line_positions: list[int] = []       # indices in `out` of cross-line separators
    unmarked_positions: set[int] = set()       # ... whose raw break had no whitespace marker
    append_text, append_offset, extend_offsets = out.append, offsets.append, offsets.extend
    found: list[dict] = []                     # this pass's repairs, in order (Repair fields)
    add_repair = found.append
    last_map = len(nfc_map) - 1
    past_end = nfc_map[-1] + 1 if nfc_map else 0
    respaceable = _respaceable(pieces, lexicon)

    joins = 0
    last = len(pieces) - 1
    for k, piece in enumerate(pieces):
        if piece.blob:
            text, raw_offsets = _respace_blob(piece, lexicon, stats, found, respaceable) \
                if respaceable else (piece.text, piece.raw_offsets)
            append_text(text)
            extend_offsets(raw_offsets)
        else:
            split = _respace(piece.text, lexicon) if piece.text in respaceable else None
            if split:
                stats.respaced_words += 1
                add_repair({"kind": "respace_word", "raw_start": _raw(nfc_map, piece.start),
                            "raw_end": _raw(nfc_map, piece.start + len(piece.text)),
                            "after": " ".join(split)})
                left = len(split[0])
                append_text(split[0])
                extend_offsets([_raw(nfc_map, piece.start + i) for i in range(left)])
                append_text(" ")
                append_offset(_raw(nfc_map, piece.start + left))
                append_text(split[1])
                extend_offsets([_raw(nfc_map, piece.start + left + i) for i in range(len(split[1]))])
            else:
                append_text(piece.text)
                extend_offsets(nfc_map[piece.start: piece.start + len(piece.text)])
        if k == last:
            break
        decision = boundary[k]
        end = piece.end                        # _raw(nfc_map, end), inlined for the hot loop
        gap_raw = nfc_map[end] if end <= last_map else past_end
        nxt = pieces[k + 1]
        if decision == "join":
            joins += 1
            add_repair({"kind": "join_split", "raw_start": gap_raw, "raw_end": _raw(nfc_map, nxt.start)})
            continue
        if nxt.line != piece.line:
            cross_line_positions.append(len(offsets))
            if k not in marked:
                unmarked_positions.add(len(offsets))
            append_text("\n" if decision == "break" else " ")
        else:
            append_text(" ")
        append_offset(gap_raw)
    stats.split_joins += joins

    text = "".join(out)
    # A wrap space becomes a paragraph break where the structure says so. Only positions before
    # the current one change, and never inside the slices read (they start after the last
    # break), so the checks read the assembled text itself.
    breaks: list[int] = []
    line_start = 0
    for position in cross_line_positions:
        line_start = max(line_start, text.rfind("\n", line_start, position) + 1)
        char = text[position]
        if char == " " and (
                _is_structural_break(text, position, line_start)
                or position in unmarked_positions and position - line_start < 160 and _is_hard_upper_break(
                    text[line_start:position],
                    text[position + 1: position + 120].split("\n", 1)[0])):
            char = "\n"
            breaks.append(position)
        if char == "\n":
            line_start = position + 1
    if breaks:
        parts, previous = [], 0
        for position in breaks:
            parts.append(text[previous:position])
            parts.append("\n")
            previous = position + 1
        parts.append(text[previous:])
        text = "".join(parts)
    paragraph_breaks = 0
    for position in cross_line_positions:
        char = text[position]
        if char == "\n":
            paragraph_breaks += 1
            kind = "paragraph_break"
        else:
            kind = "newline_to_space"
        start = offsets[position]
        add_repair({"kind": kind, "raw_start": start, "raw_end": start + 1, "after": char})
    stats.paragraph_breaks += paragraph_breaks
    stats.wrap_spaces += len(cross_line_positions) - paragraph_breaks
    repairs.extend(_REPAIR_LIST.validate_python(found))
    offsets.append(len(raw))
    return RepairResult(text=text, offset_map=offsets, stats=stats, repairs=repairs)


def _is_structural_break(text: str, position: int, line_start: int) -> bool:
    # Only the head (markers) and the tail (sentence end) of a long paragraph matter; slicing
    # just those keeps this linear in the paragraph's length.
    if position - line_start > 400:
        prev_line = text[line_start: line_start + 60] + " … " + text[position - 300: position]
    else:
        prev_line = text[line_start: position]
    after = text[position + 1: position + 81]
    if prev_line.strip() in known_abbreviations():
        return False        # "KT.\n TỔNG GIÁM ĐỐC": the signing authority belongs to its title
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
