"""Which clauses an article reports: the body the question asks about, and the clauses of a
directive addressed to it.

"What must X do under <directive>?" / "Theo <văn bản>, X phải làm gì?" names a body X. A clause
is addressed to X when its leading phrase names X ("3. Cục Đường bộ Việt Nam", "Điều 4. Sở Lao
động - Thương binh và Xã hội có nhiệm vụ", "Về …: Giao Bộ Giáo dục và Đào tạo chủ trì …"), or when
the nearest clause above it that names an addressee names X. A clause whose addressee chain names
no body, or only every recipient ("Các cơ quan, đơn vị …"), applies to X as well. Clauses
addressed to another body are left out. When the question names no body, or the directive
addresses none of its clauses to it, the article reports every operative clause.

Matching is by words: the question's name for X (in English, through the lexicon's Vietnamese
renderings) must be found in the clause's leading phrase, diacritics folded. Nothing here knows a
particular directive.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ingest.model import Clause, Document
from ingest.vocab import NUMBER_RE
from service.qa.render import lexicon, lexicon_matches, strip_marker

# Words that head the name of a body that can be told to act.
_ORG_HEADS = (
    "bộ trưởng", "thủ trưởng", "người đứng đầu", "giám đốc", "phó giám đốc", "tổng giám đốc",
    "chủ tịch", "chánh văn phòng", "chánh thanh tra", "trưởng ban", "trưởng phòng", "cục trưởng",
    "vụ trưởng", "bộ", "sở", "cục", "tổng cục", "vụ", "ban", "văn phòng", "ủy ban", "uỷ ban",
    "ubnd", "bảo hiểm xã hội", "bhxh", "kho bạc", "phòng", "trung tâm", "tỉnh", "thành phố",
    "công an", "tập đoàn", "tổng công ty", "đài", "báo", "hội", "liên đoàn", "hội đồng",
    "kiểm toán", "thanh tra", "ngân hàng", "đoàn", "cơ quan", "đơn vị", "các",
)
# Where a leading addressee phrase ends: a verb of instruction (lower case: "Sở Xây dựng",
# "Vụ Tổ chức cán bộ" are names), or punctuation.
_BOUNDARY = re.compile(
    r"[:;.(]|\s(?:có trách nhiệm|có nhiệm vụ|chịu trách nhiệm|chủ trì|chủ động|khẩn trương|"
    r"tham mưu|chỉ đạo|phối hợp|thực hiện|hướng dẫn|tiếp tục|nghiên cứu|rà soát|quán triệt|"
    r"tập trung|theo dõi|tổ chức|triển khai|bố trí|xây dựng|căn cứ|báo cáo|kiểm tra|đôn đốc|"
    r"tăng cường|đẩy mạnh|bảo đảm|đảm bảo|thường xuyên|khẩn|sớm|cần|phải|được|là|"
    r"lãnh đạo|định kỳ|ưu tiên|theo chức năng|trong phạm vi)\b")
# Leading phrases that name every recipient rather than one body.
_GENERIC = re.compile(r"^(?:(?:các|mọi)\s+(?:cơ quan|đơn vị|tổ chức|địa phương|cá nhân)\b|"
                      r"(?:các\s+)?(?:cơ quan|đơn vị|tổ chức|địa phương|bộ, ngành|bộ, cơ quan|"
                      r"sở, ban, ngành|sở, ngành|bộ|sở|ban|ngành|cấp)(?:\s*[,;]|\s+(?:và|liên quan|"
                      r"có liên quan|trực thuộc|nêu trên|được giao)|\s*$))", re.IGNORECASE)
_NOISE = {"các", "của", "và", "thuộc", "trực", "ở", "tại", "the", "of", "and", "to", "cấp",
          "nhà", "nước", "trung", "ương", "thành", "phố"}


@dataclass(frozen=True)
class Target:
    """The body a question asks about: its words as written, and the word groups a clause's
    addressee must contain (each group: alternatives, diacritics folded)."""
    text: str
    groups: tuple[tuple[str, ...], ...]


def fold(text: str) -> str:
    """Casefolded, NFC, diacritics removed, đ → d, abbreviations spelled out, spaces collapsed."""
    text = unicodedata.normalize("NFC", text).casefold().replace("uỷ", "ủy")
    text = re.sub(r"\bubnd\b", "ủy ban nhân dân", text)
    text = re.sub(r"\bbhxh\b", "bảo hiểm xã hội", text)
    text = re.sub(r"\blđtbxh\b", "lao động thương binh xã hội", text)
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text)
                       if unicodedata.category(ch) != "Mn").replace("đ", "d")
    return " ".join(re.findall(r"\w+", stripped))


_FOLDED_NOISE = {fold(n) for n in _NOISE}


def _words(text: str) -> list[str]:
    return [w for w in fold(text).split() if w not in _FOLDED_NOISE]


# ---------------------------------------------------------------- the question's addressee

_EN_PATTERNS = [
    re.compile(r"\bwhat\s+(?:must|should|shall|does|do|will|is|are)\s+(?P<x>.+?)\s+"
               r"(?:have to |need to |required to |supposed to |expected to )?(?:do|be required to do)\b",
               re.IGNORECASE),
    re.compile(r"\b(?:require|requires|ask|asks|tell|tells|direct|directs|assign|assigns)\s+"
               r"(?P<x>.+?)\s+to\s+(?:do|carry out|implement|perform)\b", re.IGNORECASE),
    re.compile(r"\b(?:duties|tasks|responsibilities|obligations)\s+(?:of|for)\s+(?P<x>.+?)"
               r"(?:\s+(?:under|in|according to)\b|\?|$)", re.IGNORECASE),
]
_VI_PATTERNS = [
    re.compile(r"\bgiao\s+(?P<x>.+?)\s+(?:những\s+)?(?:nhiệm vụ|làm|thực hiện|trách nhiệm)\b",
               re.IGNORECASE),
    re.compile(r"^(?P<x>.+?)\s+(?:phải|cần|có trách nhiệm|có nhiệm vụ|được giao|"
               r"chịu trách nhiệm)\b", re.IGNORECASE),
    re.compile(r"\b(?:yêu cầu|đề nghị)\s+(?P<x>.+?)\s+(?:làm|thực hiện|những)\b", re.IGNORECASE),
    re.compile(r"\b(?:nhiệm vụ|trách nhiệm)\s+(?:của\s+)?(?P<x>.+?)(?:\s+(?:theo|tại|trong)\b|\?|$)",
               re.IGNORECASE),
]


def question_addressee(question: str) -> Target | None:
    """The body the question asks about, or None when it names none."""
    q = unicodedata.normalize("NFC", question).strip()
    q_wo_numbers = NUMBER_RE.sub(" ", q)
    english = not re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", q.lower())
    patterns = _EN_PATTERNS if english else _VI_PATTERNS
    if not english:      # "Theo Công văn …, X phải làm gì?": X starts after the source
        q_wo_numbers = re.sub(r"^\s*(?:Theo|Căn cứ|Tại|Trong)\s+[^,]+,\s*", "", q_wo_numbers,
                              flags=re.IGNORECASE)
    for pattern in patterns:
        m = pattern.search(q_wo_numbers)
        if not m:
            continue
        x = re.sub(r"^(?:the|a|an)\s+", "", m.group("x").strip(" ,"), flags=re.IGNORECASE)
        x = re.sub(r"\s+(?:under|in|according to|by)\s+.*$", "", x) if english else x
        target = _english_target(x) if english else _vietnamese_target(x)
        if target:
            return target
    return None


def _vietnamese_target(x: str) -> Target | None:
    x = re.sub(r"^(?:theo\s+.+?,\s*)", "", x, flags=re.IGNORECASE).strip()
    if not x or not fold(x).startswith(tuple(fold(h) + " " for h in _ORG_HEADS if h != "các")):
        return None
    words = _words(x)
    if not words:
        return None
    return Target(text=x, groups=tuple((w,) for w in words))


def _english_target(x: str) -> Target | None:
    groups: list[tuple[str, ...]] = []
    rest = x
    for m in lexicon_matches(x):
        renderings = lexicon().get(m.group(1).lower(), [])
        if renderings:
            groups.append(tuple(dict.fromkeys(fold(r) for r in renderings)))
        rest = rest.replace(m.group(0), " ")
    if not groups:
        return None
    # Proper names the lexicon does not know ("Dong Nai"): capitalised words left over.
    for word in re.findall(r"\b[A-Z][a-z]+\b", rest):
        if word.lower() not in {"what", "must", "should", "does", "the", "of", "and"}:
            groups.append((fold(word),))
    return Target(text=x, groups=tuple(groups))


# ---------------------------------------------------------------- clause addressees

def leading_addressee(clause: Clause) -> str | None:
    """The body a clause's leading phrase tells to act, as written; '' when it names every
    recipient; None when it names nobody."""
    body = strip_marker(clause).replace("*", "")
    body = re.sub(r"^\s*(?:Điều|Chương|Mục|Phần)\s+[\wđĐ]+\s*[.:]?\s*", "", body)
    body = re.sub(r"^\s*(?:[IVXLC]+|\d+(?:\.\d+)*)\s*[.)]\s*", "", body)
    body = re.sub(r"^Về\s[^:]{0,240}:\s*", "", body)
    body = re.sub(r"^(?:Giao|giao|Đề nghị|Yêu cầu)\s+", "", body).strip()
    folded = fold(body[:40])
    if not any(folded.startswith(fold(head) + " ") or folded == fold(head) for head in _ORG_HEADS):
        return None
    cut = _BOUNDARY.search(body, 1)
    phrase = body[: cut.start()] if cut else body[:120]
    phrase = phrase.strip(" ,-–")
    if not phrase or _GENERIC.match(phrase) or fold(phrase) in ("cac", ""):
        return ""
    return phrase[:160]


def _content(folded: str) -> str:
    return " ".join(w for w in folded.split() if w not in _FOLDED_NOISE)


def addressed_to(target: Target, phrase: str) -> bool:
    """Whether the clause's leading phrase names the target: every word group found (multi-word
    alternatives as a run of words, "các"/"của"… ignored on both sides)."""
    joined = " " + _content(fold(phrase)) + " "
    words = set(joined.split())
    found = []
    for group in target.groups:
        alts = [_content(alt) or alt for alt in group]
        found.append(any((" " + alt + " ") in joined if " " in alt else alt in words for alt in alts))
    # The head word names the kind of body ("Sở" is not "Phòng"): it must be there; of the
    # rest, one word may be missing in a long name (an abbreviation, an OCR slip).
    if not found or not found[0]:
        return False
    missing = found.count(False)
    return missing == 0 or (missing == 1 and len(found) >= 5)


def covers_kind(target: Target, phrase: str) -> bool:
    """"Bộ trưởng các Bộ …" addresses every ministry, the asked-about one too: the phrase names
    the target's kind of body in the plural ("các" + its head word)."""
    if not target.groups:
        return False
    heads = {alt.split()[0] for alt in target.groups[0] if alt}
    words = fold(phrase).split()
    return any(a == "cac" and b in heads for a, b in zip(words, words[1:]))


def operative_clauses(document: Document) -> list[Clause]:
    """The clauses an article can report: all but the header, preamble and closing formula."""
    return [c for c in document.clauses if c.path not in ("header", "preamble", "closing")]


def select_clauses(document: Document, target: Target | None) -> tuple[list[Clause], bool]:
    """(clauses in document order, whether the target was found addressed)."""
    clauses = operative_clauses(document)
    if target is None:
        return clauses, False
    by_path = {c.path: c for c in document.clauses}
    own = {c.path: leading_addressee(c) for c in clauses}

    def status(clause: Clause) -> str:
        node: Clause | None = clause
        while node is not None:
            phrase = own.get(node.path) if node.path in own else leading_addressee(node)
            if phrase:
                if addressed_to(target, phrase):
                    return "match"
                return "general" if covers_kind(target, phrase) else "other"
            if phrase == "":
                return "general"
            node = by_path.get(node.parent) if node.parent else None
        return "general"

    states = {c.path: status(c) for c in clauses}
    if "match" not in states.values():
        return clauses, False
    keep = {p for p, s in states.items() if s in ("match", "general")}
    # A clause kept for its own addressee keeps the headings above it.
    for clause in clauses:
        if states[clause.path] == "match":
            parent = clause.parent
            while parent:
                keep.add(parent)
                parent = by_path[parent].parent if parent in by_path else None
    return [c for c in clauses if c.path in keep], True
