"""Does a question name a document's issuer? ("Công văn nào của BHXH Việt Nam …", "Which Tuyen
Quang decision …", "Quy chế nào của TP.HCM …").

Issuers are matched on syllables with the diacritics folded away, so an English question's
place names ("Tuyen Quang", "Ho Chi Minh City") and a header read from a scan ("Bảo hiếm xã họi
tp ho chí minh") meet; the common abbreviations of Vietnamese administration are spelled out;
each syllable weighs by how few issuers share it, so "Tuyên Quang" decides and "Ủy ban nhân dân"
barely counts.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import yaml

from ingest.model import Document

ABBREVIATIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "abbreviations_vi.yaml"
ISSUER_MATCH = 0.6        # share of an issuer's (weighted) syllables a question must name
# What kind of body an issuer is ("Ủy ban nhân dân tỉnh", "Bộ", "Sở") says less than which one
# it is ("Gia Lai"), however few issuers a small corpus has: these syllables weigh less.
ORGAN_SYLLABLES = frozenset("uy ban nhan dan tinh thanh pho quan huyen bo so cuc vu tong".split())
ORGAN_WEIGHT = 0.3


def fold(text: str) -> str:
    """Casefolded, without diacritics (đ → d), punctuation as spaces."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^\w]+", " ", bare).strip()


@lru_cache(maxsize=1)
def _abbreviations() -> list[tuple[re.Pattern[str], str]]:
    table = yaml.safe_load(ABBREVIATIONS_FILE.read_text(encoding="utf-8")) or {}
    # Longest first: "TP.HCM" before "TP".
    return [(re.compile(rf"(?<!\w){re.escape(short)}(?!\w)", re.IGNORECASE), f" {long} ")
            for short, long in sorted(table.items(), key=lambda item: -len(item[0]))]


def spelled_out(text: str) -> str:
    for pattern, long in _abbreviations():
        text = pattern.sub(long, text)
    return text


# Names written as one word or two ("Vietnam", "Viet Nam"), folded to one spelling.
_JOINED = re.compile(r"\b(viet) (nam)\b|\b(ha) (noi)\b")


def syllable_sequence(text: str) -> list[str]:
    return _JOINED.sub(lambda m: "".join(g for g in m.groups() if g), fold(spelled_out(text))).split()


def syllables(text: str) -> set[str]:
    return set(syllable_sequence(text))


@lru_cache(maxsize=65536)
def _issuer_syllables(issuer: str) -> frozenset[str]:
    """An issuer's syllables, once per issuer name: every question weighs them all."""
    return frozenset(syllables(issuer))


@lru_cache(maxsize=65536)
def _issuer_length(issuer: str) -> int:
    return len(syllable_sequence(issuer))


def issuer_scores(question: str, documents: Mapping[str, Document],
                  candidates: list[str], named: str | None = None) -> dict[str, float]:
    """For each candidate with an issuer, the IDF-weighted share of its issuer's syllables that
    the question (with its expansion) names; only those at or above ISSUER_MATCH. With `named`,
    the words the question gives as the issuer ("Văn bản nào của <named>"), an issuer counts
    only the syllables in the stretch of them as long as its name (and two more): the rest of
    the question is the subject, which may share words with another body's name."""
    asked = syllables(question)
    slot = syllable_sequence(named) if named else None
    issuer_words = {n: _issuer_syllables(documents[n].issuer) for n in candidates if documents[n].issuer}
    # Weighed over distinct issuers: an issuer with many documents does not make its own name
    # look common.
    distinct = set(issuer_words.values())
    df = Counter(w for words in distinct for w in words)
    total = max(1, len(distinct))
    scores = {}
    for number, words in issuer_words.items():
        weight = {w: math.log(1 + total / df[w]) * (ORGAN_WEIGHT if w in ORGAN_SYLLABLES else 1.0)
                  for w in words}
        whole = sum(weight.values())
        named_here = asked if slot is None else set(slot[:_issuer_length(documents[number].issuer) + 2])
        share = sum(v for w, v in weight.items() if w in named_here) / whole if whole else 0.0
        if share >= ISSUER_MATCH:
            scores[number] = share
    return scores
