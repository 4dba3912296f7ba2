"""Question → `Query`: language, the documents it names, actors, clause paths, intent, follow-up.

Pure functions of the question, the conversation so far and the set of stored documents; no
retrieval happens here.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, Field

from ingest import vocab
from ingest.model import Document
from ingest.parse import actor_table
from ingest.vocab import (
    MONTHS_EN,
    NUMBER_RE,
    detect_language,
    normalise_number,
    restore_diacritics,
)
from service.qa.issuers import fold, issuer_scores, syllables
from service.qa.render import lexicon, lexicon_matches
from service.schemas import Turn

Intent = str   # one of INTENTS' names or "topic"


class Query(BaseModel):
    """What the engine understood of one question; every later stage reads it."""

    language: str
    numbers: list[str] = Field(default_factory=list)      # document numbers named and stored
    candidates: list[str] = Field(default_factory=list)   # a bare number several documents share
    missing: list[str] = Field(default_factory=list)      # named but not stored
    actors: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)        # "khoản 3" / "clause 3" → "3"
    intent: Intent = "topic"
    expanded: str = ""                                     # question + glossary/actor terms
    referenced: list[str] = Field(default_factory=list)   # named, absent, but cited by a named one
    # "Which dispatch implements Decision 28/2021/QĐ-TTg?": the numbers named are what the
    # document asked for cites, not the document in view (stored or not).
    cited: list[str] = Field(default_factory=list)
    described: bool = False        # the numbers come from the issuer and date the question gives
    inherited: bool = False        # the documents come from an earlier turn, not this question
    context_actors: list[str] = Field(default_factory=list)   # actors of that earlier turn


def question_language(text: str) -> str:
    return detect_language(text)


def understand(question: str, lang: str | None, history: list[Turn],
               documents: Mapping[str, Document]) -> Query:
    question = unicodedata.normalize("NFC", question)
    query = Query(language=lang or question_language(question))
    resolve_numbers(question, query, documents)
    query.actors = actors_in(question)
    query.paths = paths_in(question)
    if history and not query.numbers and not query.missing:
        for turn in reversed(history):
            if turn.role != "user":
                continue
            previous = Query(language=query.language)
            resolve_numbers(turn.content, previous, documents)
            if previous.numbers:
                query.numbers = previous.numbers
                query.inherited = True
                earlier_paths = paths_in(turn.content)
                # "Điểm đ thì sao?" after "điểm c khoản 2": the point belongs to the same clause.
                query.paths = [complete_path(p, earlier_paths) for p in query.paths]
                if not query.actors and not query.paths:
                    query.context_actors = actors_in(turn.content)
                break
    query.paths = [p for p in query.paths if not p.startswith("?")]
    _drop_issuers(query, documents)
    query.intent = intent_of(question, bool(query.numbers))
    if (query.numbers or query.missing) and not query.inherited and asks_which_document_citing(question):
        query.cited = list(dict.fromkeys(query.numbers + query.missing))
        query.numbers, query.missing, query.intent = [], [], "documents"
    query.referenced = [m for m in query.missing
                        if any(r.number == m for n in query.numbers for r in documents[n].references)]
    query.missing = [m for m in query.missing if m not in query.referenced]
    query.expanded = expand(question, query)
    if not (query.numbers or query.missing or query.candidates or query.cited or query.inherited) \
            and query.intent != "documents":
        query.numbers = described_documents(question, query.expanded, documents)
        if query.numbers:
            query.described = True
            query.intent = intent_of(question, True)
            _drop_issuers(query, documents)
    return query


def _drop_issuers(query: Query, documents: Mapping[str, Document]) -> None:
    """The issuer a question names with its document ("Government Office dispatch 8424", "the
    Government Office's late-2025 dispatch") is not who the question is about."""
    issuers = {fold(documents[n].issuer or "") for n in query.numbers if n in documents}
    query.actors = [a for a in query.actors if fold(a) not in issuers]


MAX_DESCRIBED = 2      # more documents than this fit the description: it names none
_DATE_SYLLABLES = frozenset({"ngay", "thang", "nam"})
SUBJECT_MARGIN = 2.0   # ... unless one subject fits the question this many times better
_OWNED = re.compile(r"\w['’]s\b|\bcủa\b|\bissued by\b|\bban hành\b", re.IGNORECASE)


def described_documents(question: str, expanded: str, documents: Mapping[str, Document]) -> list[str]:
    """"Tuyen Quang's 2010 social assistance decision", "the Ministry of Finance's December 2014
    guidance": a question that names no number but the issuer and the year (and month) of issue
    names the one or two documents that fit."""
    if not _OWNED.search(question):
        return []       # "the 2021 social insurance regulation" names a subject, not an issuer
    text = NUMBER_RE.sub(" ", question)
    years = {int(y) for y in re.findall(r"(?<![\d/.])((?:19|20)\d\d)(?![\d/])", text)}
    # "December 2014", "2 December": a month next to a year or a day ("may" alone is a verb).
    months = {i for i, name in enumerate(MONTHS_EN, 1) if re.search(
        rf"\b{name}\s+(?:\d{{1,2}},?\s+)?(?:19|20)\d\d|\b\d{{1,2}}(?:st|nd|rd|th)?\s+{name}\b", text, re.IGNORECASE)}
    for month, year in re.findall(r"tháng\s+(\d{1,2})\s*(?:/\s*|năm\s+)?((?:19|20)\d\d)?", text, re.IGNORECASE):
        months.add(int(month))
        if year:
            years.add(int(year))
    if not years:
        return []
    dated = [n for n, d in documents.items() if d.issued and d.issued.year in years
             and (not months or d.issued.month in months)]
    # Weighed against every issuer: "provincial People's Committee" names no one issuer even
    # when only two of that year's documents come from one.
    fitting = set(issuer_scores(expanded or question, documents, list(documents))) & set(dated)
    # "the Prime Minister's November 2025 telegram": of that issuer's documents of the month,
    # the telegrams (when the issuer has any then; "guidance" may be a Công văn).
    kinds = described_kinds(question)
    fitting = {n for n in fitting if documents[n].kind in kinds} or fitting
    if len(fitting) > MAX_DESCRIBED:
        # An English question's own words are no Vietnamese syllables: its renderings are.
        renderings = expanded[len(question):] if question_language(question) == "en" \
            and expanded.startswith(question) else expanded or question
        fitting = _by_subject(renderings, fitting, documents)
    return sorted(fitting) if 1 <= len(fitting) <= MAX_DESCRIBED else []


def _subject_text(document: Document) -> str:
    """The subject line, or where the header has none (a site's page), the opening of the text."""
    return document.subject or " ".join(c.text for c in document.clauses[:3])[:600]


def _by_subject(expanded: str, fitting: set[str], documents: Mapping[str, Document]) -> set[str]:
    """Of more documents than a description can name, the one whose subject shares clearly the
    most syllables with the question ("… late-2025 anti-smuggling dispatch" → "chống buôn lậu"),
    weighed by how few of them share each; none when no subject stands out."""
    # The date that described them says nothing of the subject.
    asked = {w for w in syllables(expanded) if not w.isdigit() and w not in _DATE_SYLLABLES}
    words = {n: syllables(_subject_text(documents[n])) for n in fitting}
    df = Counter(w for ws in words.values() for w in ws)
    # Syllables every candidate has tell none apart.
    score = {n: sum(math.log(1 + len(fitting) / df[w]) for w in ws & asked if df[w] < len(fitting))
             for n, ws in words.items()}
    ranked = sorted(score, key=lambda n: -score[n])
    best, second = score[ranked[0]], score[ranked[1]]
    return {ranked[0]} if best >= SUBJECT_MARGIN * second and best > 0 else set()


def described_kinds(question: str) -> set[str]:
    """The kind a possessive description names: "X's 2010 social assistance decision" (the first
    kind word after 's), "Quyết định năm 2010 của UBND tỉnh X" (a kind word before của)."""
    names = _english_kind_names()
    english = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    kinds: set[str] = set()
    for m in re.finditer(rf"\w['’]s\s+(?:[\w-]+\s+){{0,5}}?({english})(?:s|es)?\b", question, re.IGNORECASE):
        kinds |= names[m.group(1).lower()]
    vietnamese = "|".join(re.escape(k.vi) for k in sorted(vocab.kinds(), key=lambda k: -len(k.vi)))
    for m in re.finditer(rf"\b({vietnamese})\s+(?:[\w/.-]+\s+){{0,8}}?của\b", question, re.IGNORECASE):
        kinds |= {k.vi for k in vocab.kinds() if k.vi.lower() == m.group(1).lower()}
    return kinds


def _kind_words(language: str, plural: bool = False) -> str:
    """An alternation of every document kind's name in one language (from ingest.vocab)."""
    names = set()
    for kind in vocab.kinds():
        if language == "vi":
            names.add(kind.vi.lower())
        else:
            names.update(n.lower() for n in (kind.en, *kind.en_aliases))
    if language == "en":
        names.add("document")
    ordered = sorted(names, key=len, reverse=True)
    suffix = r"(?:s|es)?" if plural else ""
    return "(?:" + "|".join(re.escape(n) + suffix for n in ordered) + ")"


_KIND_WORDS_VI = _kind_words("vi") + "|văn bản"
_KIND_WORDS_EN = _kind_words("en", plural=True)
# "Công văn số 06", "No. 06"; not "Đoàn kiểm tra số 06", which numbers something else.
# "Văn bản nào của Ủy ban Thường vụ Quốc hội yêu cầu …": the issuer is what follows "của".
_ISSUER_SLOT = re.compile(rf"(?:{_KIND_WORDS_VI})\s+nào\s+(?:của|do)\s+(.+)", re.IGNORECASE)


def issuer_named(question: str) -> str | None:
    """The words a Vietnamese which-document question gives as the issuer, and what follows."""
    found = _ISSUER_SLOT.search(question)
    return found.group(1) if found else None


_KIND_BEFORE_NUMBER = re.compile(rf"(?:(?:{_KIND_WORDS_VI}|{_KIND_WORDS_EN})\s*(?:số)?|\bno\.?)\s*$", re.IGNORECASE)


# "49/2012" or "QĐ 49/2012": a serial and a year, the opening of "49/2012/QĐ-UBND".
_SERIAL_YEAR_RE = re.compile(r"(?<![\w/])(\d{1,5})\s*/\s*((?:19|20)\d\d)(?![\w/])")
# A bare serial ("3476"); not one that opens another numbering ("52-CT/TW", "1.2"). A comma or
# full stop after it ends the sentence, not the number: "dispatch 1734, by when …".
_BARE_SERIAL_RE = re.compile(r"(?<![\w/.,-])(\d{2,5})(?![\w/-]|[.,]\d)")


def _is_year(digits: str) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d", digits))


def resolve_numbers(question: str, query: Query, documents: Mapping[str, Document]) -> None:
    for m in NUMBER_RE.finditer(question):
        number = restore_diacritics(normalise_number(m.group(0)))
        if number in documents:
            query.numbers.append(number)
        else:
            query.missing.append(number)
    stripped = NUMBER_RE.sub(" ", question)
    for m in _SERIAL_YEAR_RE.finditer(stripped):
        prefix = f"{m.group(1)}/{m.group(2)}/"
        matches = [n for n in documents if n.startswith(prefix)]
        if len(matches) == 1:
            query.numbers.append(matches[0])
        elif len(matches) > 1:
            query.candidates.extend(matches)
        stripped = stripped[:m.start()] + " " * (m.end() - m.start()) + stripped[m.end():]
    stripped = re.sub(r"\d{1,2}/\d{1,2}(/\d{2,4})?", " ", stripped)
    for m in _BARE_SERIAL_RE.finditer(stripped):
        bare = m.group(1)
        if re.search(r"(năm|year|ngày|tháng)\s*$", stripped[: m.start()], re.IGNORECASE) or _is_year(bare):
            continue
        matches = [n for n in documents if n.split("/")[0] == bare]
        if len(matches) == 1:
            query.numbers.append(matches[0])
        elif len(matches) > 1:
            query.candidates.extend(matches)
        elif _KIND_BEFORE_NUMBER.search(stripped[: m.start()]):
            query.missing.append(bare)
    query.numbers = list(dict.fromkeys(query.numbers))


def expand(question: str, query: Query) -> str:
    """The question plus the Vietnamese renderings of the English terms it uses and the
    actors it names: what lexical retrieval matches against Vietnamese clauses."""
    extra = []
    terms = lexicon()
    for match in lexicon_matches(question):
        for vietnamese in terms[match.group(1).lower()]:
            if vietnamese not in extra:
                extra.append(vietnamese)
    extra.extend(query.actors)
    return question + (" " + " ".join(extra) if extra else "")


# "… cơ quan nào hướng dẫn …, và kinh phí do đâu bảo đảm?": a conjunction whose clause asks
# its own question (a question word within its first words) starts a second part.
_PART_BREAK = re.compile(r",?\s+(?:và|and|, còn)\s+(?=(?:\S+\s+){0,6}?(?:nào|gì|đâu|bao nhiêu|bao lâu|"
                         r"khi nào|ai|mấy|what|which|when|who|whom|where|how)\b)", re.IGNORECASE)
_QUESTION_WORD = re.compile(r"\b(?:nào|gì|đâu|bao nhiêu|bao lâu|ai|mấy|what|which|when|who|whom|where|how)\b",
                            re.IGNORECASE)


def is_question_word(token: str) -> bool:
    return bool(_QUESTION_WORD.fullmatch(token.replace("_", " ")))


def question_parts(question: str) -> list[str]:
    """The parts of a question that asks two things, each with its own question word."""
    parts = [p.strip() for p in _PART_BREAK.split(question) if p.strip()]
    return parts if len(parts) > 1 and all(_QUESTION_WORD.search(p) for p in parts) else [question]


def actors_in(question: str) -> list[str]:
    spans = {actor.vi: [m.span() for p in actor.patterns for m in p.finditer(question)] for actor in actor_table()}
    spans = {a: s for a, s in spans.items() if s}

    def inside(span, other: str) -> bool:
        return any(o[0] <= span[0] and span[1] <= o[1] and o != span for o in spans[other])
    # "Giám đốc BHXH tỉnh" also matches the shorter "BHXH tỉnh", "Văn phòng Chính phủ" the alias
    # "Văn phòng": keep the specific one.
    found = [a for a, s in spans.items() if not all(any(inside(sp, b) for b in spans if b != a) for sp in s)]
    return [a for a in found if not any(a != b and a in b for b in found)]


_CLAUSE_REF = re.compile(r"(?:khoản|clause|item)\s+(\d{1,2})(?:\s*\(([a-zđ])\)|\s+(?:điểm|point)\s+\(?([a-zđ])\b\)?)?",
                         re.IGNORECASE)
_POINT_FIRST = re.compile(r"(?:điểm|point)\s+\(?([a-zđ])\b\)?(?:\s+(?:của\s+)?(?:khoản|clause)\s+(\d{1,2}))?",
                          re.IGNORECASE)


def paths_in(question: str) -> list[str]:
    """'khoản 2 điểm a', 'clause 2(a)', 'điểm c khoản 2' → '2.a'; a bare 'điểm đ' → '?.đ'."""
    paths = []
    for m in _CLAUSE_REF.finditer(question):
        letter = m.group(2) or m.group(3)
        paths.append(m.group(1) + (f".{letter.lower()}" if letter else ""))
    for m in _POINT_FIRST.finditer(question):
        path = f"{m.group(2) or '?'}.{m.group(1).lower()}"
        if not any(p.endswith("." + m.group(1).lower()) for p in paths):
            paths.append(path)
    for m in _APPENDIX_REF.finditer(question):
        number = m.group(1)
        paths.append(f"appendix{_roman(number) if number.isalpha() else int(number)}")
    return [p for p in paths if not any(q.startswith(p + ".") for q in paths)]


# "Phụ lục 01", "Phụ lục II", "Appendix 2", "annex 1": the document's appendix of that number.
_APPENDIX_REF = re.compile(r"\b(?:phụ lục|appendix|annex)\s+(?:số\s+|no\.\s*)?(\d{1,2}|[IVX]{1,4})\b", re.IGNORECASE)


def _roman(numeral: str) -> int:
    values = {"I": 1, "V": 5, "X": 10}
    digits = [values[ch] for ch in numeral.upper()]
    return sum(-d if i + 1 < len(digits) and d < digits[i + 1] else d for i, d in enumerate(digits))


def complete_path(path: str, earlier: list[str]) -> str:
    if not path.startswith("?"):
        return path
    clause = next((p.split(".")[0] for p in earlier if not p.startswith("?")), None)
    return f"{clause}{path[1:]}" if clause else path


# "gửi cho ai", "gửi tới những đơn vị nào", "trả lời công ty nào": who a document is sent to.
_RECIPIENTS_VI = (r"gửi (cho |tới |đến )?(ai|những ai|((những|các) )?(đơn vị|cơ quan|nơi) nào)|"
                  r"trả lời (ai|(công ty|doanh nghiệp|đơn vị|cơ quan|tổ chức) nào)")
INTENTS = [
    ("signer", r"\b(ai ký|người ký|ký văn bản|do ai ký|signed|signer|signatory)\b"),
    ("issuer", r"(cơ quan nào ban hành|ai ban hành|do (cơ quan|đơn vị) nào ban hành|who issued|"
               r"which (agency|body|authority|ministry|office) issued|issued by whom|issuing (agency|body))"),
    ("deadline", r"(hạn chót|trước ngày|thời hạn|deadline|by when|due date|no later than|khi nào phải|"
                 r"hạn (báo cáo|gửi|nộp)|by what (date|day|time)|before what date|chậm nhất|"
                 r"phải hoàn thành (trước |vào )?(ngày |khi )?nào|the (last|latest|final) (day|date)|ngày cuối cùng)"),
    ("effective", r"(có hiệu lực|hiệu lực (thi hành|kể từ)|enters? into force|takes? effect|"
                  r"come into (force|effect)|effective (from|date|on|as of))"),
    ("date", r"(ban hành (vào )?ngày nào|ngày ban hành|when was .* (issued|signed|dated)|issue date|"
             r"dated when|ký (vào )?ngày nào|(issued|signed|dated) (on )?what date|"
             r"what date was .* (issued|signed))"),
    ("recipients", rf"({_RECIPIENTS_VI}|kính gửi|addressed to|recipients|sent to|to whom (was|is) .* (addressed|sent)|"
                   r"(reply|replies|respond(s)?) to (which|what) (company|firm|enterprise|organi[sz]ation))"),
    ("subject", r"(trích yếu|về việc gì|subject of|what is .* about\b)"),
    ("opinion", r"(ý kiến (chỉ đạo |kết luận )?của (ai|(phó )?thủ tướng nào|lãnh đạo nào|(phó )?chủ tịch nào|"
                r"bộ trưởng nào)|truyền đạt ý kiến|whose (opinions?|instructions?|directions?|views?|conclusions?)|"
                r"(opinions?|instructions?|directions?) of (which|whom)|on whose (instructions?|directions?|behalf))"),
    ("references", r"(thực hiện (công điện|chỉ thị|nghị quyết|nghị định) nào|implement(s|ing)?\b.*\?$|"
                   r"which (telegram|decree|decision|resolution|directive|plan|earlier|(vss |official )?dispatch)|"
                   r"(công điện|nghị định|quyết định|nghị quyết|chỉ thị|kế hoạch|thông tư|công văn) nào|"
                   r"documents? does .* cite|\bcite[sd]?\b|căn cứ|viện dẫn|dẫn chiếu|refer)"),
    ("who", r"(đơn vị nào|ai (chịu trách nhiệm|theo dõi|chủ trì)|which (unit|department|body|office)|"
            r"who (monitors|is responsible|is assigned|leads|follows)|giao cho ai)"),
    ("documents", rf"((?:{_KIND_WORDS_VI}) nào|những văn bản|which (\w+[ -]){{0,7}}?{_KIND_WORDS_EN}\b|"
                  rf"what (\w+ ){{0,2}}{_KIND_WORDS_EN}\b|in which {_KIND_WORDS_EN}\b)"),
    ("obligations", r"(phải làm gì|trách nhiệm|nhiệm vụ|yêu cầu gì|must|should|obligations?|"
                    r"required to|what (do|does) .* do|duties)"),
]
# Intents answered from the document's structure rather than from similarity.
STRUCTURAL_INTENTS = ("deadline", "signer", "date", "recipients", "subject", "references", "issuer",
                      "opinion")
_NEEDS_DOCUMENT = ("references", "signer", "date", "recipients", "subject", "issuer", "opinion")
# Header facts a metadata question may ask for together ("who signed it and when?").
FACETS = [
    ("signer", r"(ai ký|người ký|do ai|signed|signer|signatory)"),
    ("date", r"(ngày nào|ngày ban hành|khi nào|when|what date|dated)"),
    ("issuer", r"(cơ quan nào ban hành|ai ban hành|who issued|which (agency|body|authority|ministry) issued|issuer)"),
    ("recipients", rf"({_RECIPIENTS_VI}|kính gửi|addressed|addressees?|recipients|sent to|to whom|"
                   r"(reply|replies|respond(s)?) to (which|what) (company|firm|enterprise|organi[sz]ation))"),
    ("subject", r"(trích yếu|về việc gì|(thuộc )?lĩnh vực nào|subject|what is .* about\b|which (field|area))"),
    ("implements", r"(thực hiện (nghị quyết|chỉ thị|công điện|quyết định|kết luận|kế hoạch) nào|"
                   r"(which|what) (letter|dispatch|request|document) does it (reply|respond) to|"
                   r"trả lời (công văn|văn bản|đề nghị) nào|"
                   r"(nghị quyết|chỉ thị|kết luận) nào|implement(s|ing)? which|pursuant to which|"
                   r"which (resolution|directive|conclusion|decree|law) does it implement|"
                   r"which [\w\s-]{0,40}(decision|directive|decree|resolution|circular|plan) does [^?]* "
                   r"(follow|implement|rely on|rest on)|based on which|(dựa|căn cứ) (trên|vào) (văn bản|quyết định|"
                   r"nghị định|thông tư) nào)"),
    ("effective", r"(có hiệu lực|hiệu lực (thi hành|kể từ)|takes? effect|enters? into force|"
                  r"comes? into (force|effect)|effective (from|date|on|as of))"),
    ("opinion", r"(ý kiến (chỉ đạo |kết luận )?của (ai|(phó )?thủ tướng nào|lãnh đạo nào|(phó )?chủ tịch nào|"
                r"bộ trưởng nào)|truyền đạt ý kiến|whose (opinions?|instructions?|directions?|views?|conclusions?)|"
                r"(opinions?|instructions?|directions?) of (which|whom)|on whose (instructions?|directions?|behalf))"),
]


# "Giấy ủy quyền có hiệu lực tối đa bao lâu?" asks how long something stays valid, not when the
# document takes effect.
_ASKS_DURATION = re.compile(r"bao lâu|how long|tối đa (?:là )?(?:mấy|bao nhiêu)|for how many", re.IGNORECASE)


# "Which earlier dispatches does it say were sent to the Ministry?" asks for documents, not
# for the addressees of the one named.
_ASKS_DOCUMENTS_SENT = re.compile(r"\bwhich (?:earlier |previous |prior |other )?(?:dispatch|letter|document|"
                                  r"decision|report|request)(?:e?s)?\b", re.IGNORECASE)


def intent_of(question: str, has_document: bool = True) -> Intent:
    for name, pattern in INTENTS:
        # Without a document in view, "which dispatch/telegram ..." asks for documents, not references.
        if name in _NEEDS_DOCUMENT and not has_document:
            continue
        if name == "effective" and _ASKS_DURATION.search(question):
            continue
        if name == "recipients" and _ASKS_DOCUMENTS_SENT.search(question):
            continue
        if re.search(pattern, question, re.IGNORECASE):
            return name
    return "topic"


# The verb before a number that the document asked for cites: "… thực hiện Quyết định 28/2021/…",
# "… replaced Decision 1111/QĐ-BHXH"; not "Which decision does plan 252/KH-… implement?".
_CITED_AFTER = re.compile(
    rf"(?:thực hiện|hướng dẫn(?: thực hiện| thi hành)?|triển khai(?: thực hiện| thi hành)?|thi hành|"
    rf"thay thế|sửa đổi(?:, bổ sung)?|bãi bỏ|implement(?:s|ed|ing)?|replac(?:e|es|ed|ing)|"
    rf"amend(?:s|ed|ing)?|repeal(?:s|ed|ing)?|guid(?:e|es|ed|ing)(?: the implementation of)?)"
    rf"\s+(?:the\s+)?(?:(?:{_KIND_WORDS_VI}|{_KIND_WORDS_EN})\s+)?(?:số\s*|no\.\s*)?$", re.IGNORECASE)


def asks_which_document_citing(question: str) -> bool:
    """"Công văn nào … thực hiện Quyết định 28/2021/QĐ-TTg?": a which-document question whose
    named numbers all come after it, each as what is implemented, guided, replaced or amended."""
    which = re.search(dict(INTENTS)["documents"], question, re.IGNORECASE)
    if not which:
        return False
    named = [m.start() for m in NUMBER_RE.finditer(question)]
    named += [m.start() for m in _SERIAL_YEAR_RE.finditer(question)]
    stripped = NUMBER_RE.sub(lambda m: " " * len(m.group(0)), question)
    named += [m.start() for m in _BARE_SERIAL_RE.finditer(stripped)
              if not _is_year(m.group(1))]     # a bare serial ("according to 1257")
    return bool(named) and all(start > which.start() and _CITED_AFTER.search(question[max(0, start - 80):start])
                               for start in named)


def kinds_asked(question: str) -> set[str]:
    """Document kinds a question asks for ("which decree", "công điện nào"); a kind word that
    names the document in view ("Công văn 3476 …") is not a kind asked for. Vietnamese kind names
    are also verbs and nouns ("quy định", "hướng dẫn", "kế hoạch"): a kind is asked for as
    "<kind> nào"; in English, as the first kind word after "which"/"what"."""
    asked = {kind.vi for kind in vocab.kinds()
             if re.search(rf"\b{re.escape(kind.vi)}\s+nào\b", question, re.IGNORECASE)}
    names = _english_kind_names()
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    for m in re.finditer(rf"\b(?:which|what)\s+(?:[\w'’-]+\s+){{0,5}}?({alternation})(?:s|es)?\b"
                         rf"(?!\s*(?:no\.?\s*)?\d)", question, re.IGNORECASE):
        asked |= names[m.group(1).lower()]
    return asked


@lru_cache(maxsize=1)
def _english_kind_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for kind in vocab.kinds():
        for name in (kind.en, *kind.en_aliases):
            names.setdefault(name.lower(), set()).add(kind.vi)
    return names


def asks_date(question: str) -> bool:
    return bool(re.search(r"(when|date|ngày nào|khi nào)", question, re.IGNORECASE))


def asks_signer(question: str) -> bool:
    return bool(re.search(r"(by whom|who signed|signed by|ai ký|người ký)", question, re.IGNORECASE))


def asks_all_references(question: str) -> bool:
    return bool(re.search(r"(những văn bản|các văn bản|all (the )?documents|what documents|cites?\b|"
                          r"viện dẫn những|references)", question, re.IGNORECASE))


def asks_all_duties(query: Query) -> bool:
    return query.intent in ("obligations",) or bool(query.actors) and query.intent == "topic"
