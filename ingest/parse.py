"""Parse a repaired directive into metadata, a clause tree, actors, deadlines and references.

Deterministic and explainable. The text is cut into zones, each read by its own rules:

    front matter   site chrome and a site's metadata table (`Số hiệu | …`): evidence only
    header         agency, motto, number, place and date, title, subject, recipients
    body           the clause tree (Chương / Mục / Điều / khoản / điểm, or 1. / a) / - items)
    footer         closing formula, cc list ("Nơi nhận"), signature block
    attachments    a promulgated Quy chế / Quy trình / Kế hoạch (`annex`), appendices and
                   tables (`appendix1`, …)

Every body line lands in a clause: a body without items becomes paragraphs `p1…pn`; a line
that can't be placed is kept in the nearest clause with a warning. The header and signature
block form the `header` clause, so metadata answers always have a clause to cite.
The vocabulary (kinds, numbers, dates, markers, language) comes from `ingest.vocab`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.model import (
    Clause, Deadline, Document, IdentityEvidence, Reference, Signer, Source,
)
from ingest.repair import RepairResult
from ingest.vocab import (  # noqa: F401  (re-exported: the old home of these names)
    DMY_RE, EN_DATE_RE, HEADER_NUMBER_RE, LONG_DATE_VI_RE, MONTHS_EN, NUMBER_RE, PARTY_NUMBER_RE, PLACE_DATE_EN_RE,
    PLACE_DATE_VI_RE, UPPER, agency_vi, surnames, date_of_en_match, detect_language, find_dates, is_person_name,
    is_unnumbered, is_well_formed_number, kind_en, kind_from_code, kind_from_number,
    kind_from_title, kind_vi_names, kinds_table, marker_of, normalise_number,
    number_from_filename, number_key, parse_date_en, parse_date_vi, party_number,
)
from ingest.vocab import _fold

DATA = Path(__file__).parent / "data"

PLACE_DATE_RE = PLACE_DATE_VI_RE          # the old name
_DMY_RE = DMY_RE.pattern
_LONG_DATE_RE = LONG_DATE_VI_RE.pattern.replace("ngày\\s*", "", 1)

# Kinds by structural level: lower binds tighter to the top.
_LEVEL = {"part": 0, "chapter": 1, "section": 2, "roman": 3, "article": 4, "number": 5,
          "subnumber": 6, "letter": 7, "subletter": 7, "dash": 8, "plus": 9}
_CLOSING_CUES = re.compile(
    r"^(Yêu cầu|Đề nghị|Trên đây|Trong quá trình|Nhận được|BHXH Việt Nam yêu cầu|"
    r"Bảo hiểm xã hội Việt Nam yêu cầu|Thủ trưởng các đơn vị|Công văn này|This (?:Official )?"
    r"(?:Dispatch|Letter)|During the implementation|In the course of implementation)",
    re.IGNORECASE)
_ORDINALS_EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                "ninth", "tenth"]
_MOTTO_RE = re.compile(r"CONG\s*HOA\s*XA\s*HOI|DOC\s*LAP\s*[-–—]?\s*TU\s*DO|SOCIALIST\s*REPUBLIC|"
                       r"INDEPENDENCE\s*[-–—]\s*FREEDOM")
_FOOTER_RE = re.compile(r"^(?:Nơi\s*nh[ậa]n|Recipients?\s*:|Nơi gửi)", re.IGNORECASE)
# (a web page's markdown may bold it: "**Kính gửi:** Ủy ban …")
# A telegram names its addressees after its sender: "BỘ XÂY DỰNG điện:", "THỦ TƯỚNG CHÍNH PHỦ điện:".
_RECIPIENTS_RE = re.compile(r"^[*_]*(?:(?:Đồng\s*)?Kính\s*gửi|Kinh\s*gui|To|"
                            rf"(?-i:(?:[{UPPER}]+[*_]*\s+){{1,8}}[*_]*điện(?=\s*:)))\s*:?[*_]*(?=\s|$|\|)",
                            re.IGNORECASE)
_RECIPIENTS_INLINE_RE = re.compile(r"(?<=\s)Kính\s*gửi\s*:", re.IGNORECASE)
_SUBJECT_RE = re.compile(r"^(?:V/v|V/w|Về việc|Vv|Re|Regarding)[.:]?\s+(.+)$")
_MONTH_NAMES_EN = "|".join(MONTHS_EN)
# "Ngày 19 tháng 9 năm 2013, …" / "On February 1, 2020, …": a body opening with a date.
_PREAMBLE_OPENER_RE = re.compile(
    r"^(?:Căn\s+cứ|Xét\s+đề\s+nghị|Theo\s+đề\s+nghị|Thực\s+hiện|Pursuant|In\s+pursuance|"
    rf"At\s+the\s+request|Implementing|Ngày\s+\d|On\s+(?:(?:{_MONTH_NAMES_EN})\s+\d|\d{{1,2}}\s+(?:{_MONTH_NAMES_EN})\b))",
    re.IGNORECASE)
_AUTHORITY_RE = re.compile(r"^(KT|TL|TM|TUQ|Q|PP|P\.P|FOR|ON BEHALF OF)\.?\s", re.IGNORECASE)
_CAPACITY_WORDS = re.compile(
    r"(BỘ TRƯỞNG|THỨ TRƯỞNG|THỦ TƯỚNG|CHỦ TỊCH|CHỦ NHIỆM|GIÁM ĐỐC|TỔNG GIÁM ĐỐC|CỤC TRƯỞNG|"
    r"VỤ TRƯỞNG|CHÁNH VĂN PHÒNG|TRƯỞNG BAN|PHÓ TRƯỞNG BAN|TRƯỞNG ĐOÀN|TỔNG CỤC TRƯỞNG|"
    r"TRƯỞNG PHÒNG|CHÁNH THANH TRA|BÍ THƯ|GIAM ĐOC|GIÁM ĐOC|TỔNG GIAM|"
    r"MINISTER|PRIME MINISTER|DIRECTOR|CHAIRMAN|CHAIRWOMAN|PRESIDENT|GENERAL DIRECTOR|"
    r"HEAD|CHIEF|DEPUTY|VICE)")
_ATTACHMENT_CUE_RE = re.compile(
    r"^\(?\s*(?:Ban\s+hành\s+)?(?:kèm\s+theo|Kèm\s+theo|Issued\s+(?:together\s+)?with|"
    r"Promulgated\s+(?:together\s+)?with|Attached\s+to|Enclosed\s+with)\b", re.IGNORECASE)
_ANNEX_KINDS = ("Quy chế", "Quy trình", "Quy định", "Kế hoạch", "Chương trình", "Đề án",
                "Hướng dẫn", "Điều lệ", "Phương án", "Danh mục", "Tiêu chuẩn", "Nội quy")
_ANNEX_EN = {"Quy chế": "Regulation", "Quy trình": "Procedure", "Quy định": "Regulation",
             "Kế hoạch": "Plan", "Chương trình": "Programme", "Đề án": "Scheme",
             "Hướng dẫn": "Guidance", "Điều lệ": "Charter", "Phương án": "Plan",
             "Danh mục": "List", "Tiêu chuẩn": "Standards", "Nội quy": "Rules"}
_TITLE_ANNEX_RE = re.compile(
    r"^\W*(QUY\s+CHẾ|QUY\s+TRÌNH|QUY\s+ĐỊNH|KẾ\s+HOẠCH|CHƯƠNG\s+TRÌNH|ĐỀ\s+ÁN|HƯỚNG\s+DẪN|"
    r"ĐIỀU\s+LỆ|PHƯƠNG\s+ÁN|DANH\s+MỤC|TIÊU\s+CHUẨN|NỘI\s+QUY|QUY\s+CHE|QUY\s+TRINH|"
    r"REGULATIONS?|PROCEDURES?|PLAN|PROGRAMME|SCHEME)(?![\w])")
_APPENDIX_RE = re.compile(
    r"^\W*(?:Phụ\s+lục|PHỤ\s+LỤC|Phu\s+luc|PHU\s+LUC|Appendix|APPENDIX|Annex|ANNEX|"
    r"Mẫu\s+số|MẪU\s+SỐ|Biểu\s+số|BIỂU\s+SỐ|Form\s+No)(?![\w])")
_SITE_KEYS = {
    "số hiệu": "number", "số văn bản": "number", "official number": "number", "number": "number",
    "document number": "number", "loại văn bản": "kind", "type": "kind", "document type": "kind",
    "nơi ban hành": "issuer", "cơ quan ban hành": "issuer", "issuing body": "issuer",
    "issuing agency": "issuer", "người ký": "signer", "signer": "signer",
    "ngày ban hành": "issued", "issuing date": "issued", "date of issue": "issued",
    "issue date": "issued",
    # Other cells of the same tables: read past, never taken as a value.
    "ngày hiệu lực": "_", "tình trạng": "_", "effective date": "_", "effect status": "_",
    "expiry date": "_", "fields": "_", "lĩnh vực": "_", "ngày công báo": "_", "số công báo": "_",
    "attribute": "_",
}


@dataclass(slots=True)
class _Para:
    text: str
    start: int
    end: int
    clean: str | None = None          # `_clean(text)`, computed here unless given

    def __post_init__(self) -> None:
        if self.clean is None:
            self.clean = _clean(self.text)


def _clean(text: str) -> str:
    """The words of a line without markdown and table markup ('**', '#', leading/trailing '|')."""
    # String methods for what `_clean_by_regex` does: a heading's '#'s or a quote's '>' and the
    # space after it, every '*', whitespace and pipes at the edges, runs of whitespace inside.
    if text[:1] == "#":
        text = text.lstrip("#").lstrip()
    elif text[:1] == ">":
        text = text[1:].lstrip()
    if "*" in text:
        text = text.replace("*", "")
    text = text.strip(_SPACE_OR_PIPE)
    if "  " not in text and text.isprintable():
        return text             # (the usual line) its only whitespace is single spaces
    return " ".join(text.split())


def _clean_by_regex(text: str) -> str:
    """The definition of `_clean` (tests hold the two equal)."""
    text = _MARKUP_RE.sub("", text)
    text = _EDGE_PIPES_RE.sub("", text)
    return _SPACES_RE.sub(" ", text)


_MARKUP_RE = re.compile(r"\*{1,3}|^#+\s*|^>\s*")
_EDGE_PIPES_RE = re.compile(r"^[\s|]+|[\s|]+$")
_SPACES_RE = re.compile(r"\s+")
_SPACE_OR_PIPE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) + "|"


@dataclass(frozen=True)
class Actor:
    vi: str
    en: str
    patterns: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def actor_table() -> list[Actor]:
    actors = []
    for row in yaml.safe_load((DATA / "actors.yaml").read_text(encoding="utf-8")):
        names = [row["vi"], row["en"], *row.get("aliases", [])]
        names.sort(key=len, reverse=True)
        patterns = tuple(re.compile(rf"(?<!\w){re.escape(n)}(?!\w)", re.IGNORECASE) for n in names)
        actors.append(Actor(row["vi"], row["en"], patterns))
    return actors


@lru_cache(maxsize=1)
def _actor_matcher() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over every actor name: a single pass per clause instead of one per alias."""
    names: dict[str, str] = {}
    for actor in actor_table():
        for pattern in actor.patterns:
            name = pattern.pattern[len("(?<!\\w)"): -len("(?!\\w)")]
            names.setdefault(re.sub(r"\\(.)", r"\1", name).casefold(), actor.vi)
    ordered = sorted(names, key=len, reverse=True)
    # Over lower-cased text, case-sensitive: the same matches as IGNORECASE, three times faster.
    # The alternation is written as a trie (`_trie_pattern`): at each position the longest name
    # that matches still wins, as with the names longest first, in a third less time. It is
    # r"(?<!\w)(trie)(?!\w)" with the look-behind moved past each name's first letter, so that
    # the scan only stops at those letters.
    regex = re.compile("(" + _trie_pattern([n.lower() for n in ordered], at_word_start=True) + r")(?!\w)")
    return regex, names


def _trie_pattern(words: list[str], at_word_start: bool = False) -> str:
    r"""An alternation of `words` as a regex trie; a longer word is tried before its prefixes, so
    the match at a position is the longest word there (that the rest of the pattern accepts),
    exactly as with a plain alternation of the words sorted longest first. `at_word_start`: only
    where no word character comes before (r"(?<!\w)" ahead of the trie), checked after the first
    letter: a pattern that opens with letters is only tried where one of them is."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict, top: bool = False) -> str:
        branches = [re.escape(ch) + (rf"(?<!\w{re.escape(ch)})" if top and at_word_start else "")
                    + build(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            return "(?:" + "|".join(branches) + ")?" if branches else ""
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(trie, top=True)


def find_actors(text: str, lowered: str | None = None) -> list[str]:
    """`lowered` is text.lower(), when the caller has it."""
    regex, names = _actor_matcher()
    found: dict[str, int] = {}
    for m in regex.finditer(text.lower() if lowered is None else lowered):
        actor = names.get(m.group(1).casefold())
        if actor and actor not in found:
            found[actor] = m.start()
    return sorted(found, key=found.get)


_DEADLINE_RE = re.compile(
    rf"((?:trước|chậm nhất|hạn chót|không muộn hơn|đến hết)\s+(?:ngày\s+)?"
    rf"(?:{_DMY_RE}|{_LONG_DATE_RE}))", re.IGNORECASE)
_DEADLINE_EN_RE = re.compile(
    rf"((?:before|by|no later than|not later than|until)\s+(?:{EN_DATE_RE.pattern}))")


# Words one of the two deadline patterns opens with (lower-cased: every case-insensitive match of
# the Vietnamese cues is in the lower-cased text); a text with none of them has no deadline.
_DEADLINE_CUES_VI = ("trước", "chậm nhất", "hạn chót", "không muộn hơn", "đến hết")
_DEADLINE_CUES_EN = ("before", "by", "later than", "until")


def find_deadlines(text: str, lowered: str | None = None) -> list[Deadline]:
    """`lowered` is text.lower(), when the caller has it."""
    deadlines: list[Deadline] = []
    if lowered is None:
        lowered = text.lower()
    if any(cue in lowered for cue in _DEADLINE_CUES_VI):
        _find_deadlines_vi(text, lowered, deadlines)
    if any(cue in text for cue in _DEADLINE_CUES_EN):
        _find_deadlines_en(text, deadlines)
    return deadlines


def _deadline_matches(text: str, lowered: str):
    """What _DEADLINE_RE.finditer(text) finds, trying the pattern only where a cue starts: a
    case-insensitive match of a cue is the cue in the lower-cased text, at the same place
    while lower-casing keeps every character one character (it does but for a few, like 'İ').
    The pattern is case-insensitive, so a scan of the whole text would try it everywhere."""
    if len(lowered) != len(text):
        yield from _DEADLINE_RE.finditer(text)
        return
    starts = set()
    for cue in _DEADLINE_CUES_VI:
        at = lowered.find(cue)
        while at >= 0:
            starts.add(at)
            at = lowered.find(cue, at + 1)
    end = 0
    for at in sorted(starts):
        if at >= end:
            m = _DEADLINE_RE.match(text, at)
            if m:
                end = m.end()
                yield m


def _find_deadlines_vi(text: str, lowered: str, deadlines: list[Deadline]) -> None:
    for m in _deadline_matches(text, lowered):
        groups = [g for g in m.groups()[1:] if g]
        try:
            day, month, year = (int(g) for g in groups[:3])
            deadlines.append(Deadline(text=m.group(1), date=date(year, month, day)))
        except ValueError:
            continue


def _find_deadlines_en(text: str, deadlines: list[Deadline]) -> None:
    for m in _DEADLINE_EN_RE.finditer(text):
        found = date_of_en_match(m, offset=1)
        if found:
            deadlines.append(Deadline(text=m.group(1), date=found))


def _date_of(match: re.Match[str] | None) -> date | None:
    """The date in a match of _DMY_RE or _LONG_DATE_RE alternatives (day, month, year groups)."""
    if not match:
        return None
    groups = [g for g in match.groups() if g]
    try:
        day, month, year = (int(g) for g in groups[:3])
        return date(year, month, day)
    except ValueError:
        return None


_DATE_AFTER_VI_RE = re.compile(rf"\s*,?\s*(?:ban hành\s+)?ngày\s+(?:{_DMY_RE}|{_LONG_DATE_RE})")
_DATE_AFTER_EN_RE = re.compile(rf"\s*,?\s*(?:dated|issued on|of)\s+(?:{EN_DATE_RE.pattern})")
_SENTENCE_END_RE = re.compile(r"[.;:]\s")
_ISSUING_SENTENCE_RE = re.compile(
    rf"\s*Ngày\s+(?:{_DMY_RE}|{_LONG_DATE_RE}),[^,]{{0,80}}ban hành\s+[\w\s]{{0,30}}$")


def _date_after(text: str) -> date | None:
    found = _date_of(_DATE_AFTER_VI_RE.match(text))
    if found:
        return found
    m = _DATE_AFTER_EN_RE.match(text)
    return date_of_en_match(m) if m else None


def _date_opening_sentence(before: str) -> date | None:
    """'Ngày 16/10/2023, Thủ tướng Chính phủ ban hành Công điện số 968/CĐ-TTg': the date opens
    the sentence that issues the cited document."""
    sentence = _SENTENCE_END_RE.split(before)[-1]
    return _date_of(_ISSUING_SENTENCE_RE.match(sentence))


def _kind_before(text: str) -> str | None:
    best = None
    for name, pattern in _kind_before_patterns():
        if (best is None or len(name) > len(best)) and pattern.search(text):
            best = name
    return best


@lru_cache(maxsize=1)
def _kind_before_patterns() -> list[tuple[str, re.Pattern[str]]]:
    return [(name, re.compile(rf"{name}(?:\s+số)?\s*$", re.IGNORECASE)) for name in kind_vi_names()]


# ---------------------------------------------------------------- paragraphs and zones

def _paragraphs(text: str) -> list[_Para]:
    paras = []
    start = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            lead = start + len(line) - len(line.lstrip())
            paras.append(_Para(stripped, lead, lead + len(stripped), _clean(stripped)))
        start += len(line) + 1
    return paras


# A telegram's sender ("BỘ XÂY DỰNG điện:") run onto its title line: the sender starts at the
# last body word before "điện:", widened to the office holder heading it ("CHỦ TỊCH ỦY BAN …").
_TELEGRAM_SENDER_RE = re.compile(r"\s(?=[*_]*(?:THỦ TƯỚNG|BỘ|ỦY BAN|UBND|BAN|VĂN PHÒNG|TỔNG CỤC|CỤC|SỞ)\s"
                                 rf"(?:[{UPPER}]+[*_]*\s+){{0,8}}[*_]*điện\s*:)")
_SENDER_HOLDER_RE = re.compile(r"(?:CHỦ TỊCH|BỘ TRƯỞNG|GIÁM ĐỐC|TỔNG GIÁM ĐỐC|TRƯỞNG BAN)\s*$")


def _cut_telegram_sender(p: _Para) -> list[_Para]:
    cuts = [m.start() for m in _TELEGRAM_SENDER_RE.finditer(p.text)]
    if not cuts or cuts[-1] < 10:
        return [p]
    cut = cuts[-1]
    holder = _SENDER_HOLDER_RE.search(p.text[:cut])
    if holder and holder.start() > 10:
        cut = holder.start() - 1
    return [_Para(p.text[:cut], p.start, p.start + cut),
            _Para(p.text[cut + 1:], p.start + cut + 1, p.end)]


def _split_run_ons(paras: list[_Para]) -> list[_Para]:
    """Lines that run two parts of the document together are cut where the second begins:

    - an addressee line that runs on into the body ('Kính gửi: Bộ X. Ngày 31 tháng 10 …', a
      web page without line breaks) is cut after the addressee;
    - an article heading run into the previous sentence ('… vũ trường. **Điều 2. Người nộp
      phí**', '… theo quy định."Điều 3. Thông tin …') starts its own line;
    - a signature that runs into the title of the text it promulgates ('… PHÓ CHỦ TỊCH Nguyễn
      Hữu Tháp CHƯƠNG TRÌNH HÀNH ĐỘNG … (Ban hành kèm theo …)') is cut before the title;
    - a telegram's title run into its sender ('… TẠI KHU VỰC TRUNG BỘ BỘ XÂY DỰNG điện: - Các
      Cục …') is cut before the sender, so the addressees read as addressees.
    """
    out: list[_Para] = []
    cut_paras: list[_Para] = []
    for p in paras:
        cut_paras.extend(_cut_telegram_sender(p) if "điện" in p.text else [p])
    for p in cut_paras:
        if len(p.text) > 200 and _RECIPIENTS_RE.match(p.clean):
            # After a sentence end, or before the preamble's opening words ("… trung ương Thực
            # hiện Nghị định …"), whichever comes first.
            ends = [m for m in (re.search(r"[.;:](\s+)(?=[A-ZĐÀ-Ỹ][a-zà-ỹđ])", p.text[10:]),
                                re.search(r"(?<=[^\s.;:])(\s+)(?=(?:Căn cứ|Thực hiện|Theo đề nghị|Xét đề nghị|"
                                          r"Pursuant to|Implementing)\s)", p.text[10:])) if m]
            m = min(ends, key=lambda m: m.start(1)) if ends else None
            if m and m.end() + 10 < len(p.text) - 40:
                cut = 10 + m.start(1)
                rest = 10 + m.end()
                out.append(_Para(p.text[:cut], p.start, p.start + cut))
                out.append(_Para(p.text[rest:], p.start + rest, p.end))
                continue
        for part in _cut_inline_articles(p):
            cut = _cut_title_run_on(part)
            if isinstance(cut, list):
                out.extend(cut)
            else:
                out.append(cut)
    return out


# An article heading inside a line, after a sentence end: '… trường. **Điều 2. Người …'.
_INLINE_ARTICLE_RE = re.compile(
    r"[.;:!?…][\"”’*)]{0,3}\s*(?=\*{0,3}Điều\s+\d{1,3}[a-z]?\s*\.\s*\*{0,3}\s*[A-ZĐÀ-Ỹ])")


def _cut_at(p: _Para, cuts: list[int]) -> list[_Para]:
    """`p` cut at the given offsets into its text (each piece stripped, offsets kept exact)."""
    pieces = []
    bounds = [0, *cuts, len(p.text)]
    for a, b in zip(bounds, bounds[1:]):
        piece = p.text[a:b]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            pieces.append(_Para(stripped, p.start + a + lead, p.start + a + lead + len(stripped)))
    return pieces


def _as_list(p: _Para | list[_Para]) -> list[_Para]:
    return p if isinstance(p, list) else [p]


def _cut_inline_articles(p: _Para) -> list[_Para]:
    if "Điều" not in p.text or len(p.text) < 40:
        return [p]
    cuts = [m.end() for m in _INLINE_ARTICLE_RE.finditer(p.text) if m.end() > 0]
    return _cut_at(p, cuts) if cuts else [p]


# The title of a promulgated text in capitals: 'QUY CHẾ', 'CHƯƠNG TRÌNH HÀNH ĐỘNG', …
_TITLE_WORDS_RE = re.compile(
    r"(?<![\w])(?:QUY\s+CHẾ|QUY\s+TRÌNH|QUY\s+ĐỊNH|KẾ\s+HOẠCH|CHƯƠNG\s+TRÌNH|ĐỀ\s+ÁN|HƯỚNG\s+DẪN|"
    r"ĐIỀU\s+LỆ|PHƯƠNG\s+ÁN|DANH\s+MỤC|TIÊU\s+CHUẨN|NỘI\s+QUY|PHỤ\s+LỤC)(?![\w])")


def _cut_title_run_on(p: _Para) -> _Para | list[_Para]:
    cue = _inline_cue(p.clean)
    if cue is None or len(p.text) > 1500:
        return p
    m = _INLINE_CUE_RE.search(p.text)
    if m and m.group("rest"):
        # The attachment's structure runs on after the cue ('… Việt Nam) Chương I …').
        parts = _cut_at(p, [m.start("rest")])
        return [*_as_list(_cut_title_run_on(parts[0])), *parts[1:]] if len(parts) == 2 else parts
    for m in _TITLE_WORDS_RE.finditer(p.text):
        before = p.text[: m.start()]
        if m.start() == 0 or not before.strip(" *#|"):
            return p
        if m.start() < cue and (_CAPACITY_WORDS.search(before) or _AUTHORITY_RE.match(before)) \
                and _name_in(_clean(before)) and _is_upper(p.text[m.start(): m.start() + 80]):
            return _cut_at(p, [m.start()])
    return p


# "(Ban hành kèm theo Quyết định số …)": the line of a promulgated text's heading that names
# the decision. Written alone, or closing the title line ('QUY ĐỊNH VỀ … (Ban hành kèm theo …)'),
# or left open where the site or the scan wrapped it.
_INLINE_CUE_RE = re.compile(
    r"\(\s*(?:(?:được\s+)?ban\s+hành\s+)?(?:kèm\s+theo\s+)+(?:(?:Quyết|Quyêt|Quyét)\s+định|QĐ|"
    r"Nghị\s+quyết|Thông\s+tư|Chỉ\s+thị|Kế\s+hoạch|Công\s+văn|Văn\s+bản|Decision|Resolution)\b"
    r"[^()]{0,300}(?:\)\s*(?P<rest>(?:Chương|CHƯƠNG|Phần|PHẦN|Mục|MỤC|Điều|[IVX]{1,4}\.|1\.|A\.)"
    r".*)?$|$)", re.IGNORECASE)


def _inline_cue(text: str) -> int | None:
    """Where a "(kèm theo Quyết định …)" cue that closes the line begins, else None."""
    if "kèm" not in text and "Kèm" not in text and "KÈM" not in text:
        return None
    m = _INLINE_CUE_RE.search(text)
    return m.start() if m else None


def _is_separator(p: _Para) -> bool:
    return not p.clean or bool(_SEPARATOR_RE.fullmatch(p.clean))


_SEPARATOR_RE = re.compile(r"[-_=*.·…|#\s]{2,}|[-_=*|#]")


def _is_upper(text: str, limit: int = 300) -> bool:
    if len(text) > limit:
        return False
    letters = "".join(filter(str.isalpha, text))      # C-level loops: no Python step per letter
    return len(letters) >= 2 and sum(map(str.isupper, letters)) >= 0.85 * len(letters)


@lru_cache(maxsize=65536)
def _has_motto(text: str) -> bool:
    return bool(_MOTTO_RE.search(_fold(text).upper()))


def _header_number(p: _Para) -> re.Match[str] | None:
    """The document's own number line: 'Số: …' / 'No. …' opening the line or a table cell."""
    for cell in [p.clean] + [c.strip(" *") for c in p.text.split("|")[1:]]:
        m = HEADER_NUMBER_RE.match(cell)
        if m and not re.match(r"^Số\s+hiệu", cell):
            return m
    m = HEADER_NUMBER_RE.search(p.clean)
    if m and m.start() < 800 and _has_motto(p.clean[: m.start()] + " "):
        return m          # a flattened header: "… CỘNG HÒA … Số: 1056/QĐ-CT Tuyên Quang, …"
    return None


def _is_unnumbered_line(p: _Para) -> bool:
    return bool(re.match(r"^(?:Số|SỐ|Só|Sô|No)\s*[.:]?\s*[.…_ ]*/", p.clean)) or \
        bool(re.match(r"^(?:Số|SỐ|Só|Sô|No)\s*[.:]\s*[.…_]{2,}", p.clean))


@dataclass
class _Zones:
    front: int = 0          # paras[:front] are site chrome / metadata table
    body: int = 0           # paras[front:body] are the header
    footer: int = 0         # paras[body:footer] are the body
    footer_end: int = 0     # paras[footer:footer_end] are the closing block (cc, signature)
    attachments: list[tuple[int, str]] = field(default_factory=list)   # (start, "annex"|"appendix")


def _find_anchor(paras: list[_Para]) -> int | None:
    """The first line that only an official header has: the motto or the number line."""
    limit = min(len(paras), 1500)
    for i in range(limit):
        p = paras[i]
        if _has_motto(p.clean) or _header_number(p) or _is_unnumbered_line(p):
            return i
    return None


def _header_start(paras: list[_Para], anchor: int) -> int:
    """Walk back from the anchor over the agency lines (capitals) and rules above it."""
    start = anchor
    i = anchor - 1
    while i >= 0 and anchor - i <= 6:
        p = paras[i]
        if _is_separator(p):
            i -= 1
            continue
        if _is_upper(p.clean, 160) and not kind_from_title(p.clean) and not _is_site_key(p.clean):
            start = i
            i -= 1
            continue
        break
    return start


def _is_site_key(text: str) -> bool:
    return text.rstrip(":").strip().casefold() in _SITE_KEYS


def _site_table_end(paras: list[_Para]) -> int:
    """Just past a site's metadata table opening a headerless page, else 0."""
    last = None
    for i, p in enumerate(paras[:150]):
        cells = [_clean(c) for c in p.text.split("|") if _clean(c)]
        if any(_is_site_key(c.split(":")[0]) for c in cells):
            last = i
    if last is None:
        return 0
    end = last + 1
    while end < len(paras) and (_is_separator(paras[end]) or len(paras[end].clean) < 40
                                and not marker_of(paras[end].clean)):
        end += 1
    return end


def _header_end(paras: list[_Para], start: int, anchor: int) -> int:
    """The first body line after the header (agency, motto, number, date, title, subject,
    recipients). Stops at the preamble ('Căn cứ …') or the first item."""
    i = start
    titled = False
    in_recipients = addressed = awaiting_addressee = False
    subject_open = False
    n = len(paras)
    while i < n and i - start < 60:
        p = paras[i]
        text = p.clean
        if i < anchor or _is_separator(p):
            i += 1
            continue
        if in_recipients:
            if re.match(r"^[-–•+]\s*\S", text) and len(text) < 220 and not marker_of(text)[0:1] == ("number",):
                awaiting_addressee = False
                i += 1
                continue
            if awaiting_addressee and len(text) < 200 and not marker_of(text) and \
                    not _PREAMBLE_OPENER_RE.match(text) and \
                    not re.search(rf"[.;:]\s+[{UPPER}]", text.rstrip(" .;:")):
                # "Đồng kính gửi:" on its own line, its one addressee on the next, undashed.
                awaiting_addressee = False
                i += 1
                continue
            if text[:1].islower() and len(text) < 200:
                i += 1
                continue
            in_recipients = False
        if _PREAMBLE_OPENER_RE.match(text) and i > anchor:
            return i
        if marker_of(text) and marker_of(text)[0] not in ("dash", "plus") and i > anchor:
            if not (subject_open and marker_of(text)[0] == "dash"):
                return i
        if _RECIPIENTS_RE.match(text):
            in_recipients = addressed = True
            awaiting_addressee = not _RECIPIENTS_RE.sub("", text, count=1).strip(" :|*_")
            subject_open = False
            i += 1
            continue
        if _has_motto(text) or _header_number(p) or _is_unnumbered_line(p) or \
                re.match(r"^(?:Số|SỐ|Só|Sô|S6|No)\s*[.:]", text) or \
                "ngày" in text and PLACE_DATE_VI_RE.search(text) or PLACE_DATE_EN_RE.match(text) or \
                re.match(r"^(?:Hà Nội|Hanoi|Ha Noi|[A-ZĐ]\w+(?: \w+){0,3}),\s*(?:ngày|ngay)\b", text):
            subject_open = bool(_SUBJECT_RE.search(text)) or subject_open
            i += 1
            continue
        # An English subject line ("On the temporary suspension of …") comes before "To:".
        if _SUBJECT_RE.match(text) or re.match(r"^(?:On|About)\s", text) and i <= anchor + 6 and not titled \
                and not addressed and len(text) < 300:
            subject_open = True
            i += 1
            continue
        if kind_from_title(text) and not titled:
            titled = True
            subject_open = True
            i += 1
            continue
        if _is_upper(text) and not text.endswith(":") or re.fullmatch(r"[A-ZĐ ]+:", text) and titled:
            i += 1
            continue
        if subject_open and (titled or len(text) < 160) and not text.endswith((".", ";")) \
                and not _PREAMBLE_OPENER_RE.match(text) and len(text) < 400:
            # The subject line after a title ("Quy định về việc …"), or a wrapped V/v line.
            subject_open = titled and len(text) < 160 and not text[:1].islower()
            i += 1
            continue
        return i
    return i


def _signature_at(paras: list[_Para], lo: int, hi: int) -> tuple[int, int] | None:
    """(first line of the signature block, index of the signer's name line) in paras[lo:hi]."""
    for i in range(lo, hi):
        text = paras[i].clean
        if len(text) > 200 or not (_AUTHORITY_RE.match(text) or
                                   (_is_upper(text, 120) and _CAPACITY_WORDS.search(text))):
            continue
        if _name_in(text) and i + 1 >= hi:
            return i, i
        for j in range(i, min(hi, i + 5)):
            if _name_in(paras[j].clean):
                return i, j
    return None


_NOT_NAME_WORDS = frozenset("""Biểu Nơi Phụ Mẫu Tải Lưu Kính Quy Căn Điều Chương Ghi Danh Quyết
Kế Thông Nghị Chỉ Hướng Bộ Ban Sở Ủy Uỷ Tỉnh Số Ngày Theo Phụ Cộng Độc Tự Hạnh Như Các Về
Signed Recipients Appendix Annex""".split())
_NAME_RUN_RE = re.compile(r"(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]*\s+){1,5}[A-ZĐÀ-Ỹ][a-zà-ỹđ]*")


def _name_candidates(text: str) -> list[tuple[int, str]]:
    """(position, name) for every person's name in `text` (2–5 words from a family name)."""
    # A family name split by a stray space in web text ('Đặ ng Văn Minh') is rejoined.
    text = re.sub(r"\b([A-ZĐÀ-Ỹ][a-zà-ỹđ]{0,3}) ([a-zà-ỹđ]{1,4})\b",
                  lambda m: m.group(1) + m.group(2) if m.group(1) + m.group(2) in surnames()
                  and m.group(1) not in surnames() else m.group(0), text)
    found = []
    for m in _NAME_RUN_RE.finditer(text):
        words = m.group(0).split()
        offset = m.start()
        i = 0
        while i < len(words):
            if is_person_name(" ".join(words[i: i + 2])):
                j = i + 2
                while j < len(words) and j - i < 5 and words[j] not in _NOT_NAME_WORDS and \
                        len(words[j]) >= 2 and words[j][1:].islower():
                    j += 1
                found.append((offset, " ".join(words[i:j])))
                i = j
                continue
            i += 1
    return found


def _name_in(text: str) -> str | None:
    """The signer's name in a signature line ('KT. BỘ TRƯỞNG THỨ TRƯỞNG Bùi Hồng Lĩnh'): the
    first name after the last capacity word, else the last name in the line."""
    text = re.sub(r"\(?(?:đã ký|Đã ký|signed|Signed)\)?", " ", text)
    candidates = _name_candidates(text)
    if not candidates:
        return None
    capacity = [m.end() for m in _CAPACITY_WORDS.finditer(text)]
    if capacity:
        after = [c for c in candidates if c[0] >= capacity[-1]]
        if after:
            return after[0][1]
    return candidates[-1][1]


def _zones(paras: list[_Para]) -> _Zones:
    zones = _Zones()
    anchor = _find_anchor(paras)
    recipients = next((i for i in range(min(len(paras), 8)) if _RECIPIENTS_RE.match(paras[i].clean)), None)
    if anchor is None and recipients is not None:
        # A lost header: what is left of it runs up to the addressees.
        zones.front = 0
        zones.body = _header_end(paras, recipients, recipients)
    elif anchor is None:
        front = zones.front = _site_table_end(paras)
        zones.body = _header_end(paras, front, front) if front < len(paras) and (
            _SUBJECT_RE.match(paras[front].clean) or kind_from_title(paras[front].clean)
            or _RECIPIENTS_RE.match(paras[front].clean)) else front
    else:
        zones.front = _header_start(paras, anchor)
        zones.body = _header_end(paras, zones.front, anchor)
    n = len(paras)
    attachments = _attachment_starts(paras, zones.body)
    body_limit = attachments[0][0] if attachments else n
    footer = next((i for i in range(zones.body, body_limit) if _FOOTER_RE.match(paras[i].clean)), None)
    signature = _signature_at(paras, zones.body, body_limit)
    if signature and footer is not None and signature[0] < footer and footer - signature[1] > 3:
        signature = _signature_at(paras, footer, body_limit) or signature
    if footer is None and signature is None:
        zones.footer = _signer_start(paras[:body_limit], zones.body)
        zones.footer_end = body_limit
    else:
        starts = [x for x in (footer, signature[0] if signature else None) if x is not None]
        zones.footer = min(starts)
        end = zones.footer + 1
        if footer is not None:
            end = max(end, _cc_end(paras, footer, body_limit))
        if signature:
            end = max(end, signature[1] + 1)
            if footer is not None and footer > signature[1]:
                end = max(end, _cc_end(paras, footer, body_limit))
        zones.footer_end = min(end, body_limit)
    limit = attachments[0][0] if attachments else n
    block = _title_block_after(paras, zones.footer_end, limit) if zones.footer_end < limit else None
    if block is not None:
        attachments = [(block, "annex")] + attachments
    zones.attachments = attachments
    return zones


def _cc_end(paras: list[_Para], footer: int, hi: int) -> int:
    i = footer + 1
    while i < hi:
        text = paras[i].clean
        if re.match(r"^[-–•+]\s*", text) or (len(text) < 120 and text.endswith((";", ".", ",")) and
                                            not _CAPACITY_WORDS.search(text)) or \
                re.match(r"^(Lưu|Như trên|As above|Archived)", text):
            i += 1
            continue
        break
    # The signature block right after the cc list (capacity lines and the name).
    j = i
    while j < hi and j - i < 5:
        text = paras[j].clean
        if _name_in(text):
            return j + 1
        if not (_is_upper(text, 120) or _AUTHORITY_RE.match(text)):
            break
        j += 1
    return i


def _attachment_starts(paras: list[_Para], lo: int) -> list[tuple[int, str]]:
    """Where a promulgated text (annex) or an appendix begins, after the body has started.

    A promulgated text announces itself in one of three ways, whatever the layout:
    - its heading names the decision: "(Ban hành kèm theo Quyết định số …)", on a line of its
      own or closing the title line ('QUY ĐỊNH VỀ … (Ban hành kèm theo …)'), the title above it;
    - a second title block (motto, agency, 'QUY CHẾ' …) follows the decision (see `_zones`);
    - its own structure starts again ('Chương I', 'Điều 1') after the decision's articles.
    """
    starts: list[tuple[int, str]] = []
    n = len(paras)
    last_article = 0          # the decision's (or current attachment's) last article number
    i = lo + 1
    while i < n:
        p = paras[i]
        text = p.clean
        floor = max(lo, starts[-1][0] if starts else lo)
        cue = _cue_at(p)
        if cue is not None:
            head, kind = _heading_of(paras, i, cue, floor)
            if not starts or starts[-1][0] < head:
                starts.append((head, kind))
                last_article = 0
            i += 1
            continue
        marker = _item_marker(p) if text[:1] in "ĐđCc*" else None
        if marker and marker[0] in ("article", "chapter"):
            restart = marker[0] == "chapter" and _roman_value(marker[1]) == 1 or \
                marker[0] == "article" and marker[1] == "1"
            if restart and last_article >= 1:
                head = _restart_heading(paras, i, floor, needs_title=marker[0] == "article")
                if head is not None and (not starts or starts[-1][0] < head):
                    starts.append((head, "annex"))
                    last_article = 0
            if marker[0] == "article" and marker[1].isdigit():
                last_article = max(last_article, int(marker[1]))
        if len(text) < 200 and _may_open_appendix(text) and _APPENDIX_RE.match(text) and (
                _is_upper(text.split(":")[0][:60]) or re.match(r"^\W*(?:Phụ\s+lục|Appendix|Annex|Mẫu|Biểu)\s+(?:số\s+)?[\dIVXLC]", text)) \
                and not text.endswith((";", ",")):
            if not starts or starts[-1][0] < i - 2 or starts[-1][1] != "appendix" or i - starts[-1][0] > 2:
                if not (starts and starts[-1][0] >= i - 2):
                    starts.append((i, "appendix"))
        i += 1
    return starts


def _cue_at(p: _Para) -> int | None:
    """Where the "(Ban hành kèm theo …)" cue begins in the line, if the line is a heading's."""
    text = p.clean
    if len(text) < 400 and _may_open_attachment_cue(text) and _ATTACHMENT_CUE_RE.match(text):
        return 0
    at = _inline_cue(text) if len(text) <= 1500 else None
    if at is None or _item_marker(p):      # (the cheap test first: both are pure)
        return None
    cue = text[at:]
    before = text[:at].strip(" *#|")
    if not re.search(r"\bsố\b|\d|…|\.\.|No\.", cue):
        return None       # "(kèm theo Công văn này)": a sentence pointing at an enclosure
    if before and not (_is_upper(before, 1200) or _is_title_start(before)) and \
            (len(before) > 160 or before.endswith((".", ";", ":", ","))):
        return None       # a sentence that happens to end with a parenthesis
    return at


# The characters `_APPENDIX_RE` and `_ATTACHMENT_CUE_RE` can open with (after the first one's
# r"\W*"): a line opening with any other letter or digit is no match, without the pattern. The
# cue's letters in each case IGNORECASE gives them ('i' also 'İ' and 'ı', 'k' the Kelvin sign).
_APPENDIX_FIRST = frozenset("PAMBF")
_ATTACHMENT_CUE_FIRST = frozenset("(bBkK\u212aiI\u0130\u0131pPaAeE")


def _may_open_appendix(text: str) -> bool:
    first = text[:1]
    return first in _APPENDIX_FIRST or not (first.isalnum() or first == "_")


def _may_open_attachment_cue(text: str) -> bool:
    first = text[:1]
    return first in _ATTACHMENT_CUE_FIRST or not first.isalnum()


def _is_title_start(text: str) -> bool:
    return bool(_TITLE_ANNEX_RE.match(text) or _APPENDIX_RE.match(text) or
                re.match(r"^\W*(?:Mẫu|MẪU|Biểu|BIỂU)\b", text) or
                re.match(r"^\W*(?:Quy\s+chế|Quy\s+trình|Quy\s+định|Kế\s+hoạch|Chương\s+trình)\b", text))


def _is_heading_line(p: _Para) -> bool:
    """A line that can belong to an attachment's title block (title, subject, agency, motto)."""
    text = p.clean
    if len(text) > 400 or _item_marker(p) or _FOOTER_RE.match(text) or text.endswith(("./.", "./")):
        return False
    if _AUTHORITY_RE.match(text) or (_CAPACITY_WORDS.search(text) and _name_in(text)):
        return False      # the decision's signature
    return True


def _heading_of(paras: list[_Para], i: int, cue: int, floor: int) -> tuple[int, str]:
    """(first line, "annex"|"appendix") of the attachment whose cue is in paras[i]."""
    before = paras[i].clean[:cue].strip(" *#|")
    head = i
    title = before if before and _is_title_start(before) else None
    if title is None:
        # The title is on the lines above the cue: the topmost title line of the block.
        j = i - 1
        while j > floor and i - j <= 6:
            q = paras[j]
            if _is_separator(q):
                j -= 1
                continue
            if not _is_heading_line(q):
                break
            if _is_title_start(q.clean) and _is_upper(q.clean[:40]) or \
                    _APPENDIX_RE.match(q.clean) or _is_title_start(q.clean) and len(q.clean) < 120:
                head, title = j, q.clean
            j -= 1
        if title is None and not before:
            # No title word: the capitals just above the cue are the heading.
            j = i - 1
            while j > floor and i - j <= 4 and (_is_upper(paras[j].clean) or _is_separator(paras[j])):
                if not _is_separator(paras[j]):
                    head = j
                j -= 1
    head = _title_block_top(paras, head, floor)
    if title is not None:
        if _APPENDIX_RE.match(title) or re.match(r"^\W*(?:Mẫu|MẪU|Biểu|BIỂU)\b", title):
            return head, "appendix"
        if _TITLE_ANNEX_RE.match(title) or _is_title_start(title):
            return head, "annex"
    if any(_APPENDIX_RE.match(paras[k].clean) for k in range(head, i + 1)):
        return head, "appendix"
    # No title word: a text with its own chapters or articles is promulgated, else an appendix.
    following = paras[i + 1: i + 16]
    if any((m := _item_marker(q)) and m[0] in ("chapter", "article", "section") for q in following):
        return head, "annex"
    return head, "appendix"


def _title_block_top(paras: list[_Para], head: int, floor: int) -> int:
    """A second title block above the attachment's title (agency, motto) belongs to it."""
    j = head - 1
    top = head
    motto = False
    while j > floor and head - j <= 6:
        q = paras[j]
        if _is_separator(q):
            j -= 1
            continue
        if _has_motto(q.clean) and len(q.clean) < 300:
            motto = True
            top = j
        elif motto and _is_upper(q.clean, 160) and _is_heading_line(q) and not _name_in(q.clean):
            top = j
        elif not motto and _is_upper(q.clean, 160) and _is_heading_line(q) and head - j <= 3:
            pass          # an agency line above the motto: taken only once the motto is seen
        else:
            break
        j -= 1
    return top if motto else head


def _restart_heading(paras: list[_Para], i: int, floor: int, needs_title: bool) -> int | None:
    """The heading above an attachment whose 'Chương I' / 'Điều 1' starts paras[i]."""
    j = i - 1
    head = None
    title = False
    while j > floor and i - j <= 5:
        q = paras[j]
        if _is_separator(q):
            j -= 1
            continue
        if not _is_heading_line(q) or not (_is_upper(q.clean, 400) or _has_motto(q.clean)):
            break
        head = j
        title = title or bool(_TITLE_ANNEX_RE.match(q.clean)) or _has_motto(q.clean)
        j -= 1
    if head is None:
        return None if needs_title else i
    if needs_title and not title:
        return None
    return _title_block_top(paras, head, floor)


def _title_block_after(paras: list[_Para], lo: int, hi: int) -> int | None:
    """A second title block right after the decision's signature ('QUY CHẾ', a motto, the
    agency), followed by an attachment's structure: where the attachment begins."""
    k = lo
    seen = 0
    while k < hi and seen < 6:
        q = paras[k]
        if _is_separator(q):
            k += 1
            continue
        seen += 1
        title = _has_motto(q.clean) or (_TITLE_ANNEX_RE.match(q.clean) and _is_upper(q.clean[:60])
                                        and len(q.clean) < 400)
        if title:
            following = paras[k + 1: min(hi, k + 14)]
            if any((m := _item_marker(f)) and m[0] in ("chapter", "article", "roman", "number",
                                                       "section", "part") for f in following):
                return k
            return None
        if not _is_heading_line(q):
            return None
        k += 1
    return None


def _signer_start(paras: list[_Para], lo: int) -> int:
    """Without a 'Nơi nhận' list, the signer block is the trailing capitals + name."""
    i = len(paras)
    while i > lo and (paras[i - 1].clean.isupper() or _looks_like_name(paras[i - 1].clean)
                      or _AUTHORITY_RE.match(paras[i - 1].clean)) and len(paras[i - 1].clean) < 60:
        i -= 1
    return i


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 5 and all(w[:1].isupper() and w[1:].islower() for w in words)


# ---------------------------------------------------------------- metadata

def read_site_metadata(paras: list[_Para]) -> dict[str, str]:
    """A legal site's metadata table before the document (`Số hiệu | …`, `Người ký | …`):
    key cells followed by value cells, one a line or several a line."""
    cells: list[str] = []
    for p in paras:
        for cell in p.text.split("|"):
            cell = _clean(cell)
            if cell:
                cells.append(cell)
    found: dict[str, str] = {}
    for k, cell in enumerate(cells):
        key, _, inline = cell.partition(":")
        field_name = _SITE_KEYS.get(key.strip().casefold())
        if not field_name or field_name in found or field_name == "_":
            continue
        value = inline.strip() or (cells[k + 1] if k + 1 < len(cells) else "")
        if value and not _SITE_KEYS.get(value.rstrip(":").strip().casefold()):
            found[field_name] = value.strip()
    return found


def _site_date(value: str | None) -> date | None:
    if not value:
        return None
    return parse_date_vi(value) or parse_date_en(value)


def _parse_header(header: list[_Para], warnings: list[str], language: str) -> dict:
    meta: dict = {}
    flat = " ".join(p.clean.replace("|", " ") for p in header)
    number_match = next((m for m in map(_header_number, header) if m), None)
    if number_match:
        meta["number"] = normalise_number(number_match.group("number"))
        meta["number_written"] = number_match.group(0)
    elif any(_is_unnumbered_line(p) for p in header):
        meta["unnumbered"] = True
    elif re.search(r"(?:^|\s)(?:Số|Só|Sô|No)\s*[.:]", flat):
        meta["number_unreadable"] = re.search(r"(?:^|\s)(?:Số|Só|Sô|No)\s*[.:]\s*\S{0,30}", flat).group(0).strip()
    cells = [_clean(cell) for p in header for cell in p.text.split("|") if _clean(cell)]
    cells = [_ocr_date_digits(c) for c in cells]
    flat = _ocr_date_digits(flat)
    place_date = None
    for cell in cells + [flat]:
        place_date = PLACE_DATE_VI_RE.search(cell) if "ngày" in cell else None
        if place_date:
            meta["place"] = re.sub(r"^.*\b(?:Số|No)[.:]?\s*\S+\s+", "", place_date.group(1).strip()).split("  ")[-1]
            try:
                meta["issued"] = date(int(place_date.group(4)), int(place_date.group(3).replace(" ", "")),
                                      int(place_date.group(2).replace(" ", "")))
            except ValueError:
                warnings.append(f"invalid issue date: {place_date.group(0)}")
            break
        en = PLACE_DATE_EN_RE.search(cell)
        if en:
            meta["place"] = en.group(1).strip()
            meta["issued"] = date_of_en_match(en, offset=1)
            break
    if "issued" not in meta:
        partial = re.search(r"ngày\W{0,3}\S{0,4}\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", flat)
        if partial and 1 <= int(partial.group(1)) <= 12:
            meta["issued_partial"] = f"{partial.group(2)}-{int(partial.group(1)):02d}"
        else:
            partial = re.search(r",\s*ngày\W{0,3}\S{0,4}\s*tháng\s*\S{0,3}\s*năm\s*(\d{4})", flat)
            if partial:
                meta["issued_partial"] = partial.group(1)
    subject = next((m for m in (_SUBJECT_RE.search(c) for c in cells) if m), None)
    if subject:
        text = subject.group(1).strip(" |")
        # A flattened cell: "V/v … | Hà Nội, ngày …" was split already; cut a trailing date.
        text = re.split(r"\s+(?:[A-ZĐ][\w ]{1,30}),\s*ngày\s+\d", text)[0]
        meta["subject"] = text.strip()
    title_kind, title_at = None, None
    for i, cell in enumerate(cells):
        kind = kind_from_title(cell)
        if kind and not _has_motto(cell):
            title_kind, title_at = kind, i
            break
    if title_kind is None:
        m = re.search(r"(?<![\w])(" + "|".join(k.upper() for k in kind_vi_names()
                                                if k not in ("Luật", "Lệnh")) + r")(?![\w])", flat)
        if m and not re.search(r"(?:SỐ|số|theo|THEO|THỰC HIỆN|CỦA)\s*$", flat[: m.start()]):
            title_kind = next(k for k in kind_vi_names() if k.upper() == m.group(1))
            after = flat[m.end():].strip()
            if after and "subject" not in meta:
                meta["subject"] = _title_subject(after)
    meta["title_kind"] = title_kind
    if title_at is not None and "subject" not in meta:
        head = re.sub(r"^\W*", "", cells[title_at])
        own = head[len(title_kind):].strip() if head.upper().startswith(title_kind.upper()) else ""
        if own:
            meta["subject"] = _title_subject(own)
        elif title_at + 1 < len(cells):
            meta["subject"] = cells[title_at + 1]
    meta["issuer_lines"] = _agency_lines(header)
    recipients_at = next((i for i, p in enumerate(header) if _RECIPIENTS_RE.match(p.clean)), None)
    if recipients_at and "subject" not in meta and "number" not in meta and \
            not any(_has_motto(p.clean) for p in header):
        # Lost header: what precedes "Kính gửi" is the tail of the subject line.
        fragment = " ".join(p.clean for p in header[:recipients_at]).strip()
        if fragment:
            meta["subject"] = fragment
            meta["issuer_lines"] = []
            warnings.append("header lost: subject is a fragment of the V/v line")
    inline = None
    if recipients_at is None:
        # "Hà Nội, ngày 05 tháng 04 năm 2019 Kính gửi: Bộ Kế hoạch và Đầu tư.": the addressee
        # line run into the place-and-date line.
        inline = next(((i, m) for i, p in enumerate(header) if "gửi" in p.clean
                       for m in [_RECIPIENTS_INLINE_RE.search(p.clean)] if m), None)
    if recipients_at is not None or inline is not None:
        if inline is not None:
            recipients_at, found = inline
            items = header[recipients_at].clean[found.end():].strip(" :|")
            # The line may run on into the body: the addressees end with their first sentence.
            first = re.match(r".+?[^A-ZĐ\s]\.(?=\s)", items)
            items = first.group(0) if first else items
        else:
            items = _RECIPIENTS_RE.sub("", header[recipients_at].clean, count=1).strip(" :|*_")
        lines = [items] + [_RECIPIENTS_RE.sub("", p.clean, count=1) for p in header[recipients_at + 1:]]
        recipients = []
        for line in lines:
            # A dash opens an addressee at a line's start or after one ends ("…; - Tổng Công ty
            # …"), not inside a name ("Kinh tế - Quản lý đầu tư xây dựng").
            for item in re.split(r"(?:^|(?<=[;.])\s*)[-–•]\s*(?=\S)", line):
                item = item.strip(" |").rstrip(";.,").strip()
                if item and item != "-":
                    recipients.append(item)
        meta["recipients"] = recipients
    return meta


_OCR_DIGITS = str.maketrans({"Ø": "0", "O": "0", "o": "0", "ø": "0", "l": "1", "I": "1", "í": "1",
                             "Í": "1", "|": "1"})


def _ocr_date_digits(text: str) -> str:
    """'ngày 3Ø tháng 12': letters OCR reads for digits, inside a date's day and month only."""
    def fix(m: re.Match[str]) -> str:
        return m.group(1) + m.group(2).translate(_OCR_DIGITS) + m.group(3)
    return re.sub(r"(ngày\s*)([\dØOoøIlíÍ]{1,2})(\s*tháng)", fix,
                  re.sub(r"(tháng\s*)([\dØOoøIlíÍ]{1,2})(\s*năm)", fix, text))


def _title_subject(after: str) -> str:
    """The subject written after the title in a flattened header, up to the authority line."""
    after = re.split(r"\s+(?:Căn cứ|Pursuant)\b", after)[0]
    return after.strip()


def _agency_lines(header: list[_Para]) -> list[str]:
    """The issuing agency's lines (left column), before the motto and the number line."""
    lines: list[str] = []
    for p in header:
        text = p.clean
        if HEADER_NUMBER_RE.match(p.clean) or _is_unnumbered_line(p) or \
                re.match(r"^(?:Số|SỐ|Só|Sô|S6|No)\s*[.:]", p.clean):
            break
        if kind_from_title(text) and lines:
            break
        if _RECIPIENTS_RE.match(text) or _SUBJECT_RE.match(text):
            break
        folded = _fold(text).upper()
        m = _MOTTO_RE.search(folded)
        left = text[: m.start()] if m else text
        if m and not left.strip(" -|*"):
            if lines:
                break
            continue
        left = re.split(r"\s*[-_=]{3,}\s*|\s+\|\s+", left)[0].strip(" |*-")
        number_inside = HEADER_NUMBER_RE.search(left)
        if number_inside:
            left = left[: number_inside.start()].strip()
        if left and not _is_upper(left, 160):
            left = _caps_tail(left)     # "Quyết định 1056/QĐ-CT UỶ BAN NHÂN DÂN TỈNH …": a page title first
        if left and _is_upper(left, 160) and sum(c.isalpha() for c in left) >= 4:
            lines.append(left)
        if m:
            # Two columns read as one line: the agency's name (or its second line) may sit
            # between the motto's two lines ('… VIỆT NAM VA XÃ HỘI Độc lập …').
            full = re.search(r"CONG\s*HOA\s*XA\s*HOI\s*CHU\s*NGHIA\s*VIET\s*NAM", folded)
            motto2 = re.search(r"DOC\s*LAP", folded)
            if full and motto2 and motto2.start() > full.end() and len(folded) == len(text):
                mid = text[full.end(): motto2.start()].strip(" -|*_")
                if mid and _is_upper(mid, 160) and sum(c.isalpha() for c in mid) >= 4:
                    lines.append(mid)
            continue
    return lines


def _caps_tail(text: str) -> str:
    """The run of capitalised words ending `text` (at least two words), else ''."""
    words = text.split()
    k = len(words)
    while k > 0 and (_is_upper(words[k - 1], 60) and not re.search(r"[\d/]", words[k - 1])
                     or words[k - 1] in ("-", "–", "&")):
        k -= 1
    tail = words[k:]
    while tail and tail[0] in ("-", "–", "&"):
        tail = tail[1:]
    return " ".join(tail) if len(tail) >= 2 else ""


_LEVEL_WORDS = r"(?:TỈNH|THÀNH PHỐ|TP\.|HUYỆN|QUẬN|THỊ XÃ|XÃ|PHƯỜNG|HUYEN|TINH)"


def _issuer_from_lines(lines: list[str]) -> tuple[str | None, str | None]:
    """(issuer, parent) from the agency lines: a line that continues a name is joined to it."""
    names: list[str] = []
    for line in lines:
        line = re.sub(r"\s+", " ", line).strip(" -")
        if names and (re.match(rf"^(?:VÀ|VA|&|-|OF|AND|FOR)(?:\s|$)|^{_LEVEL_WORDS}(?:\s|$)", line)
                      or names[-1].endswith(("-", " VÀ", " VA", "&"))
                      or re.fullmatch(r"(?:ỦY|UỶ) BAN NHÂN DÂN|HỘI ĐỒNG NHÂN DÂN|UBND|BAN CHỈ ĐẠO",
                                      names[-1])):
            names[-1] = f"{names[-1]} {line}".replace("- ", "- ").strip()
            continue
        names.append(line)
    if not names:
        return None, None
    issuer = _title_case(names[-1])
    parent = _title_case(names[-2]) if len(names) > 1 else None
    return issuer, parent


def _title_case(upper: str) -> str:
    """'BẢO HIỂM XÃ HỘI TỈNH NINH BÌNH' → 'Bảo hiểm xã hội tỉnh Ninh Bình' (place names capitalised)."""
    if not _is_upper(upper, 1000):
        return upper
    text = upper.capitalize()
    text = re.sub(r"\bviệt nam\b", "Việt Nam", text)
    text = re.sub(r"\bchính phủ\b", "Chính phủ", text)
    text = re.sub(r"\b(tỉnh|thành phố|huyện|quận|thị xã|tp\.)\s+(.+)$",
                  lambda m: m.group(1) + " " + m.group(2).title(), text)
    text = re.sub(r"\b(ubnd|bhxh|hđnd|lđtbxh|tw)\b", lambda m: m.group(1).upper(), text)
    return text


def _parse_footer(footer: list[_Para], warnings: list[str]) -> tuple[list[str], Signer | None]:
    cc: list[str] = []
    block: list[str] = []
    i = 0
    while i < len(footer):
        text = footer[i].clean
        if _FOOTER_RE.match(text):
            cells = [c.strip() for c in footer[i].text.split("|") if _clean(c)]
            first = _clean(cells[0]) if cells else text
            rest = _FOOTER_RE.sub("", first, count=1).strip(" :")
            if rest:
                cc.extend(x.strip(" ;.") for x in re.split(r"(?:^|\s)[-–•+]\s*(?=\S)", rest) if x.strip(" ;.-"))
            block.extend(_clean(c) for c in cells[1:])
            i += 1
            while i < len(footer) and (re.match(r"^[-–•+]\s*", footer[i].clean) or
                                       re.match(r"^(Lưu|Như trên|As above|Archived)", footer[i].clean)) \
                    and not footer[i].clean.isupper():
                cells = [c for c in footer[i].text.split("|") if _clean(c)]
                first = _clean(cells[0])
                # "- Lưu: VT. KT. BỘ TRƯỞNG THỨ TRƯỞNG Name": the signature ran into the cc line.
                cut = re.search(r"(?:\b(?:KT|TM|TL|TUQ|Q)\.\s*)?" + _CAPACITY_WORDS.pattern, first)
                if cut and cut.start() > 0 and _name_in(first[cut.start():]):
                    block.append(first[cut.start():])
                    first = first[: cut.start()]
                cc.append(first.lstrip("-–•+ ").rstrip(";.").strip())
                block.extend(_clean(c) for c in cells[1:])
                i += 1
            continue
        block.append(text)
        i += 1
    if not block:
        return cc, None
    name = None
    name_at = None
    for k, line in enumerate(block):
        found = _name_in(line)
        if found:
            name, name_at = found, k
    if name is None:
        names = [t for t in block if _looks_like_name(t)]
        if not names:
            warnings.append("signer name not found")
            return cc, None
        name = names[-1]
        name_at = max(k for k, t in enumerate(block) if t == name)
    capacity_lines = []
    for line in block[: name_at + 1]:
        line = line.replace(name, "").strip(" |")
        if line and (_is_upper(line, 200) or _AUTHORITY_RE.match(line)):
            capacity_lines.append(line)
    capacity = " ".join(capacity_lines[-3:]).strip()
    return cc, Signer(name=name, **_split_capacity(capacity))


def _split_capacity(capacity: str) -> dict:
    m = re.match(r"^(KT|TL|TM|TUQ|Q)\.\s*(.*)$", capacity)
    if not m:
        return {"capacity": capacity, "authority": None}
    authority, rest = m.group(1) + ".", m.group(2)
    cut = None
    deputy = re.search(r"\sPHÓ\s", " " + rest + " ")
    if authority == "KT." and deputy and deputy.start() > 0:
        cut = deputy.start()
    else:
        for starter in ("VỤ TRƯỞNG", "CHÁNH ", "TRƯỞNG ", "CHỦ TỊCH", "GIÁM ĐỐC", "TỔNG GIÁM ĐỐC",
                        "THỨ TRƯỞNG"):
            pos = rest.find(starter, 1)
            if pos > 0 and len(rest[:pos].split()) >= 2 and (cut is None or pos < cut):
                cut = pos
    if cut:
        rest = rest[:cut].strip() + " / " + rest[cut:].strip()
    return {"capacity": f"{authority} {rest}".strip(), "authority": authority}


def _issuer_from_text(number: str, body: str) -> str | None:
    if "BHXH" in number.split("/")[-1].split("-")[0:1] or \
            re.search(r"Tổng Giám đốc (BHXH|Bảo hiểm xã hội) Việt Nam", body):
        return "Bảo hiểm xã hội Việt Nam"
    return None


@lru_cache(maxsize=1)
def _english_agencies() -> list[tuple[re.Pattern[str], str]]:
    """English agency names → Vietnamese (actors.yaml holds both)."""
    pairs = []
    for row in yaml.safe_load((DATA / "actors.yaml").read_text(encoding="utf-8")):
        for name in [row["en"], *[a for a in row.get("aliases", []) if not re.search(r"[ăâđêôơư]", a.lower())]]:
            if len(name) > 6:
                pairs.append((re.compile(rf"^(?:the\s+)?{re.escape(name)}$", re.IGNORECASE), row["vi"]))
    return pairs


def _issuer_vi(name: str | None) -> str | None:
    """An English version's issuer named as the Vietnamese original names it, when known."""
    known = agency_vi(name) if name else None
    if known:
        return known
    if not name or detect_language(name) == "vi":
        return name
    plain = re.sub(r"\s+", " ", name).strip()
    for pattern, vi in _english_agencies():
        if pattern.match(plain):
            return vi
    return name.title() if name.isupper() else name


# ---------------------------------------------------------------- the document

def parse_document(repair: RepairResult, raw: str, file: str) -> Document:
    text = repair.text
    paras = _paragraphs(text)
    warnings: list[str] = []
    # Every field is already of its type (repair builds them): validating the offset map again,
    # an int per character, would cost more than the rest of the source. The lists are copied,
    # as validation would.
    source = Source.model_construct(
        file=file, sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(), raw_text=raw,
        repaired_text=text, offset_map=list(repair.offset_map), stats=repair.stats,
        repairs=list(repair.repairs))
    language = detect_language(text)
    paras = _split_run_ons(paras)
    zones = _zones(paras)
    front = paras[: zones.front]
    header = paras[zones.front: zones.body]
    body = paras[zones.body: zones.footer]
    footer = paras[zones.footer: zones.footer_end]
    site = read_site_metadata(front) if front else {}

    meta = _parse_header(header, warnings, language)
    meta["has_header"] = bool(header) and any(_has_motto(p.clean) for p in header)
    cc, signer = _parse_footer(footer, warnings)

    number, identity, provisional = _identity(meta, site, file, source, warnings)
    issued = meta.get("issued")
    site_issued = _site_date(site.get("issued"))
    if issued and site_issued and issued != site_issued:
        warnings.append(f"site metadata gives issue date {site_issued.isoformat()}, "
                        f"the header {issued.isoformat()}: the header is kept")
    if not issued and site_issued:
        issued = site_issued
        identity.signals.append(f"issue date from the site's metadata table ({site.get('issued')})")
    issued_partial = None
    if not issued:
        stamp = _stamp_date(raw)
        issued_partial = meta.get("issued_partial")
        if issued_partial and len(issued_partial) == 4 and stamp and stamp.year == int(issued_partial):
            issued_partial = f"{stamp.year}-{stamp.month:02d}"
            warnings.append(f"issue day and month unreadable; the e-signature stamp "
                            f"({stamp.isoformat()}) gives the month")
        elif issued_partial:
            warnings.append(f"issue day unreadable in the header: only {issued_partial} is known")
        elif stamp:
            issued_partial = f"{stamp.year}-{stamp.month:02d}"
            warnings.append(f"issue date unreadable; the e-signature stamp dates it {stamp.isoformat()}")
        else:
            warnings.append("no issue date found in the header")

    if signer is None and site.get("signer") and is_person_name(site["signer"]):
        signer = Signer(name=site["signer"], capacity="")
        identity.signals.append("signer from the site's metadata table")
    elif signer and site.get("signer") and is_person_name(site["signer"]) and \
            _fold(site["signer"]).casefold() != _fold(signer.name).casefold():
        warnings.append(f"site metadata names the signer {site['signer']}, the signature "
                        f"block {signer.name}: the signature block is kept")

    kind = _kind(meta, site, number, provisional, warnings)
    issuer, parent = _issuer_from_lines(meta.get("issuer_lines", []))
    if language == "en":
        issuer, parent = _issuer_vi(issuer), _issuer_vi(parent)
    if not issuer and site.get("issuer"):
        issuer = site["issuer"]
    body_text = "\n".join(p.text for p in body)
    issuer = issuer or _issuer_from_text(number, body_text)

    builder = _Builder(number, source, warnings, language)
    builder.add_header(header, footer)
    builder.build(body, prefix=None)
    builder.add_attachments(paras, zones, number, kind)
    builder.ensure_citable(paras, zones)
    # The header clause goes last: body clauses keep their reading order from the start.
    builder.clauses.sort(key=lambda c: c.path == "header")
    document = Document(
        number=number, provisional=provisional, kind=kind, issuer=issuer,
        parent_issuer=parent, place=meta.get("place"),
        issued=issued, issued_partial=issued_partial, subject=meta.get("subject"),
        recipients=meta.get("recipients", []), signer=signer, cc=cc,
        language=language, clauses=builder.clauses, identity=identity,
        site_metadata=site, warnings=warnings, source=source,
    )
    document.references = extract_references(document)
    return document


_STAMP_RE = re.compile(r"(?:Thời gian ký|Ký ngày)\s*:\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})")


def _stamp_date(raw: str) -> date | None:
    m = _STAMP_RE.search(raw[:4000])
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def _identity(meta: dict, site: dict, file: str, source: Source,
              warnings: list[str]) -> tuple[str, IdentityEvidence, bool]:
    """The document's number and why: its header, the site table, or its file name."""
    header = meta.get("number")
    site_number = normalise_number(site["number"]) if site.get("number") else None
    if site_number and not is_well_formed_number(site_number):
        site_number = None
    from_file = number_from_filename(file)
    if header and not is_well_formed_number(header):
        warnings.append(f"number in the header is not well formed: {header}")
        header = None
    if header:
        signals = ["Số: line in header"]
        if site_number and number_key(site_number) != number_key(header):
            warnings.append(f"site metadata gives number {site_number}, the header {header}: "
                            f"the header is kept")
        elif site_number:
            signals.append("agrees with the site's metadata table")
        if from_file and from_file != header and _ocr_misread(header, from_file) and \
                (not site_number or number_key(site_number) == number_key(from_file)):
            warnings.append(f"header number {header} differs from the file name's {from_file} "
                            f"by one digit (an OCR misreading): the file name is kept")
            return from_file, IdentityEvidence(
                method="filename", source=Path(file).name, confidence=0.7,
                signals=[f"header reads {header}", f"file name reads {from_file}",
                         "same codes, one digit apart"]), False
        return header, IdentityEvidence(method="header", signals=signals), False
    if site_number:
        return site_number, IdentityEvidence(method="header", signals=[
            "number from the site's metadata table (Số hiệu)"], confidence=0.9), False
    if from_file and (meta.get("number_unreadable") or meta.get("unnumbered") or meta.get("has_header")):
        meta.setdefault("number_unreadable", "no readable number line")
        why = (f"header number unreadable ({meta['number_unreadable']!r})"
               if meta.get("number_unreadable") else "the header leaves the number blank (Không số)")
        warnings.append(f"{why}: number {from_file} taken from the file name")
        return from_file, IdentityEvidence(method="filename", source=Path(file).name,
                                           signals=[why, f"file name reads {from_file}"],
                                           confidence=0.6), False
    number = "draft-" + source.sha256[:10]
    if meta.get("unnumbered"):
        warnings.append(f"the header leaves the number blank (Không số): provisional ID {number}")
        signal = "Không số: the number line is blank"
    else:
        warnings.append("no document number found: provisional ID " + number)
        signal = "no document number in the text"
    return number, IdentityEvidence(method="provisional", confidence=0.0, signals=[signal]), True


def _ocr_misread(a: str, b: str) -> bool:
    da, _, ca = a.partition("/")
    db, _, cb = b.partition("/")
    return number_key(ca) == number_key(cb) and len(da) == len(db) and \
        sum(x != y for x, y in zip(da, db)) == 1


def _kind(meta: dict, site: dict, number: str, provisional: bool, warnings: list[str]) -> str | None:
    """Kind from the number's code and the title line together (and the site table)."""
    codes = [c for c in re.split(r"[/\-]", number)[1:] if c and not c.isdigit()] if not provisional else []
    code_kind = kind_from_code(codes[0]) if codes else None
    title_kind = meta.get("title_kind")
    site_kind = site.get("kind")
    kind = code_kind or title_kind
    if code_kind and title_kind and code_kind != title_kind:
        warnings.append(f"title says {title_kind}, number code says {code_kind}: the code is kept")
    if not kind and site_kind:
        kind = next((k for k in kind_vi_names() if k.casefold() == site_kind.casefold()), None) \
            or kind_from_title(site_kind.upper())
    if not kind and not provisional:
        kind = kind_from_number(number)
    if not kind and (meta.get("subject") is not None or meta.get("recipients")):
        kind = "Công văn"      # a V/v subject line is the mark of an official dispatch
    if kind and site_kind and site_kind.casefold() != kind.casefold() and \
            kind_from_title(site_kind.upper()) not in (None, kind):
        warnings.append(f"site metadata says {site_kind}, the document reads as {kind}")
    return kind


# ---------------------------------------------------------------- clause tree

class _Builder:
    """Builds the clause list of one document: header, body tree, attachments."""

    def __init__(self, number: str, source: Source, warnings: list[str], language: str):
        self.number = number
        self.source = source
        self.warnings = warnings
        self.language = language
        self.clauses: list[Clause] = []
        self.paths: set[str] = set()
        self.by_path: dict[str, Clause] = {}                # path → clause (paths are unique)
        self.segments: dict[str, Segments] = {}
        self.context: dict[str, tuple[str, str]] = {}     # annex path → (vi title, en title)

    def add(self, path: str, marker: str, paras: list[_Para], parent: str | None,
            segments: Segments | None = None, extra: list[_Para] | None = None) -> Clause:
        start, end = paras[0].start, paras[-1].end
        clause_text = self.source.repaired_text[start:end]
        if extra:
            clause_text += "\n" + self.source.repaired_text[extra[0].start: extra[-1].end]
        if path in self.paths:
            self.warnings.append(f"duplicate clause path {path}: kept with suffix")
            path = f"{path}~{len(self.paths)}"
        self.paths.add(path)
        if segments:
            self.segments[path] = segments
        vi, en = _labels(path, tuple(segments) if segments else None,
                         self.context.get(path.split(".", 1)[0]))
        lowered = clause_text.lower()
        clause = Clause(
            id=f"{self.number}#{path}", doc=self.number, path=path, marker=marker,
            label_vi=vi, label_en=en,
            text=clause_text, span=(start, end), raw_span=self.source.raw_span(start, end),
            parent=parent, actors=find_actors(clause_text, lowered),
            deadlines=find_deadlines(clause_text, lowered))
        self.clauses.append(clause)
        self.by_path[path] = clause
        if parent:
            owner = self.by_path.get(parent)
            if owner is not None:
                owner.children.append(path)
        return clause

    def add_header(self, header: list[_Para], footer: list[_Para]) -> None:
        head = [p for p in header if not _is_separator(p)]
        tail = [p for p in footer if not _is_separator(p)]
        if head:
            self.add("header", "", head, None, extra=tail or None)
        elif tail:
            self.add("header", "", tail, None)

    def build(self, body: list[_Para], prefix: str | None) -> None:
        body = [p for p in body if not _is_separator(p)]
        if not body:
            return
        groups: list[dict] = []
        preamble: list[_Para] = []
        for para in body:
            marker = _item_marker(para)
            if marker:
                kind, token, written = marker
                groups.append({"kind": kind, "token": token, "marker": written, "paras": [para]})
            elif groups:
                groups[-1]["paras"].append(para)
            else:
                preamble.append(para)
        root = prefix
        if not groups:
            if prefix is None:
                self.warnings.append("no numbered or lettered items: indexed as paragraphs")
            for i, para in enumerate(body, 1):
                path = f"{prefix}.p{i}" if prefix else f"p{i}"
                self.add(path, "", [para], root, [("paragraph", str(i))])
            return
        closing: list[_Para] = []
        last = groups[-1]["paras"]
        if groups[-1]["kind"] not in ("article", "chapter", "section"):
            for j in range(1, len(last)):
                tail = last[j:]
                if _CLOSING_CUES.match(tail[0].clean) or tail[-1].text.rstrip().endswith(("./.", "./")) \
                        and j == len(last) - 1:
                    closing = tail
                    groups[-1]["paras"] = last[:j]
                    break
        if preamble:
            self.add(f"{prefix}.preamble" if prefix else "preamble", "", preamble, root)
        stack: list[tuple[int, Clause, str]] = []
        ordinals: dict[tuple[str | None, str], int] = {}
        for group in groups:
            level = _LEVEL[group["kind"]]
            while stack and stack[-1][0] >= level:
                stack.pop()
            parent = stack[-1][1] if stack else None
            parent_path = parent.path if parent else root
            parent_kind = stack[-1][2] if stack else None
            kind, token = group["kind"], group["token"]
            if kind in ("dash", "plus"):
                sign = "-" if kind == "dash" else "+"
                key = (parent_path, sign)
                ordinals[key] = ordinals.get(key, 0) + 1
                segment, own = f"{sign}{ordinals[key]}", (kind, str(ordinals[key]))
            elif kind == "article":
                segment, own = f"art{token}", ("article", token)
            elif kind == "chapter":
                n = _roman_value(token) or token
                segment, own = f"ch{n}", ("chapter", token)
            elif kind == "section":
                n = _roman_value(token) or token
                segment, own = f"sec{n}", ("section", token)
            elif kind == "subletter":
                segment, own = token, ("subletter", token)
            else:
                segment, own = token, (kind, token)
            path = self._path(parent_path, parent_kind, kind, segment, token)
            parent_segments = self.segments.get(parent_path, []) if parent_path else []
            segments = parent_segments + [own]
            clause = self.add(path, group["marker"], group["paras"], parent_path, segments)
            stack.append((level, clause, kind))
        if closing:
            self.add(f"{prefix}.closing" if prefix else "closing", "", closing, root)

    def _path(self, parent_path: str | None, parent_kind: str | None, kind: str, segment: str,
              token: str) -> str:
        """A sub-number '1.2' under item '1' is '1.2', not '1.1.2'; '1.2.a' under '1.2' is '1.2.a'."""
        if kind in ("subnumber", "subletter") and parent_path:
            base = parent_path.rsplit(".", 1)
            last = base[-1]
            if token.startswith(last + "."):
                prefix = base[0] + "." if len(base) == 2 else ""
                return prefix + token
            parent_numbers = ".".join(p for p in parent_path.split(".") if p.isdigit())
            if parent_numbers and token.startswith(parent_numbers + "."):
                head = parent_path[: len(parent_path) - len(parent_numbers)]
                return head + token
        return f"{parent_path}.{segment}" if parent_path else segment

    def add_attachments(self, paras: list[_Para], zones: _Zones, number: str, kind: str | None) -> None:
        starts = zones.attachments
        if not starts:
            rest = [p for p in paras[zones.footer_end:] if not _is_separator(p)]
            if rest:
                if sum("|" in p.text for p in rest) >= 2:
                    self._appendix(rest, 1, number)
                elif self.clauses:
                    self._unplaced(rest)
            return
        between = [p for p in paras[zones.footer_end: starts[0][0]] if not _is_separator(p)]
        if between:
            if sum("|" in p.text for p in between) >= 2:
                starts = [(zones.footer_end, "appendix")] + starts
            else:
                self._unplaced(between)
        annexes = sum(1 for _, k in starts if k == "annex")
        annex_n = appendix_n = 0
        for k, (start, what) in enumerate(starts):
            end = starts[k + 1][0] if k + 1 < len(starts) else len(paras)
            part = [p for p in paras[start:end] if not _is_separator(p)]
            if not part:
                continue
            if what == "annex":
                annex_n += 1
                self._annex(part, "annex" if annexes == 1 else f"annex{annex_n}", number, kind)
            else:
                appendix_n += 1
                self._appendix(part, appendix_n, number)

    def _annex(self, part: list[_Para], path: str, number: str, kind: str | None) -> None:
        head_end = 0
        while head_end < len(part) and head_end < 8 and not _item_marker(part[head_end]) and \
                not _PREAMBLE_OPENER_RE.match(part[head_end].clean) and \
                (_is_upper(part[head_end].clean) or _ATTACHMENT_CUE_RE.match(part[head_end].clean)
                 or head_end == 0 or len(part[head_end].clean) < 200):
            head_end += 1
            if _ATTACHMENT_CUE_RE.match(part[head_end - 1].clean):
                break
        head_end = max(1, head_end)
        title = part[0].clean
        annex_kind = next((k for k in _ANNEX_KINDS if _fold(title).upper().lstrip("*# ").startswith(_fold(k).upper())),
                          "Quy chế" if _fold(title).upper().startswith("QUY CHE") else None)
        kind_vi = annex_kind or "Văn bản"
        doc_vi = kind or "Quyết định"
        doc_en = kind_en(doc_vi) or "Decision"
        self.context[path] = (f"{kind_vi} ban hành kèm theo {doc_vi} {number}",
                              f"of the {_ANNEX_EN.get(kind_vi, 'document')} issued with {doc_en} {number}")
        self.add(path, "", part[:head_end], None, [("annex", path)])
        self.build(part[head_end:], prefix=path)

    def _appendix(self, part: list[_Para], n: int, number: str) -> None:
        path = f"appendix{n}"
        clause = self.add(path, "", part, None, [("appendix", str(n))])
        if len(part) > 1 and not any("|" in p.text for p in part[:1]):
            clause.marker = part[0].clean[:40]

    def _unplaced(self, rest: list[_Para]) -> None:
        """Lines after the signature that are no attachment: kept in the nearest clause."""
        target = self.clauses[-1]
        start = min(target.span[0], rest[0].start)
        end = max(target.span[1], rest[-1].end)
        if target.path == "header":
            target.text = target.text + "\n" + self.source.repaired_text[rest[0].start: rest[-1].end]
        else:
            target.text = self.source.repaired_text[start:end]
            target.span = (start, end)
            target.raw_span = self.source.raw_span(start, end)
        self.warnings.append(f"{len(rest)} line(s) after the signature could not be placed: "
                             f"kept in {target.path}")

    def ensure_citable(self, paras: list[_Para], zones: _Zones) -> None:
        """A document with text always has a clause to cite."""
        if any(c.path != "header" for c in self.clauses) or not paras:
            return
        rest = [p for p in paras if not _is_separator(p)]
        if not self.clauses:
            self.warnings.append("structure unreadable: the whole text is indexed as paragraphs")
            for i, para in enumerate(rest, 1):
                self.add(f"p{i}", "", [para], None, [("paragraph", str(i))])
        elif not any(c.path != "header" for c in self.clauses):
            # The body could not be told from the header: its long lines become paragraphs.
            header = [p for p in paras[zones.front: zones.body] if not _is_separator(p)]
            long = [p for p in header if len(p.clean) > 200]
            if long:
                self.warnings.append("body not separable from the header: its long lines "
                                     "are indexed as paragraphs")
                for i, para in enumerate(long, 1):
                    self.add(f"p{i}", "", [para], None, [("paragraph", str(i))])
            else:
                self.warnings.append("no body text: only the header can be cited")


@lru_cache(maxsize=65536)
def _labels(path: str, segments: tuple[tuple[str, str], ...] | None,
            annex: tuple[str, str] | None) -> tuple[str, str]:
    """(label_vi, label_en) of a clause; `annex` is the context of the annex the path is in.
    Paths repeat from document to document ('1', '1.a', 'art2.3'): each is labelled once."""
    context = {path.split(".", 1)[0]: annex} if annex else None
    listed = list(segments) if segments else None
    return label_vi(path, listed, context), label_en(path, listed, context)


def _item_marker(para: _Para) -> tuple[str, str, str] | None:
    marker = marker_of(para.clean)
    if marker is None:
        return None
    kind, token, written = marker
    if kind == "roman" and not token:
        return None
    if kind in ("chapter", "section") and len(para.clean) > 200:
        return None
    if kind == "appendix":
        return None
    if kind == "part" and not _is_upper(para.clean[2:60]):
        return None
    if kind == "letter" and written.endswith(".") and len(token) == 1 and not re.match(r"^[a-zđ]\.\s+\S", para.clean):
        return None
    return kind, token, written


def _roman_value(token: str) -> int | None:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    if not token or not all(c in values for c in token.upper()):
        return None
    total = 0
    for i, c in enumerate(token.upper()):
        v = values[c]
        total += -v if i + 1 < len(token) and values[token.upper()[i + 1]] > v else v
    return total


def build_clauses(number: str, body: list[_Para], source: Source,
                  warnings: list[str]) -> list[Clause]:
    """The clause tree of a body alone (no header, no attachments)."""
    builder = _Builder(number, source, warnings, "vi")
    builder.build(body, prefix=None)
    return builder.clauses


# ---------------------------------------------------------------- labels

Segments = list[tuple[str, str]]


def _segment_label(segment: str) -> tuple[str, str]:
    """(kind, value) for one path segment written on its own."""
    if re.fullmatch(r"art\d+[a-z]?", segment):
        return "article", segment[3:]
    if re.fullmatch(r"ch\d+", segment):
        return "chapter", segment[2:]
    if re.fullmatch(r"sec\d+", segment):
        return "section", segment[3:]
    if re.fullmatch(r"annex\d*", segment):
        return "annex", segment
    if re.fullmatch(r"appendix\d+", segment):
        return "appendix", segment[8:]
    if re.fullmatch(r"p\d+", segment):
        return "paragraph", segment[1:]
    if segment in ("preamble", "closing", "header"):
        return segment, segment
    if segment[0] in "-+":
        return ("dash" if segment[0] == "-" else "plus"), segment[1:]
    if re.fullmatch(r"[IVXLC]+", segment):
        return "roman", segment
    if re.fullmatch(r"[A-Z]", segment):
        return "part", segment
    if re.fullmatch(r"\d+(\.\d+)+", segment):
        return "subnumber", segment
    if segment.isdigit():
        return "number", segment
    return "letter", segment


def segments_of(path: str) -> Segments:
    """Best-effort split of a path written alone; the parser passes exact segments instead."""
    parts = path.split(".")
    out: Segments = []
    i = 0
    while i < len(parts):
        part = parts[i]
        # '1.2' (and '1.2.a') written in a path: a sub-number when the previous was a number.
        if part.isdigit() and out and out[-1][0] in ("number", "subnumber") and \
                not (i + 1 < len(parts) and False):
            kind, value = out[-1]
            out[-1] = ("subnumber", f"{value}.{part}")
            i += 1
            continue
        out.append(_segment_label(part))
        i += 1
    return out


_PARAGRAPH_PATH_RE = re.compile(r"p\d+")
_ANNEX_HEAD_RE = re.compile(r"annex\d*")
_SPECIAL_VI = {"preamble": "phần mở đầu", "closing": "phần kết", "header": "phần đầu văn bản"}
_SPECIAL_EN = {"preamble": "preamble", "closing": "closing paragraph", "header": "document header"}


def label_vi(path: str, segments: Segments | None = None,
             context: dict[str, tuple[str, str]] | None = None) -> str:
    if path in _SPECIAL_VI:
        return _SPECIAL_VI[path]
    if _PARAGRAPH_PATH_RE.fullmatch(path):
        return f"đoạn {path[1:]}"
    segments = segments or segments_of(path)
    annex = _annex_of(path, context)
    if segments and segments[0][0] == "annex":
        segments = segments[1:]
    if annex is not None:
        inner = _label_vi(segments) if segments else ""
        return f"{inner} {annex[0]}".strip() if inner else annex[0]
    return _label_vi(segments)


def _annex_of(path: str, context: dict[str, tuple[str, str]] | None) -> tuple[str, str] | None:
    head = path.split(".", 1)[0]
    if not _ANNEX_HEAD_RE.fullmatch(head):
        return None
    if context and head in context:
        return context[head]
    n = head[5:]
    return (f"văn bản ban hành kèm theo{(' số ' + n) if n else ''}",
            f"of the attached document{(' ' + n) if n else ''}")


def _label_vi(segments: Segments) -> str:
    if not segments:
        return ""
    kind, value = segments[-1]
    rest = segments[:-1]
    # Chapters and sections only name an item that has no article of its own.
    if any(k == "article" for k, _ in rest) or kind == "article":
        rest = [s for s in rest if s[0] not in ("chapter", "section")]
    if kind in ("dash", "plus"):
        bullet = f"{'gạch đầu dòng' if kind == 'dash' else 'dấu cộng'} thứ {value}"
        return f"{bullet} của {_label_vi(rest)}" if rest else bullet
    if kind in _SPECIAL_VI:
        own = _SPECIAL_VI[kind]
        return f"{own} của {_label_vi(rest)}" if rest else own
    names = {"roman": "mục", "article": "Điều", "number": "khoản", "subnumber": "tiểu mục",
             "letter": "điểm", "subletter": "điểm", "chapter": "Chương", "section": "Mục",
             "part": "phần", "appendix": "Phụ lục", "paragraph": "đoạn"}
    if kind == "subletter":
        value = value.rsplit(".", 1)[-1]
        base = _label_vi(rest) if rest else f"tiểu mục {segments[-1][1].rsplit('.', 1)[0]}"
        return f"{base} điểm {value}"
    own = f"{names.get(kind, kind)} {value}"
    return f"{_label_vi(rest)} {own}" if rest else own


def _ordinal(n: int) -> str:
    return _ORDINALS_EN[n - 1] if 1 <= n <= len(_ORDINALS_EN) else f"{n}th"


def label_en(path: str, segments: Segments | None = None,
             context: dict[str, tuple[str, str]] | None = None) -> str:
    if path in _SPECIAL_EN:
        return _SPECIAL_EN[path]
    if _PARAGRAPH_PATH_RE.fullmatch(path):
        return f"paragraph {path[1:]}"
    segments = segments or segments_of(path)
    annex = _annex_of(path, context)
    if segments and segments[0][0] == "annex":
        segments = segments[1:]
    inner = _label_en(segments) if segments else ""
    if annex is not None:
        if not inner:
            return annex[1].replace("of the ", "the ", 1)
        return f"{inner} {annex[1]}"
    return inner


def _label_en(segments: Segments) -> str:
    section = None
    clause = ""
    extras = []
    article = None
    for kind, value in segments:
        if kind == "roman":
            section = f"section {value}"
        elif kind == "part":
            section = f"part {value}"
        elif kind == "chapter":
            section = section or f"Chapter {value}"
        elif kind == "section":
            section = f"Section {value}" if not article else section
        elif kind == "article":
            article = f"Article {value}"
            section = None
        elif kind in ("number", "subnumber"):
            if article:
                article += f"({value})"
            else:
                clause = f"clause {value}"
        elif kind in ("letter", "subletter"):
            value = value.rsplit(".", 1)[-1] if kind == "subletter" else value
            if kind == "subletter" and not article and not clause:
                clause = f"clause {segments[-1][1].rsplit('.', 1)[0]}"
            if article:
                article += f"({value})"
            else:
                clause = f"{clause}({value})" if clause else f"point ({value})"
        elif kind == "appendix":
            section = f"Appendix {value}"
        elif kind == "paragraph":
            extras.append(f"paragraph {value}")
        elif kind in _SPECIAL_EN:
            extras.append(_SPECIAL_EN[kind])
        else:
            extras.append(f"{_ordinal(int(value))} {'bullet' if kind == 'dash' else 'sub-bullet'}")
    parts = [p for p in (article, section, clause) if p] + extras
    return ", ".join(parts)


# ---------------------------------------------------------------- references

def extract_references(document: Document) -> list[Reference]:
    references: list[Reference] = []
    seen: set[tuple[str, str | None]] = set()
    for clause in document.clauses:
        if clause.path == "header" or "/" not in clause.text:
            continue          # (both kinds of number have a '/')
        # State documents ("968/CĐ-TTg") and Party documents ("52-CT/TW"), in text order.
        mentions = sorted([*NUMBER_RE.finditer(clause.text), *PARTY_NUMBER_RE.finditer(clause.text)],
                          key=lambda m: m.start())
        for m in mentions:
            party = m.re is PARTY_NUMBER_RE
            number = party_number(m.group(0)) if party else normalise_number(m.group(0))
            if number == document.number or _is_date_like(m.group(0)):
                continue
            before = clause.text[max(0, m.start() - 40): m.start()]
            after = clause.text[m.end(): m.end() + 60]
            ref = Reference(number=number, kind=_kind_before(before) or (None if party else kind_from_number(number)),
                            issued=_date_after(after) or _date_opening_sentence(
                                clause.text[max(0, m.start() - 120): m.start()]),
                            citing_clause=clause.path,
                            mention=(clause.text[max(0, m.start() - 20): m.end()]).strip())
            if number not in clause.references:
                clause.references.append(number)
            key = (number, clause.path)
            if key not in seen:
                seen.add(key)
                references.append(ref)
    # A date stated at one mention holds for every mention of the same number.
    known = {r.number: r.issued for r in references if r.issued}
    for reference in references:
        reference.issued = reference.issued or known.get(reference.number)
    return references


def _is_date_like(text: str) -> bool:
    return bool(_DATE_LIKE_RE.fullmatch(text.replace(" ", "")))


_DATE_LIKE_RE = re.compile(r"\d+/\d+/\d+")
