"""The domain vocabulary of Vietnamese administrative documents, in one place.

Every stage that needs to know what a document kind is, what a document number looks like,
how a date is written (in Vietnamese or English), which language a text is in, what an item
marker is, or which words carry no meaning reads it from here:

- kinds: `KINDS`, `kind_from_code`, `kind_from_number`, `kind_from_title`, `kind_en`,
  `kind_vi_names`
- numbers: `NUMBER_RE`, `HEADER_NUMBER_RE`, `normalise_number`, `restore_diacritics`,
  `number_key`, `is_well_formed_number`, `number_from_filename`, `is_unnumbered`
- dates: `DMY_RE`, `LONG_DATE_VI_RE`, `EN_DATE_RE`, `PLACE_DATE_VI_RE`, `PLACE_DATE_EN_RE`,
  `parse_date_vi`, `parse_date_en`, `parse_date`, `find_dates`
- language: `detect_language`
- item markers: `ITEM_MARKERS`, `marker_of`
- words: `stopwords`, `SURNAMES`, `is_person_name`

The tables live in `ingest/data/` (kinds.yaml, codes.txt, stopwords.txt, surnames.txt).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import chain, compress, filterfalse
from operator import not_
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"

UPPER = "A-ZĐÀ-ỸÂĂÊÔƠƯ"          # character-class body: Vietnamese capitals (with A-Z)


# ---------------------------------------------------------------- kinds

@dataclass(frozen=True)
class Kind:
    code: str             # "QĐ"
    vi: str               # "Quyết định"
    en: str               # "Decision"
    en_aliases: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def kinds() -> tuple[Kind, ...]:
    rows = yaml.safe_load((DATA / "kinds.yaml").read_text(encoding="utf-8"))
    return tuple(Kind(r["code"], r["vi"], r["en"], tuple(r.get("en_aliases") or ())) for r in rows)


def kinds_table() -> list[dict]:
    """The kinds as plain rows {code, vi, en} (the old `parse.kinds_table` shape)."""
    return [{"code": k.code, "vi": k.vi, "en": k.en} for k in kinds()]


def kind_vi_names() -> list[str]:
    """Every Vietnamese kind name, longest first (so 'Thông tư liên tịch' wins over 'Thông tư')."""
    return sorted({k.vi for k in kinds()}, key=len, reverse=True)


def kind_from_code(code: str | None) -> str | None:
    """'QĐ' → 'Quyết định'; ASCII forms too ('QD', 'CD'); 'CV' → 'Công văn'."""
    if not code:
        return None
    code = restore_diacritics(code.strip())
    for kind in kinds():
        if kind.code == code:
            return kind.vi
    upper = code.upper()
    for kind in kinds():
        if kind.code.upper() == upper:
            return kind.vi
    return None


def kind_en(kind_vi: str | None) -> str | None:
    for kind in kinds():
        if kind.vi == kind_vi:
            return kind.en
    return None


def kind_from_number(number: str | None) -> str | None:
    """The first code after the number (and year) names the kind: 968/CĐ-TTg → Công điện.

    A number whose codes are only agency and unit codes (3476/BHXH-TCCB) is an official
    dispatch (Công văn): that is how Vietnamese dispatches are numbered.
    """
    if not number:
        return None
    codes = [c for c in re.split(r"[/\-]", number)[1:] if c and not c.isdigit()]
    if not codes:
        return None
    kind = kind_from_code(codes[0])
    if kind:
        return kind
    if len(codes) >= 2 or (codes and number.count("/") == 1):
        return "Công văn"
    return None


@lru_cache(maxsize=1)
def _title_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for name in kind_vi_names():
        if name == "Luật" or name == "Lệnh":
            continue      # too common as a capitalised word; kinds by code only
        words = r"\s+".join(re.escape(w) for w in name.upper().split())
        out.append((re.compile(rf"^\W*{words}(?![\w])"), name))
    for kind in kinds():
        for alias in kind.en_aliases:
            words = r"\s+".join(re.escape(w) for w in alias.upper().split())
            out.append((re.compile(rf"^\W*{words}(?![\w])"), kind.vi))
    out.sort(key=lambda pair: len(pair[0].pattern), reverse=True)
    return tuple(out)


def kind_from_title(line: str) -> str | None:
    """The kind a title line names: 'QUYẾT ĐỊNH', '**KẾ HOẠCH**', 'DECISION' → Vietnamese kind.

    Only a line written in capitals counts as a title (a sentence saying 'Quyết định này ...'
    is not one).
    """
    text = line.strip().strip("*#_|: ").strip()
    if not text:
        return None
    head = text.split(":", 1)[0] if len(text) > 60 else text
    letters = [c for c in head[:40] if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return None
    for pattern, name in _title_patterns():
        if pattern.match(text):
            return name
    return None


# ---------------------------------------------------------------- numbers

_ATOM = r"[A-ZĐ][A-ZĐa-zđ0-9]*(?:\.[A-ZĐ0-9]{1,3}(?![\w]))?"
# The patterns open with a digit and check the character before it only then: a pattern that
# opens with a look-behind is tried at every position, one that opens with \d only at digits
# (twice as fast). r"\d(?<![\w/.]\d)\d{0,4}" is r"(?<![\w/.])\d{1,5}".
NUMBER_RE = re.compile(
    r"(\d(?<![\w/.]\d)\d{0,4})\s*/\s*(?:(\d{4})\s*/\s*)?"
    rf"({_ATOM}(?:\s*[-–]\s*{_ATOM})+|[A-ZĐ][A-ZĐa-z]*[A-ZĐ][A-ZĐa-z0-9]*)(?![\w])"
)
# A Party document's number: serial, kind code, issuing body ("52-CT/TW", "119-KH/TU").
# (a scan may space the hyphen: "Kế hoạch số 119- KH/TU"; `party_number` closes it up)
PARTY_NUMBER_RE = re.compile(r"\d(?<![\w/.-]\d)\d{0,3}- ?[A-ZĐ]{2,4}/[A-ZĐ]{2,4}(?![\w])")


def party_number(written: str) -> str:
    """A Party document's number as written, its spaced hyphen closed ("119- KH/TU" → "119-KH/TU")."""
    return written.replace("- ", "-")
# A header's own number: "Số: 08/2022/QĐ-TTg", "No. 3068/BHXH CSXH" (an English site wrote a
# space for the hyphen), "Số hiệu: ..."; OCR writes Só / Sô / S6 for Số.
HEADER_NUMBER_RE = re.compile(
    r"(?:^|(?<=[\s|*(\-_=]))(?:Số|SỐ|Só|Sô|Sỏ|Sổ|S6|No|NO|Number)\s*(?:hiệu)?\s*[.:]?\s*\**\s*"
    rf"(?P<number>(\d{{1,5}})\s*/\s*(?:\d{{4}}\s*/\s*)?(?:{_ATOM}(?:\s*[-–]\s*{_ATOM})*)"
    rf"(?:[ \t]+[A-ZĐ]{{2,8}}(?=[ \t]*(?:$|\|)|\s+(?:On|About|Regarding|Re|V/v)\b))?)(?![\w])",
    re.MULTILINE)
# "Số: ....../BHXH", "Số:     /UBND-VX", "No.: /..." — a document issued without a number.
UNNUMBERED_RE = re.compile(
    r"(?:^|(?<=[\s|*]))(?:Số|SỐ|Só|Sô|No)\s*[.:]?\s*[.…_\s]*/\s*(?P<codes>[A-ZĐ][\w\-. ]{0,30})",
    re.MULTILINE)
KHONG_SO = "KhongSo"


@lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _atom_table() -> dict[str, str]:
    """ASCII/upper-case form of a code atom → its canonical form (LDTBXH → LĐTBXH, TTG → TTg)."""
    atoms = [k.code for k in kinds()]
    atoms += [line.strip() for line in (DATA / "codes.txt").read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    atoms += ["TTg", "CP", "QH", "UBTVQH", "TW", "VPCP", "BHXH", "UBND"]
    table: dict[str, str] = {}
    for atom in atoms:
        table.setdefault(_fold(atom).upper(), atom)
    return table


def _restore_atom(atom: str) -> str:
    m = re.fullmatch(r"([A-Za-zĐđ]+?)(\d*)", atom)
    if not m:
        return atom
    letters, digits = m.groups()
    table = _atom_table()
    canonical = table.get(_fold(letters).upper())
    if canonical is None:
        return atom
    if canonical.upper() != letters.upper() and _fold(canonical) != _fold(letters):
        return atom
    # Restore only what was lost (ASCII letters, capitals): never change a written Vietnamese atom.
    if letters == canonical or letters.upper() == canonical.upper() or _fold(letters) == letters:
        return canonical + digits
    return atom


def restore_diacritics(number: str) -> str:
    """English sites write 968/CD-TTg for 968/CĐ-TTg, 797/LDTBXH-BHXH for 797/LĐTBXH-BHXH.

    Whole atoms only: 'UBND', 'HD' and any atom not in the table are left as written.
    """
    parts = re.split(r"([/\-])", number)
    return "".join(p if p in "/-" or p.isdigit() else _restore_atom(p) for p in parts)


_SPACED_SEPARATOR_RE = re.compile(r"\s*([/\-])\s*")
_SPACES_RE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalise_number(text: str) -> str:
    """'1869 / BHXH - BT' → '1869/BHXH-BT'; '797/LDTBXH-BHXH' → '797/LĐTBXH-BHXH';
    '3068/BHXH CSXH' → '3068/BHXH-CSXH'; '4999 /QCPH - BHXH - TCT' → '4999/QCPH-BHXH-TCT'."""
    text = unicodedata.normalize("NFC", text).strip().strip("*.,;:")
    text = text.replace("–", "-").replace("—", "-")
    text = _SPACED_SEPARATOR_RE.sub(r"\1", text)
    text = _SPACES_RE.sub("-", text)            # a space between code atoms stands for a hyphen
    if text.startswith(KHONG_SO):
        return text
    return restore_diacritics(text)


def number_key(number: str) -> str:
    """A lookup key that ignores spacing, case and lost diacritics: for matching, not display."""
    return _fold(normalise_number(number)).casefold()


_WELL_FORMED_RE = re.compile(
    rf"^(?:\d{{1,5}}|{KHONG_SO})/(?:\d{{4}}/)?{_ATOM}(?:[-/](?:{_ATOM}|\d{{4}}))*$")


def is_well_formed_number(number: str) -> bool:
    return bool(_WELL_FORMED_RE.match(number))


def number_from_filename(name: str) -> str | None:
    """'08_2022_QD-TTg.txt' → '08/2022/QĐ-TTg'; '1040_LDTBXH-NCC.txt' → '1040/LĐTBXH-NCC';
    'KhongSo_BHXH-X.txt' → 'KhongSo/BHXH-X'. None when the name is not a well-formed number."""
    stem = Path(name).stem
    m = re.fullmatch(rf"(\d{{1,5}}|{KHONG_SO})[_ ](?:(\d{{4}})[_ ])?([A-Za-zĐđ][\w.\-]*)", stem)
    if not m:
        return None
    number = m.group(1) + "/" + (m.group(2) + "/" if m.group(2) else "") + m.group(3)
    number = normalise_number(number)
    return number if is_well_formed_number(number) else None


def is_unnumbered(header_text: str) -> bool:
    """The header's number line is left blank ('Số: ....../BHXH'): a 'Không số' document."""
    return bool(UNNUMBERED_RE.search(header_text))


# ---------------------------------------------------------------- dates

DMY_RE = re.compile(r"(?<!\d)(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})(?!\d)")
LONG_DATE_VI_RE = re.compile(
    r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.IGNORECASE)
MONTHS_EN = ["january", "february", "march", "april", "may", "june", "july", "august",
              "september", "october", "november", "december"]
_MONTH_ALT = "|".join(m.capitalize() for m in MONTHS_EN) + "|" + "|".join(
    m[:3].capitalize() + r"\." for m in MONTHS_EN if len(m) > 4)
EN_DATE_RE = re.compile(
    rf"(?:({_MONTH_ALT})\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})"
    rf"|(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_ALT}),?\s+(\d{{4}}))")
PLACE_DATE_VI_RE = re.compile(
    rf"([{UPPER}][\w .]{{1,30}}?)\s*,\s*ngày\s*(\d{{1,2}}|\d \d)\s*tháng\s*(\d{{1,2}}|\d \d)\s*năm\s*(\d{{4}})")
PLACE_DATE_EN_RE = re.compile(rf"([A-Z][A-Za-z .]{{1,30}}?)\s*,\s*(?:{EN_DATE_RE.pattern})")


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_number(name: str) -> int:
    name = name.rstrip(".").lower()
    return next(i for i, m in enumerate(MONTHS_EN, 1) if m.startswith(name))


def date_of_en_match(m: re.Match[str], offset: int = 0) -> date | None:
    """The date in a match of EN_DATE_RE (or a pattern embedding it at group `offset`)."""
    g = m.groups()[offset: offset + 6]
    if g[0]:
        return _safe_date(int(g[2]), _month_number(g[0]), int(g[1]))
    return _safe_date(int(g[5]), _month_number(g[4]), int(g[3]))


def parse_date_vi(text: str) -> date | None:
    """The first Vietnamese date in `text`: 'ngày 28 tháng 3 năm 2022', '28/3/2022', '28-3-2022'."""
    best = None
    for pattern in (LONG_DATE_VI_RE, DMY_RE):
        m = pattern.search(text)
        if m and (best is None or m.start() < best.start()):
            best = m
    if best is None:
        return None
    return _safe_date(int(best.group(3)), int(best.group(2)), int(best.group(1)))


def parse_date_en(text: str) -> date | None:
    """The first English date in `text`: 'March 17, 2020', '17 March 2020', 'Dec. 2, 2025'."""
    m = EN_DATE_RE.search(text)
    return date_of_en_match(m) if m else None


def parse_date(text: str) -> date | None:
    """A date in either language, whichever comes first."""
    candidates = [(m.start(), d) for m, d in find_dates(text)[:1]]
    return candidates[0][1] if candidates else None


def find_dates(text: str) -> list[tuple[re.Match[str], date]]:
    """Every readable date in `text`, in either language, in order of position."""
    found = []
    for m in LONG_DATE_VI_RE.finditer(text):
        d = _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if d:
            found.append((m, d))
    for m in DMY_RE.finditer(text):
        d = _safe_date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        if d and not any(o.start() <= m.start() < o.end() for o, _ in found):
            found.append((m, d))
    for m in EN_DATE_RE.finditer(text):
        d = date_of_en_match(m)
        if d:
            found.append((m, d))
    found.sort(key=lambda pair: pair[0].start())
    return found


# ---------------------------------------------------------------- language

_VI_LETTER_RE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u00C0-\u00C3\u00C8-\u00CA\u00CC\u00CD\u00D2-\u00D5"
                           r"\u00D9\u00DA\u00DD\u00E0-\u00E3\u00E8-\u00EA\u00EC\u00ED\u00F2-\u00F5"
                           r"\u00F9\u00FA\u00FD\u0128\u0129\u0168\u0169\u01A0\u01A1\u01AF\u01B0"
                           r"\u1EA0-\u1EF9]")
_WORD_RE = re.compile(r"[^\W\d_]+")
_VI_WORD_RE = re.compile(r"[^\W\d_]*" + _VI_LETTER_RE.pattern + r"[^\W\d_]*")
_VI_WORD_TAIL_RE = re.compile(_VI_LETTER_RE.pattern + r"[^ ]*")     # over words one space apart
_FOLDS_TO_ASCII = "\u00df\u017f\u1e9e\u212a\ufb00\ufb01\ufb02\ufb03\ufb04\ufb05\ufb06"   # and are not


def detect_language(text: str) -> str:
    """'vi' or 'en' for a document or passage (default 'vi' when there are no words).

    Vietnamese is recognised by its letters, English by its function words: a text with
    few Vietnamese-lettered words is English; otherwise the larger share wins, so an English
    text quoting Vietnamese names, or a Vietnamese text with an English site notice, is
    still read right.
    """
    sample = unicodedata.normalize("NFC", text[:8000])
    # The words are the letter runs of _WORD_RE. A whitespace token of letters only is one word
    # (most are), so only the other tokens go through the pattern. The counts run as C-level
    # loops (map, filter, compress): a pattern over every character, or a Python step per word,
    # costs three times as much.
    tokens = sample.split()
    letters_only = list(map(str.isalpha, tokens))
    plain = list(compress(tokens, letters_only))
    words = _WORD_RE.findall(" ".join(compress(tokens, map(not_, letters_only))))
    count = len(plain) + len(words)
    if not count:
        return "vi"
    # The words with a Vietnamese letter (what _VI_WORD_RE finds, without its backtracking):
    # all have a letter beyond ASCII; one match each, from its first Vietnamese letter on.
    accented = " ".join(chain(filterfalse(str.isascii, plain), filterfalse(str.isascii, words)))
    vi = len(_VI_WORD_TAIL_RE.findall(accented)) / count
    en_words = stopwords("en")
    # The function words are ASCII, and so is a token that folds to one, unless it holds one
    # of the few other characters that fold to ASCII ('ſ', 'ß', the Kelvin sign, ligatures).
    if any(c in sample for c in _FOLDS_TO_ASCII):
        folded = sample.casefold().split()
    else:
        folded = " ".join(filter(str.isascii, tokens)).casefold().split()
    en = sum(1 for w in folded if w.strip(".,;:()\"'") in en_words) / count
    # Vietnamese prose has diacritics on a third or more of its words (even OCR keeps many);
    # an English text only on the Vietnamese names and codes it quotes.
    if vi < 0.15:
        return "en"
    return "en" if en * 2.0 > vi and en >= 0.08 else "vi"


# ---------------------------------------------------------------- item markers

# (kind, pattern): the marker opening a structural item, in the order they are tried.
ITEM_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chapter", re.compile(r"^(?:Chương|CHƯƠNG|Chapter|CHAPTER)\s+([IVXLC]+|\d{1,3})\b\.?\s*")),
    # 'Chương IIĐỐI TƯỢNG …': a scan or a site glued the chapter's title to its numeral.
    ("chapter", re.compile(r"^(?:Chương|CHƯƠNG)\s+([IVX]{1,5})(?=[A-ZĐÀ-Ỹ]{2,}(?:\s|,|$))")),
    ("section", re.compile(r"^(?:Mục|MỤC|Section|SECTION)\s+(\d{1,2}|[IVXLC]+)\b\.?\s*")),
    ("appendix", re.compile(
        r"^(?:Phụ\s+lục|PHỤ\s+LỤC|Appendix|APPENDIX|Annex|ANNEX)(?:\s+(?:số\s+)?([IVXLC]+|\d{1,2}[a-z]?))?"
        r"(?=\s|$|[.:\-])")),
    ("article", re.compile(r"^(?:Điều|Article)\s+(\d{1,3}[a-z]?)\s*[.:]\s*")),
    ("article", re.compile(r"^(?:Điều|Article)\s+(\d{1,3}[a-z]?)(?=\s*$)")),
    ("roman", re.compile(r"^(X{0,3}(?:IX|IV|V?I{0,3}))[.)]\s+")),
    # A scan's OCR reads a numeral's last I as L or l ("IL. Tiền lương …", "IIL. Thu …"): the
    # numeral it stands for, when a heading follows.
    ("roman_ocr", re.compile(r"^(X{0,3}V?I{0,2}|X{1,3}|V)[Ll][.)]\s+(?=[A-ZĐÀ-Ỹ])")),
    ("part", re.compile(r"^([A-HJ-UWYZ])\.\s+(?=[A-ZĐÀ-Ỹ])")),
    ("subletter", re.compile(r"^(\d{1,2}(?:\.\d{1,2})+\.[a-zđ])\s*[).]\s*")),
    ("subnumber", re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)\.?\)?\s+")),
    ("number", re.compile(r"^(\d{1,2})\s*[.)]\s+|^(\d{1,2})\s+-\s+|^\((\d{1,2})\)\s+")),
    ("letter", re.compile(r"^([a-zđ])\s*\)\s*|^\(([a-zđ])\)\s+|^([a-zđ])\.\s+(?=\S)")),
    ("dash", re.compile(r"^([-–•●▪])\s*(?=\S)")),
    ("plus", re.compile(r"^(\+)\s*(?=\S)")),
)


@lru_cache(maxsize=65536)
def marker_of(text: str) -> tuple[str, str, str] | None:
    """(kind, token, marker as written) for a line opening an item, else None."""
    for kind, pattern in ITEM_MARKERS:
        m = pattern.match(text)
        if m:
            token = next((g for g in m.groups() if g), "") if m.groups() else ""
            if kind == "roman" and not token:
                continue
            if kind == "roman_ocr":
                if not token:
                    continue
                kind, token = "roman", token + "I"
            return kind, token, m.group(0).strip()
    return None


# ---------------------------------------------------------------- words

@lru_cache(maxsize=2)
def stopwords(language: str) -> frozenset[str]:
    sections: dict[str, set[str]] = {}
    current = None
    for line in (DATA / "stopwords.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.endswith(":") and line[:-1] in ("vi", "en"):
            current = sections.setdefault(line[:-1], set())
            continue
        if current is not None:
            current.update(line.split())
    return frozenset(sections.get(language, set()))


@lru_cache(maxsize=1)
def surnames() -> frozenset[str]:
    words: set[str] = set()
    for line in (DATA / "surnames.txt").read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words | {_fold(w) for w in words})


SURNAMES = surnames


@lru_cache(maxsize=1)
def _agencies() -> dict[str, str]:
    rows = yaml.safe_load((DATA / "agencies.yaml").read_text(encoding="utf-8"))
    return {re.sub(r"\s+", " ", en).casefold(): row["vi"] for row in rows for en in row["en"]}


def agency_vi(english: str) -> str | None:
    """'VIETNAM SOCIAL SECURITY' → 'Bảo hiểm xã hội Việt Nam' (data/agencies.yaml), else None."""
    key = re.sub(r"\s+", " ", english).strip(" .,*").casefold()
    key = re.sub(r"^the\s+", "", key)
    return _agencies().get(key)


def is_person_name(text: str) -> bool:
    """'Nguyễn Thị Minh', 'Nguyen Quoc Thanh': 2–5 capitalised words starting with a family name."""
    words = text.split()
    if not 2 <= len(words) <= 5:
        return False
    if not all(w[:1].isupper() and len(w) >= 2 and w[1:].islower() and w.isalpha() for w in words):
        return False
    return words[0] in surnames()
