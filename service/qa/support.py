"""Does the corpus answer the question at all? The refuse-or-answer decision.

The thresholds are data, written by `eval/calibrate_refusal.py --write` into
`service/qa/data/refusal_thresholds.json`; this module only reads them.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ingest.vocab import MONTHS_EN
from service.qa.render import lexicon, lexicon_matches
from service.qa.retrieve import Ranked
from service.qa.understand import STRUCTURAL_INTENTS, Query

THRESHOLDS_FILE = Path(__file__).parent / "data" / "refusal_thresholds.json"


@dataclass(frozen=True)
class Threshold:
    min_coverage: float
    min_dense: float
    # Supported by similarity alone, a question whose single rankings mostly disagree on its
    # document needs at least this coverage (0: agreement is not asked).
    min_coverage_disagreeing: float = 0.0


AGREEING_RANKINGS = 2      # of the single rankings (dense, sparse, English), how many must agree


@lru_cache(maxsize=4)
def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, Threshold]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {lang: Threshold(**values) for lang, values in data["thresholds"].items()}


def support_features(ranked: Ranked) -> tuple[float, float]:
    """(best IDF-weighted coverage in the top 3, best dense similarity)."""
    coverage = max((s.get("overlap", 0.0) for _, _, s in ranked[:3]), default=0.0)
    dense = max((s.get("dense", 0.0) for _, _, s in ranked[:3]), default=0.0)
    return coverage, dense


def threshold_key(query: Query) -> str | None:
    """Which thresholds decide this question: "vi"/"en" (nothing named: does the corpus answer
    it?), "vi+doc"/"en+doc" (a named document: does it say anything on this?), or None when
    the question's structure decides (a clause path, a header fact, a follow-up on a clause)."""
    if query.numbers and not query.inherited:
        if query.paths or query.intent in STRUCTURAL_INTENTS:
            return None
        return f"{query.language}+doc"
    if query.inherited and (query.paths or query.actors or query.intent in STRUCTURAL_INTENTS):
        return None      # "còn khoản 3 thì sao?": the structure itself is the evidence
    return query.language


def is_supported(query: Query, ranked: Ranked, thresholds: dict[str, Threshold] | None = None,
                 agreement: Callable[[], int] | None = None) -> bool:
    """The refuse-or-answer rule for a question's thresholds group. `agreement`, when given, is
    asked (lazily: it costs two store queries) how many single rankings put the fused top
    document among their best, for a question that similarity alone would let through."""
    if not ranked:
        return False
    key = threshold_key(query)
    thresholds = thresholds or load_thresholds()
    if key is None or key not in thresholds:
        return True
    coverage, dense = support_features(ranked)
    threshold = thresholds[key]
    if not (coverage >= threshold.min_coverage or dense >= threshold.min_dense):
        return False
    if agreement is not None and coverage < threshold.min_coverage_disagreeing:
        return agreement() >= AGREEING_RANKINGS
    return True


# ------------------------------------------------------------ answer types
# A question that asks for a kind of fact (an amount, a date, a number of days, how often) is
# answered only by a clause that states one: a classic answer-type check, which catches the
# question a document is about but does not answer ("how much is the fine?" of a text with none).
_MONEY = r"\d[\d.,]*(?:\s*\([^)\d]{1,40}\))?\s*(?:đồng|đ(?![\w])|triệu|tỷ|nghìn|ngàn|vnđ|vnd|dong)\b|\d[\d.,]*\s*%|lần mức lương|mức lương cơ sở"
# Dates, weekdays, months, quarters; periodic words ("hằng tháng") say how often, not when.
_DATE = (r"\b\d{1,2}\s*/\s*\d{1,2}(?:\s*/\s*\d{2,4})?\b|ngày\s+(?:mùng\s+)?\d{1,2}\b|tháng\s+(?:\d{1,2}|[IVX]+)\b|"
         r"quý\s+(?:[IV]+|\d)\b|\b\d{1,2}\s*(?:giờ|h)\s*\d{0,2}\b|thứ\s+(?:hai|ba|tư|năm|sáu|bảy)|chủ nhật|"
         rf"\b(?:{'|'.join(MONTHS_EN)})\b")
_DATE_RE = re.compile(_DATE, re.IGNORECASE)
_SPELLED = r"(?:\s*\([^)\d]{1,25}\))?"     # "15 (mười lăm) ngày": the number in words after it
_DAYS = rf"\b\d{{1,3}}{_SPELLED}\s*ngày\b|\b(?:một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười)\s+ngày\b|\b\d{{1,3}}\s+(?:working\s+)?days?\b"
_FREQUENCY = (r"\b\d{1,2}\s*năm\s*(?:một|1)\s*lần|\b(?:một|hai|ba|năm)\s+năm\s+(?:một|1)\s+lần|"
              r"(?:một|1|hai|2)\s*lần\s*/\s*năm|hằng năm|hàng năm|mỗi năm|every\s+\d+\s+years|annually")
_DEADLINE = (rf"(?:trước|chậm nhất|hạn chót|hạn cuối|không muộn hơn|không quá|đến hết|hoàn thành trong|"
             rf"xong trong|trong|before|by|no later than|not later than|within|until|deadline)"
             rf"\s+(?:[\w,]+\s+){{0,5}}?(?:{_DATE}|\d{{1,3}}{_SPELLED}\s*(?:ngày|tháng|năm|giờ|days?|months?|"
             rf"years?|hours?|working days?)\b|(?:tháng|quý|năm)\s+(?:này|nay|sau|tới|\d))")
# A bare "how many / what size" asks for a quantity: any figure that is not a date, a document
# number or a clause number answers it.
_NOT_A_QUANTITY = re.compile(r"\d+[\w.-]*/[\w./-]+|\b(?:điều|khoản|điểm|mục|chương|phụ lục|article|clause|"
                             r"point|số|no\.)\s*\d+[\w.]*|\b\d+(?:\.\d+)*(?:\.|\))\s|\b(?:19|20)\d\d\b",
                             re.IGNORECASE | re.MULTILINE)
ANSWER_TYPES = {
    "money": (re.compile(r"bao nhiêu (?:tiền|đồng|triệu|tỷ)|(?:số tiền|mức (?:phạt|tiền|hỗ trợ|trợ cấp|chi|thu|phí|"
                         r"lương|thưởng)|kinh phí|tổng mức vốn)[^?]{0,60}bao nhiêu|phạt(?: tiền)? bao nhiêu|how much (?:money|does|do|is|are|"
                         r"must|will|would|support|funding|is paid)|what (?:cash |monthly |funeral |new )?"
                         r"(?:allowance|bonus|fine|fee|amount|allowance rates?)\b", re.IGNORECASE),
              re.compile(_MONEY, re.IGNORECASE)),
    # "By when?" asks for a time limit: a date the text only mentions (when it was received, when
    # a meeting took place) does not answer it.
    "deadline": (re.compile(r"trước ngày nào|trước mấy giờ|hạn (?:chót|cuối)|chậm nhất (?:là )?(?:ngày|khi|lúc) nào|"
                            r"by what (?:date|day|time)|before what date|by when|no later than when|"
                            r"(?:what is |what's )?the (?:last|latest|final) (?:day|date)|ngày cuối cùng|"
                            r"(?:what|which) (?:is the )?deadline", re.IGNORECASE),
                 re.compile(_DEADLINE, re.IGNORECASE)),
    "date": (re.compile(r"(?:vào|đến|từ)? ngày nào|(?:lúc )?mấy giờ|on what dates?|which day of|at what time",
                        re.IGNORECASE),
             _DATE_RE),
    "days": (re.compile(r"(?:bao nhiêu|mấy) ngày|how many (?:working )?days", re.IGNORECASE),
             re.compile(_DAYS, re.IGNORECASE)),
    "frequency": (re.compile(r"(?:bao nhiêu|mấy) năm (?:một|1) lần|how often|how many years", re.IGNORECASE),
                  re.compile(_FREQUENCY, re.IGNORECASE)),
    "rate": (re.compile(r"tỷ lệ[^?]{0,160}(?:bao nhiêu|mấy)|bao nhiêu (?:phần trăm|%)|what (?:percentage|proportion|"
                        r"share)|(?:what|which) (?:is|are) the [\w\s-]{0,40}(?:rates?|percentages?)\b", re.IGNORECASE),
             re.compile(r"\d[\d.,]*\s*%|phần trăm|\bpercent", re.IGNORECASE)),
    "quantity": (re.compile(r"\bbao nhiêu\b|\bmấy\b|kích thước|how (?:many|much|large|big|long|wide|tall)|"
                            r"\bdimensions?\b|what (?:is |are )?(?:the )?(?:size|number|amount)", re.IGNORECASE),
                 re.compile(r"\d")),
}
# Asked only when no more specific type is: "bao nhiêu tiền" wants an amount, not any figure,
# and "trước ngày nào?" a time limit, not any date.
_GENERIC = ("quantity",)
_NARROWS = {"deadline": "date"}
# A document reference's own date ("Nghị định số 45/2013/NĐ-CP ngày 10/5/2013") states no fact.
_REFERENCE_DATE = re.compile(r"\d+[\w/.-]*/[\w.-]+\s*,?\s*(?:ngày|dated)\s*\d{1,2}(?:\s*/\s*\d{1,2}\s*/\s*\d{4}|"
                             r"\s+tháng\s+\d{1,2}\s+năm\s+\d{4})", re.IGNORECASE)


def answer_types(question: str) -> list[str]:
    """The kinds of fact a question asks for ("bao nhiêu tiền" → money), in ANSWER_TYPES order."""
    asked = [name for name, (pattern, _) in ANSWER_TYPES.items() if pattern.search(question)]
    specific = [name for name in asked if name not in _GENERIC]
    narrowed = {_NARROWS[name] for name in asked if name in _NARROWS}
    return [name for name in specific or asked if name not in narrowed]


# A table of amounts names its unit once, in a heading ("Mức trợ cấp (đồng/tháng)", "ĐVT:
# triệu đồng"), and leaves the cells bare ("| 540.000 |").
_MONEY_UNIT = re.compile(r"\(\s*(?:nghìn |triệu |tỷ )?đồng\b|đơn vị(?: tính)?\s*:\s*(?:nghìn |triệu |tỷ )?đồng|"
                         r"đvt\s*:\s*(?:nghìn |triệu |tỷ )?đồng", re.IGNORECASE)
_AMOUNT_CELL = re.compile(r"\|\s*\d{1,3}(?:[.,]\d{3})+\s*(?=\|)")


def states(text: str, answer_type: str) -> bool:
    """Does the text state a fact of this type (references' own dates aside)?"""
    text = _REFERENCE_DATE.sub(" ", text)
    if answer_type == "quantity":
        text = _NOT_A_QUANTITY.sub(" ", _DATE_RE.sub(" ", text))
    if answer_type == "money" and _MONEY_UNIT.search(text) and _AMOUNT_CELL.search(text):
        return True
    return bool(ANSWER_TYPES[answer_type][1].search(text))


def offers_answer_type(types: list[str], texts: list[str]) -> bool:
    """True when no type is asked, or some text states at least one of the asked types."""
    return not types or any(states(text, t) for t in types for text in texts)


# ------------------------------------------------------------ the fact asked, by name
# A question for an amount names the benefit, fee or fine it wants, and the words after the
# head single it out: "mức trợ cấp **hằng tháng** cho …", "**funeral** allowance" (→ "trợ cấp
# mai táng"). A document that never uses those words does not state that fact, whatever amounts
# it gives for others: the question is refused within it, not answered with another allowance.
_FACT_STOP = (r"cho|của|đối với|là|bao nhiêu|khi|theo|mỗi|được|tối đa|tối thiểu|cụ thể|với|tại|ở|từ|"
              r"đến|trong|và|hoặc|nào|thế nào|ra sao|gì|mấy|như|do")
_FACT_WORD = rf"(?!(?:{_FACT_STOP})\b)\w+"
_NAMED_FACT = re.compile(rf"(?<!\w)(?:mức\s+)?(?:trợ cấp|phụ cấp|hỗ trợ|lệ phí|phí|tiền phạt|phạt tiền|mức chi)\s+"
                         rf"((?:{_FACT_WORD}\s+){{0,3}}?{_FACT_WORD})(?=\s+(?:{_FACT_STOP})\b|\s*[,?.;]|$)",
                         re.IGNORECASE)


@dataclass(frozen=True)
class NamedFact:
    asked: str        # as the question words it: "mức trợ cấp hằng tháng", "funeral allowance"
    qualifier: str    # the Vietnamese words that single it out: "hằng tháng", "mai táng"


def named_facts(question: str, language: str) -> list[NamedFact]:
    """The benefits, fees and fines a question for an amount names by their own words. An
    English question names one through a lexicon compound ("funeral allowance"); a head word
    alone ("what allowance …") names none, so nothing is checked."""
    if language == "en":
        return [NamedFact(match.group(0), found.group(1))
                for match in lexicon_matches(question) if " " in match.group(1)
                for vietnamese in lexicon()[match.group(1).lower()]
                for found in _NAMED_FACT.finditer(vietnamese)]
    return [NamedFact(found.group(0), found.group(1)) for found in _NAMED_FACT.finditer(question)]


def _folded(text: str) -> str:
    # "hằng tháng" and "hàng tháng" are one word in two spellings, both official.
    return text.casefold().replace("hằng", "hàng")


def unnamed_fact(question: str, language: str, document_texts: Iterable[str]) -> NamedFact | None:
    """The first benefit, fee or fine an amount question names that the document never
    mentions by its singling-out words, or None (also when the question asks no amount).
    `document_texts` is read only when there is a named fact to look for."""
    facts = named_facts(question, language) if answer_types(question) else []
    if not facts:
        return None
    text = _folded(" ".join(document_texts))
    return next((fact for fact in facts if _folded(fact.qualifier) not in text), None)


# ------------------------------------------------------------ an item of a numbered series
# "Nhóm đối tượng số 1", "vùng II", "hạng B", "loại 2": a question naming one item of a series
# is answered by the item that names it, not by a sibling naming another ("Nhóm đối tượng số 5
# …: 2.000.000 đồng/đơn vị"), which ranks the same since the items differ only in numbers.
_SERIES_HEAD = r"nhóm đối tượng|nhóm|vùng|loại|hạng|bậc|khu vực"
_SERIES_VALUE = r"\d{1,2}|[IVX]{1,4}|[A-E]\d?"
_DESIGNATION = re.compile(rf"(?<!\w)({_SERIES_HEAD})\s+(?:số\s+)?((?:{_SERIES_VALUE})(?:\s*(?:,|và|and)\s*(?:{_SERIES_VALUE}))*)"
                          rf"(?![\w/.-])", re.IGNORECASE)


def designations_in(text: str) -> set[tuple[str, str]]:
    """The items of numbered series a text names: {("nhóm đối tượng", "1")}."""
    found = set()
    for match in _DESIGNATION.finditer(text):
        head = " ".join(match.group(1).lower().split())
        for value in re.split(r"\s*(?:,|và|and)\s*", match.group(2)):
            found.add((head, value.upper().lstrip("0") or "0"))
    return found


def names_designation(text: str, designations: set[tuple[str, str]]) -> bool:
    return bool(designations_in(text) & designations)


def names_other_designation(text: str, designations: set[tuple[str, str]]) -> bool:
    """The text names another item of a series the question names an item of, and not that one."""
    named = designations_in(text)
    heads = {head for head, _ in designations}
    return not (named & designations) and any(head in heads for head, _ in named)
