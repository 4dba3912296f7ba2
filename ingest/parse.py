"""Parse a repaired directive into metadata, a clause tree, actors, deadlines and references.

Deterministic and explainable: every paragraph is either placed in the header, the body
(clauses) or the footer (cc list, signer); what can't be placed becomes a warning.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.model import (
    Clause, Deadline, Document, IdentityEvidence, Reference, Signer, Source,
)
from ingest.repair import RepairResult

DATA = Path(__file__).parent / "data"

_UPPER = "A-ZĐÀ-ỸÂĂÊÔƠƯ"
NUMBER_RE = re.compile(
    r"(?<![\w/])(\d{1,5})\s*/\s*(?:(\d{4})\s*/\s*)?"
    r"([A-ZĐ][A-ZĐa-z]*(?:\s*[-–]\s*[A-ZĐ][A-ZĐa-z0-9]*)+|[A-ZĐ][A-ZĐa-z]*[A-ZĐ][A-ZĐa-z]*)(?![\w])"
)
_DMY_RE = r"(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})"
_LONG_DATE_RE = r"(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})"
PLACE_DATE_RE = re.compile(
    rf"([{_UPPER}][\w\s.]{{1,30}}?),\s*ngày\s*(\d{{1,2}})\s*tháng\s*(\d{{1,2}})\s*năm\s*(\d{{4}})")
_MARKERS = [
    ("roman", re.compile(r"^([IVXLC]{1,5})\.\s+")),
    ("article", re.compile(r"^Điều\s+(\d+)\.\s+")),
    ("subnumber", re.compile(r"^(\d{1,2}(?:\.\d{1,2})+)\.?\s+")),
    ("number", re.compile(r"^(\d{1,2})\.\s+")),
    ("letter", re.compile(r"^([a-zđ])\)\s+")),
    ("dash", re.compile(r"^([-–•])\s+")),
    ("plus", re.compile(r"^(\+)\s+")),
]
_LEVEL = {"roman": 0, "article": 1, "number": 2, "subnumber": 3, "letter": 4, "dash": 5, "plus": 6}
_CLOSING_CUES = re.compile(
    r"^(Yêu cầu|Đề nghị|Trên đây|Trong quá trình|Nhận được|BHXH Việt Nam yêu cầu|"
    r"Bảo hiểm xã hội Việt Nam yêu cầu|Thủ trưởng các đơn vị)", re.IGNORECASE)
_KIND_TITLES = {"QUYẾT ĐỊNH": "Quyết định", "CÔNG ĐIỆN": "Công điện", "KẾ HOẠCH": "Kế hoạch",
                "THÔNG BÁO": "Thông báo", "HƯỚNG DẪN": "Hướng dẫn", "CHỈ THỊ": "Chỉ thị",
                "CÔNG VĂN": "Công văn"}
DIRECTIVE_KINDS = ["Công văn", "Công điện", "Quyết định", "Kế hoạch", "Thông báo", "Hướng dẫn",
                   "Chỉ thị"]
_ORDINALS_EN = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                "ninth", "tenth"]


@dataclass
class _Para:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Actor:
    vi: str
    en: str
    patterns: tuple[re.Pattern[str], ...]


@lru_cache(maxsize=1)
def kinds_table() -> list[dict]:
    return yaml.safe_load((DATA / "kinds.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def actor_table() -> list[Actor]:
    actors = []
    for row in yaml.safe_load((DATA / "actors.yaml").read_text(encoding="utf-8")):
        names = [row["vi"], row["en"], *row.get("aliases", [])]
        names.sort(key=len, reverse=True)
        patterns = tuple(re.compile(rf"(?<!\w){re.escape(n)}(?!\w)", re.IGNORECASE) for n in names)
        actors.append(Actor(row["vi"], row["en"], patterns))
    return actors


def normalise_number(text: str) -> str:
    """'1869 / BHXH - BT' → '1869/BHXH-BT'."""
    return re.sub(r"\s*([/\-–])\s*", lambda m: "-" if m.group(1) == "–" else m.group(1),
                  text.strip())


def kind_from_number(number: str) -> str | None:
    """The first code after the number (and year) names the kind: 968/CĐ-TTg → Công điện."""
    codes = [c for c in re.split(r"[/\-]", number)[1:] if not c.isdigit()]
    table = {row["code"]: row["vi"] for row in kinds_table()}
    if codes and codes[0] in table:
        return table[codes[0]]
    if len(codes) >= 2:
        return "Công văn"     # agency-unit codes such as BHXH-TCCB are dispatches
    return None


def kind_en(kind_vi: str | None) -> str | None:
    for row in kinds_table():
        if row["vi"] == kind_vi:
            return row["en"]
    return None


@lru_cache(maxsize=1)
def _actor_matcher() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over every actor name: a single pass per clause instead of one per alias."""
    names: dict[str, str] = {}
    for actor in actor_table():
        for pattern in actor.patterns:
            name = pattern.pattern[len("(?<!\\w)"): -len("(?!\\w)")]
            names.setdefault(re.sub(r"\\(.)", r"\1", name).casefold(), actor.vi)
    ordered = sorted(names, key=len, reverse=True)
    regex = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in ordered) + r")(?!\w)", re.IGNORECASE)
    return regex, names


def find_actors(text: str) -> list[str]:
    regex, names = _actor_matcher()
    found: dict[str, int] = {}
    for m in regex.finditer(text):
        actor = names.get(m.group(1).casefold())
        if actor and actor not in found:
            found[actor] = m.start()
    return sorted(found, key=found.get)


def find_deadlines(text: str) -> list[Deadline]:
    deadlines = []
    pattern = re.compile(
        rf"((?:trước|chậm nhất|hạn chót|không muộn hơn|đến hết)\s+(?:ngày\s+)?"
        rf"(?:{_DMY_RE}|{_LONG_DATE_RE}))", re.IGNORECASE)
    for m in pattern.finditer(text):
        groups = [g for g in m.groups()[1:] if g]
        try:
            day, month, year = (int(g) for g in groups[:3])
            deadlines.append(Deadline(text=m.group(1), date=date(year, month, day)))
        except ValueError:
            continue
    return deadlines


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


def _date_after(text: str) -> date | None:
    return _date_of(re.match(rf"\s*,?\s*(?:ban hành\s+)?ngày\s+(?:{_DMY_RE}|{_LONG_DATE_RE})", text))


def _date_opening_sentence(before: str) -> date | None:
    """'Ngày 16/10/2023, Thủ tướng Chính phủ ban hành Công điện số 968/CĐ-TTg': the date opens
    the sentence that issues the cited document."""
    sentence = re.split(r"[.;:]\s", before)[-1]
    return _date_of(re.match(
        rf"\s*Ngày\s+(?:{_DMY_RE}|{_LONG_DATE_RE}),[^,]{{0,80}}ban hành\s+[\w\s]{{0,30}}$", sentence))


def _kind_before(text: str) -> str | None:
    names = [row["vi"] for row in kinds_table()]
    best = None
    for name in names:
        m = re.search(rf"{name}(?:\s+số)?\s*$", text, re.IGNORECASE)
        if m and (best is None or len(name) > len(best)):
            best = name
    return best


# ---------------------------------------------------------------- paragraphs and zones

def _paragraphs(text: str) -> list[_Para]:
    paras = []
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if line.strip():
            lead = len(line) - len(line.lstrip())
            paras.append(_Para(line.strip(), start + lead, start + lead + len(line.strip())))
        start = end + 1
    return paras


def _is_header_para(text: str) -> bool:
    return bool(
        re.match(r"^(Số\s*:|V/v\b|Về việc|CỘNG\s+HO?ÒA|Độc\s+lập|[-_=*]{3,}|Kính\s+gửi)", text)
        or PLACE_DATE_RE.match(text)
        or (text.isupper() and len(text) < 80)
        or "|" in text and (re.search(r"Số\s*:", text) or "CỘNG HÒA" in text.upper())
    )


def parse_document(repair: RepairResult, raw: str, file: str) -> Document:
    text = repair.text
    paras = _paragraphs(text)
    warnings: list[str] = []
    source = Source(file=file, sha256=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
                    raw_text=raw, repaired_text=text, offset_map=repair.offset_map,
                    stats=repair.stats, repairs=repair.repairs)

    # Footer: from "Nơi nhận" (cc list, then signer block).
    footer_at = next((i for i, p in enumerate(paras) if re.match(r"^Nơi\s+nhận", p.text)), None)
    # Body start: after the Kính gửi list, else after the last header-looking paragraph.
    recipients_at = next((i for i, p in enumerate(paras[: footer_at or len(paras)])
                          if re.match(r"^Kính\s+gửi", p.text)), None)
    if recipients_at is not None:
        body_start = recipients_at + 1
        while body_start < len(paras) and re.match(r"^[-–•+]\s", paras[body_start].text):
            body_start += 1
    else:
        body_start = 0
        for i, p in enumerate(paras[: min(len(paras), 15)]):
            if _marker_of(p.text):
                break
            if _is_header_para(p.text):
                body_start = i + 1
        # A titled document (KẾ HOẠCH, QUYẾT ĐỊNH) carries its subject on the line after the title.
        if 0 < body_start < len(paras) and paras[body_start - 1].text.strip() in _KIND_TITLES \
                and not _marker_of(paras[body_start].text):
            body_start += 1
    body_end = footer_at if footer_at is not None else _signer_start(paras)
    header = paras[:body_start]
    body = paras[body_start:body_end]
    footer = paras[body_end:]

    meta = _parse_header(header, recipients_at, warnings)
    cc, signer = _parse_footer(footer, warnings)
    number = meta.get("number")
    identity = IdentityEvidence(method="header", signals=["Số: line in header"])
    provisional = False
    if not number:
        provisional = True
        number = "draft-" + source.sha256[:10]
        identity = IdentityEvidence(method="provisional", confidence=0.0,
                                    signals=["no document number in the text"])
        warnings.append("no document number found: provisional ID " + number)
    if not meta.get("issued"):
        warnings.append("no issue date found in the header")

    clauses = build_clauses(number, body, source, warnings)
    body_text = "\n".join(p.text for p in body)
    kind = meta.get("kind") or (kind_from_number(number) if not provisional else None)
    if not kind and meta.get("subject") is not None:
        kind = "Công văn"      # a V/v subject line is the mark of an official dispatch
    issuer = meta.get("issuer") or _issuer_from_text(number, body_text)
    document = Document(
        number=number, provisional=provisional, kind=kind, issuer=issuer,
        parent_issuer=meta.get("parent_issuer"), place=meta.get("place"),
        issued=meta.get("issued"), subject=meta.get("subject"),
        recipients=meta.get("recipients", []), signer=signer, cc=cc,
        language=detect_language(text), clauses=clauses, identity=identity,
        warnings=warnings, source=source,
    )
    document.references = extract_references(document)
    return document


_VIETNAMESE_LETTER_RE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1E00-\u1EFF]")
_LETTER_RE = re.compile(r"[^\W\d_]")


def detect_language(text: str) -> str:
    sample = text[:20000]
    letters = len(_LETTER_RE.findall(sample))
    if not letters:
        return "vi"
    return "vi" if len(_VIETNAMESE_LETTER_RE.findall(sample)) / letters > 0.03 else "en"


def _issuer_from_text(number: str, body: str) -> str | None:
    if "BHXH" in number or re.search(r"Tổng Giám đốc (BHXH|Bảo hiểm xã hội)", body):
        return "Bảo hiểm xã hội Việt Nam"
    return None


def _signer_start(paras: list[_Para]) -> int:
    """Without a 'Nơi nhận' list, the signer block is the trailing capitals + name."""
    i = len(paras)
    while i > 0 and (paras[i - 1].text.isupper() or _looks_like_name(paras[i - 1].text)) \
            and len(paras[i - 1].text) < 60:
        i -= 1
    return i


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 5 and all(w[:1].isupper() and w[1:].islower() for w in words)


def _parse_header(header: list[_Para], recipients_at: int | None, warnings: list[str]) -> dict:
    meta: dict = {}
    flat = " ".join(p.text.replace("|", " ") for p in header)
    number = re.search(r"Số\s*:?\s*" + NUMBER_RE.pattern, flat)
    if number:
        meta["number"] = normalise_number(number.group(0).split(":", 1)[-1]
                                          if ":" in number.group(0) else number.group(0)[2:])
    cells = [cell.strip() for p in header for cell in p.text.split("|") if cell.strip()]
    place_date = next((m for m in map(PLACE_DATE_RE.match, cells) if m), None) \
        or PLACE_DATE_RE.search(flat)
    if place_date:
        place = place_date.group(1).strip()
        meta["place"] = place.split("  ")[-1]
        try:
            meta["issued"] = date(int(place_date.group(4)), int(place_date.group(3)),
                                  int(place_date.group(2)))
        except ValueError:
            warnings.append(f"invalid issue date: {place_date.group(0)}")
    subject = next((m for m in (re.match(r"^(?:V/v|Về việc)\s+(.+)$", c) for c in cells) if m), None)
    titled = [i for i, c in enumerate(cells) if c in _KIND_TITLES]
    if subject:
        meta["subject"] = subject.group(1).strip(" |")
    elif titled and titled[-1] + 1 < len(cells):
        meta["subject"] = cells[titled[-1] + 1]
    elif header and recipients_at is not None and not number:
        # Lost header: what precedes "Kính gửi" is the tail of the subject line.
        fragment = " ".join(p.text for p in header[:recipients_at]).strip()
        if fragment:
            meta["subject"] = fragment
            warnings.append("header lost: subject is a fragment of the V/v line")
    for title, kind in _KIND_TITLES.items():
        if re.search(rf"(?<![\w]){title}(?![\w])", flat):
            meta["kind"] = kind
            break
    if "kind" not in meta and subject:
        meta["kind"] = "Công văn"     # a V/v subject line is the mark of an official dispatch
    if "number" in meta and "kind" not in meta:
        meta["kind"] = kind_from_number(meta["number"])
    agency_lines = []
    for p in header:
        cell = p.text.split("|")[0].strip()
        if re.match(r"^(CỘNG\s+HO?ÒA|Độc\s+lập|[-_=*]{3,}|Số\s*:)", cell):
            break
        if cell.isupper():
            agency_lines.append(cell)
    if agency_lines:
        meta["issuer"] = _title_case(agency_lines[-1])
        if len(agency_lines) > 1:
            meta["parent_issuer"] = _title_case(agency_lines[-2])
    if recipients_at is not None:
        recipients_para = header[recipients_at].text if recipients_at < len(header) else ""
        items = re.sub(r"^Kính\s+gửi\s*:?", "", recipients_para)
        lines = [items] + [p.text for p in header[recipients_at + 1:]]
        recipients = []
        for line in lines:
            for item in re.split(r"(?:^|\s)[-–•]\s+", line):
                item = item.strip().rstrip(";.,").strip()
                if item:
                    recipients.append(item)
        meta["recipients"] = recipients
    return meta


def _title_case(upper: str) -> str:
    """'BẢO HIỂM XÃ HỘI TỈNH NINH BÌNH' → 'Bảo hiểm xã hội tỉnh Ninh Bình' (place names capitalised)."""
    text = upper.capitalize()
    text = re.sub(r"\bviệt nam\b", "Việt Nam", text)
    return re.sub(r"\b(tỉnh|thành phố|huyện|quận|thị xã)\s+(.+)$",
                  lambda m: m.group(1) + " " + m.group(2).title(), text)


def _parse_footer(footer: list[_Para], warnings: list[str]) -> tuple[list[str], Signer | None]:
    cc: list[str] = []
    i = 0
    if footer and re.match(r"^Nơi\s+nhận", footer[0].text):
        rest = re.sub(r"^Nơi\s+nhận\s*:?", "", footer[0].text).strip()
        if rest:
            cc.extend(x.strip(" ;.") for x in re.split(r"(?:^|\s)[-–]\s+", rest) if x.strip(" ;."))
        i = 1
        while i < len(footer) and re.match(r"^[-–•+]\s*", footer[i].text) \
                and not footer[i].text.isupper():
            cc.append(footer[i].text.lstrip("-–•+ ").rstrip(";.").strip())
            i += 1
    block = [p.text for p in footer[i:]]
    if not block:
        return cc, None
    name_lines = [t for t in block if _looks_like_name(t)]
    capacity_lines = [t for t in block if t.isupper() or re.match(r"^(KT|TL|TM|TUQ|Q)\.", t)]
    if not name_lines:
        warnings.append("signer name not found")
        return cc, None
    capacity = " ".join(capacity_lines)
    return cc, Signer(name=name_lines[-1], **_split_capacity(capacity))


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
        for starter in ("VỤ TRƯỞNG", "CHÁNH ", "TRƯỞNG ", "CHỦ TỊCH", "GIÁM ĐỐC", "TỔNG GIÁM ĐỐC"):
            pos = rest.find(starter, 1)
            if pos > 0 and len(rest[:pos].split()) >= 2 and (cut is None or pos < cut):
                cut = pos
    if cut:
        rest = rest[:cut].strip() + " / " + rest[cut:].strip()
    return {"capacity": f"{authority} {rest}".strip(), "authority": authority}


# ---------------------------------------------------------------- clause tree

def _marker_of(text: str) -> tuple[str, str, str] | None:
    for kind, pattern in _MARKERS:
        m = pattern.match(text)
        if m:
            return kind, m.group(1), m.group(0).strip()
    return None


def build_clauses(number: str, body: list[_Para], source: Source,
                  warnings: list[str]) -> list[Clause]:
    groups: list[dict] = []       # each: kind, token, marker, paras
    preamble: list[_Para] = []
    for para in body:
        marker = _marker_of(para.text)
        if marker:
            kind, token, written = marker
            groups.append({"kind": kind, "token": token, "marker": written, "paras": [para]})
        elif groups:
            groups[-1]["paras"].append(para)
        else:
            preamble.append(para)

    closing: list[_Para] = []
    if groups:
        last = groups[-1]["paras"]
        for j in range(1, len(last)):
            tail = last[j:]
            if _CLOSING_CUES.match(tail[0].text) or tail[-1].text.rstrip().endswith(("./.", "./")) \
                    and j == len(last) - 1:
                closing = tail
                groups[-1]["paras"] = last[:j]
                break

    clauses: list[Clause] = []

    segments_by_path: dict[str, Segments] = {}

    def add(path, marker, paras, parent, segments=None):
        start, end = paras[0].start, paras[-1].end
        clause_text = source.repaired_text[start:end]
        if segments:
            segments_by_path[path] = segments
        clause = Clause(
            id=f"{number}#{path}", doc=number, path=path, marker=marker,
            label_vi=label_vi(path, segments), label_en=label_en(path, segments), text=clause_text,
            span=(start, end), raw_span=source.raw_span(start, end), parent=parent,
            actors=find_actors(clause_text), deadlines=find_deadlines(clause_text))
        clauses.append(clause)
        return clause

    if not groups:
        if body:
            warnings.append("no numbered or lettered items: indexed as paragraphs")
        for i, para in enumerate(body, 1):
            add(f"p{i}", "", [para], None)
        return clauses

    if preamble:
        add("preamble", "", preamble, None)
    stack: list[tuple[int, Clause]] = []
    ordinals: dict[tuple[str | None, str], int] = {}
    seen_paths: set[str] = set()
    for group in groups:
        level = _LEVEL[group["kind"]]
        while stack and stack[-1][0] >= level:
            stack.pop()
        parent = stack[-1][1] if stack else None
        parent_path = parent.path if parent else None
        if group["kind"] in ("dash", "plus"):
            sign = "-" if group["kind"] == "dash" else "+"
            key = (parent_path, sign)
            ordinals[key] = ordinals.get(key, 0) + 1
            segment = f"{sign}{ordinals[key]}"
        elif group["kind"] == "article":
            segment = f"art{group['token']}"
        else:
            segment = group["token"]
        path = f"{parent_path}.{segment}" if parent_path else segment
        if path in seen_paths:
            warnings.append(f"duplicate clause path {path}: kept with suffix")
            path = f"{path}~{len(seen_paths)}"
        seen_paths.add(path)
        own = {"dash": ("dash", segment[1:]), "plus": ("plus", segment[1:]),
               "article": ("article", group["token"])}.get(group["kind"], (group["kind"], segment))
        segments = segments_by_path.get(parent_path, []) + [own] if parent_path else [own]
        clause = add(path, group["marker"], group["paras"], parent_path, segments)
        if parent:
            parent.children.append(path)
        stack.append((level, clause))
    if closing:
        add("closing", "", closing, None)
    return clauses


def _segment_label(segment: str) -> tuple[str, str]:
    """(kind, value) for one path segment written on its own."""
    if re.fullmatch(r"art\d+", segment):
        return "article", segment[3:]
    if segment[0] in "-+":
        return ("dash" if segment[0] == "-" else "plus"), segment[1:]
    if re.fullmatch(r"[IVXLC]+", segment):
        return "roman", segment
    if re.fullmatch(r"\d+(\.\d+)+", segment):
        return "subnumber", segment
    if segment.isdigit():
        return "number", segment
    return "letter", segment


Segments = list[tuple[str, str]]


def segments_of(path: str) -> Segments:
    """Best-effort split of a path written alone; the parser passes exact segments instead."""
    return [_segment_label(part) for part in path.split(".")]


def label_vi(path: str, segments: Segments | None = None) -> str:
    special = {"preamble": "phần mở đầu", "closing": "phần kết"}
    if path in special:
        return special[path]
    if re.fullmatch(r"p\d+", path):
        return f"đoạn {path[1:]}"
    return _label_vi(segments or segments_of(path))


def _label_vi(segments: Segments) -> str:
    kind, value = segments[-1]
    rest = segments[:-1]
    if kind in ("dash", "plus"):
        bullet = f"{'gạch đầu dòng' if kind == 'dash' else 'dấu cộng'} thứ {value}"
        return f"{bullet} của {_label_vi(rest)}" if rest else bullet
    names = {"roman": "mục", "article": "Điều", "number": "khoản", "subnumber": "tiểu mục",
             "letter": "điểm"}
    own = f"{names[kind]} {value}"
    return f"{_label_vi(rest)} {own}" if rest else own


def _ordinal(n: int) -> str:
    return _ORDINALS_EN[n - 1] if 1 <= n <= len(_ORDINALS_EN) else f"{n}th"


def label_en(path: str, segments: Segments | None = None) -> str:
    special = {"preamble": "preamble", "closing": "closing paragraph"}
    if path in special:
        return special[path]
    if re.fullmatch(r"p\d+", path):
        return f"paragraph {path[1:]}"
    section = None
    clause = ""
    extras = []
    for kind, value in segments or segments_of(path):
        if kind == "roman":
            section = f"section {value}"
        elif kind == "article":
            section = f"Article {value}"
        elif kind in ("number", "subnumber"):
            clause = f"clause {value}"
        elif kind == "letter":
            clause = f"{clause}({value})" if clause else f"point ({value})"
        else:
            extras.append(f"{_ordinal(int(value))} {'bullet' if kind == 'dash' else 'sub-bullet'}")
    parts = [p for p in (section, clause) if p] + extras
    return ", ".join(parts)


# ---------------------------------------------------------------- references

def extract_references(document: Document) -> list[Reference]:
    references: list[Reference] = []
    seen: set[tuple[str, str | None]] = set()
    for clause in document.clauses:
        for m in NUMBER_RE.finditer(clause.text):
            number = normalise_number(m.group(0))
            if number == document.number or _is_date_like(m.group(0)):
                continue
            before = clause.text[max(0, m.start() - 40): m.start()]
            after = clause.text[m.end(): m.end() + 60]
            ref = Reference(number=number, kind=_kind_before(before) or kind_from_number(number),
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
    return bool(re.fullmatch(r"\d+/\d+/\d+", text.replace(" ", "")))
