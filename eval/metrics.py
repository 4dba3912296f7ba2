"""Pure, deterministic scoring functions for the evaluation harness.

Every convention for empty or degenerate cases is spelled out in eval/README.md
("Metrics"); the functions here implement exactly those rules. `None` means
"not applicable to this question" and is skipped by the averages, never a NaN.
"""
from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ingest import vocab

Lang = Literal["vi", "en"]

RETRIEVAL_DEPTHS = (1, 5, 10)

# ---------------------------------------------------------------- clause ids


def normalize_id(clause_id: str) -> str:
    """NFC, no whitespace, casefolded: '3476/BHXH-TCCB #2.A' -> '3476/bhxh-tccb#2.a'."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", clause_id)).casefold()


def split_id(clause_id: str) -> tuple[str, tuple[str, ...] | None]:
    """(document, path segments); segments is None for a document-level id."""
    normalized = normalize_id(clause_id)
    doc, hash_sign, path = normalized.partition("#")
    if not hash_sign or not path:
        return doc, None
    return doc, tuple(path.split("."))


def ids_match(cited: str, gold: str) -> bool:
    """True when `cited` may be credited for `gold`.

    Same document, and one path is a segment-wise prefix of the other
    ('#2' ~ '#2.a' both ways, '#2' !~ '#20'). A document-level gold matches any
    clause of its document; a document-level *citation* only matches a
    document-level gold, so citing a whole document never earns clause credit.
    """
    cited_doc, cited_path = split_id(cited)
    gold_doc, gold_path = split_id(gold)
    if cited_doc != gold_doc:
        return False
    if gold_path is None:
        return True
    if cited_path is None:
        return False
    shorter = min(len(cited_path), len(gold_path))
    return cited_path[:shorter] == gold_path[:shorter]


def matches_any(cited: str, golds: Iterable[str]) -> bool:
    return any(ids_match(cited, gold) for gold in golds)


def dedupe_ids(ids: Iterable[str]) -> list[str]:
    """Keep the first occurrence of each id (compared normalized), original spelling."""
    seen: set[str] = set()
    unique: list[str] = []
    for clause_id in ids:
        key = normalize_id(clause_id)
        if key and key not in seen:
            seen.add(key)
            unique.append(clause_id)
    return unique


# ---------------------------------------------------------------- retrieval


def first_match_ranks(ranked: Sequence[str], gold: Sequence[str], k: int | None = None) -> list[int | None]:
    """For each gold id, the 1-based rank of the first ranked id that matches it (None if absent).

    The ranked list is de-duplicated first, and cut at `k` when given.
    """
    ranking = dedupe_ids(ranked)
    if k is not None:
        ranking = ranking[:k]
    ranks: list[int | None] = []
    for gold_id in gold:
        rank = next((i for i, cid in enumerate(ranking, 1) if ids_match(cid, gold_id)), None)
        ranks.append(rank)
    return ranks


def recall_at_k(ranked: Sequence[str], gold: Sequence[str], k: int) -> float | None:
    """Matched gold ids in the top k / min(k, |gold|) (capped so a perfect ranking scores 1)."""
    if not gold:
        return None
    found = sum(rank is not None for rank in first_match_ranks(ranked, gold, k))
    return min(1.0, found / min(k, len(gold)))


def mrr_at_k(ranked: Sequence[str], gold: Sequence[str], k: int = 10) -> float | None:
    """Reciprocal rank of the first ranked id that matches any gold id (0 if none in the top k)."""
    if not gold:
        return None
    ranks = [rank for rank in first_match_ranks(ranked, gold, k) if rank is not None]
    return 1.0 / min(ranks) if ranks else 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Sequence[str], k: int = 10) -> float | None:
    """Binary-relevance nDCG, each gold id credited once at the rank where it is first matched.

    DCG = sum over matched gold of 1/log2(1 + rank); IDCG = sum_{i=1..min(|gold|,k)} 1/log2(1 + i).
    A parent clause matching several gold children credits all of them at its rank,
    so the ratio is clipped at 1.
    """
    if not gold:
        return None
    dcg = sum(1.0 / math.log2(1 + rank) for rank in first_match_ranks(ranked, gold, k) if rank is not None)
    idcg = sum(1.0 / math.log2(1 + i) for i in range(1, min(len(gold), k) + 1))
    return min(1.0, dcg / idcg)


# ---------------------------------------------------------------- citations


@dataclass(frozen=True)
class CitationScores:
    precision: float | None     # None when nothing was cited
    recall: float
    f1: float


def citation_scores(cited: Sequence[str], gold: Sequence[str]) -> CitationScores | None:
    """Precision/recall/F1 of the cited ids of one answer; None when there is no gold (unanswerable)."""
    if not gold:
        return None
    unique = dedupe_ids(cited)
    precision = (sum(matches_any(cid, gold) for cid in unique) / len(unique)) if unique else None
    recall = sum(any(ids_match(cid, gold_id) for cid in unique) for gold_id in gold) / len(gold)
    if not precision or not recall:
        return CitationScores(precision, recall, 0.0)
    return CitationScores(precision, recall, 2 * precision * recall / (precision + recall))


def fabricated_ids(cited: Iterable[str], existing_ids: Iterable[str]) -> list[str]:
    """Cited ids that name no existing clause (a document-level id needs its document to exist)."""
    existing = {normalize_id(cid) for cid in existing_ids}
    existing_docs = {split_id(cid)[0] for cid in existing}
    fabricated = []
    for cid in dedupe_ids(cited):
        doc, path = split_id(cid)
        known = doc in existing_docs if path is None else normalize_id(cid) in existing
        if not known:
            fabricated.append(cid)
    return fabricated


def normalize_quote_text(text: str) -> str:
    """NFC and whitespace collapsed to single spaces (case is kept: quotes must be verbatim)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|…)\s*")


def quote_is_faithful(quote: str, clause_text: str | None) -> bool:
    """The quote is a verbatim span of the clause text after NFC + whitespace collapsing.

    Leading/trailing ellipses are ignored; an inner ellipsis splits the quote into
    fragments that must all occur, in order. An empty quote or unknown clause fails.
    """
    if clause_text is None:
        return False
    fragments = [f for f in _ELLIPSIS.split(normalize_quote_text(quote)) if f]
    if not fragments:
        return False
    haystack = normalize_quote_text(clause_text)
    position = 0
    for fragment in fragments:
        found = haystack.find(fragment, position)
        if found < 0:
            return False
        position = found + len(fragment)
    return True


# ---------------------------------------------------------------- answer text


def normalize_answer_text(text: str) -> str:
    """NFC, casefold, whitespace collapsed: the space key facts are searched in."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).casefold()).strip()


def key_fact_met(answer_text: str, alternatives: Sequence[str]) -> bool:
    haystack = normalize_answer_text(answer_text)
    return any(normalize_answer_text(alt) in haystack for alt in alternatives if alt.strip())


def key_fact_coverage(answer_text: str, key_facts: Sequence[Sequence[str]]) -> float | None:
    if not key_facts:
        return None
    return sum(key_fact_met(answer_text, alternatives) for alternatives in key_facts) / len(key_facts)


_MARKERS_AND_STRAIGHT_QUOTES = re.compile(r"\[\d+\]|\"[^\"]*\"")


def _without_curly_quotes(text: str) -> str:
    """Text outside “…” spans, nesting counted: a quoted Vietnamese clause may itself quote."""
    kept, depth = [], 0
    for ch in text:
        if ch == "“":
            depth += 1
        elif ch == "”" and depth:
            depth -= 1
            kept.append(" ")
        elif not depth:
            kept.append(ch)
    return "".join(kept)


def detect_language(text: str) -> Lang | None:
    """'en' / 'vi' by the one detector (`ingest.vocab.detect_language`), or None (too little
    text). Quoted spans and [n] markers are ignored: English answers legitimately quote
    Vietnamese unit names."""
    stripped = _MARKERS_AND_STRAIGHT_QUOTES.sub(" ", _without_curly_quotes(unicodedata.normalize("NFC", text)))
    stripped = vocab.NUMBER_RE.sub(" ", stripped)       # "968/CĐ-TTg" is not a Vietnamese word
    if len(re.findall(r"[^\W\d_]+", stripped)) < 3:
        return None
    return vocab.detect_language(stripped)


def language_matches(expected: str, declared: str | None, answer_text: str) -> bool:
    """The declared language is the expected one and the text does not contradict it."""
    detected = detect_language(answer_text)
    return declared == expected and detected in (expected, None)


# ---------------------------------------------------------------- refusal


@dataclass(frozen=True)
class RefusalCounts:
    """Confusion counts with positive class = "should refuse" (answerable is false)."""

    true_refusals: int = 0      # unanswerable, refused
    false_refusals: int = 0     # answerable, refused
    false_answers: int = 0      # unanswerable, answered
    true_answers: int = 0       # answerable, answered

    @property
    def precision(self) -> float | None:
        predicted = self.true_refusals + self.false_refusals
        if predicted:
            return self.true_refusals / predicted
        # Never refusing while refusals were due is a precision failure, not "undefined".
        return 0.0 if self.true_refusals + self.false_answers else None

    @property
    def recall(self) -> float | None:
        due = self.true_refusals + self.false_answers
        return self.true_refusals / due if due else None

    @property
    def f1(self) -> float | None:
        precision, recall = self.precision, self.recall
        if precision is None or recall is None:
            return None
        return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def refusal_counts(outcomes: Iterable[tuple[bool, bool]]) -> RefusalCounts:
    """Count (answerable, refused) pairs."""
    tr = fr = fa = ta = 0
    for answerable, refused in outcomes:
        if answerable:
            fr += refused
            ta += not refused
        else:
            tr += refused
            fa += not refused
    return RefusalCounts(tr, fr, fa, ta)


# ---------------------------------------------------------------- latency


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile q in [0, 100] (numpy's default method); None for no values.
    The one percentile of the project: benches and load tests use it too."""
    if not values:
        return None
    if len(values) == 1 or q <= 0:
        return min(values)
    if q >= 100:
        return max(values)
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 10) - 1]


# ---------------------------------------------------------------- per question


@dataclass
class QuestionScore:
    """Everything measured for one (record, answer) pair."""

    id: str
    lang: str
    answerable: bool
    refused: bool
    latency_s: float | None
    error: str | None = None
    recall_at_1: float | None = None
    recall_at_5: float | None = None
    recall_at_10: float | None = None
    mrr_at_10: float | None = None
    ndcg_at_10: float | None = None
    citation_precision: float | None = None
    citation_recall: float | None = None
    citation_f1: float | None = None
    cited_ids: list[str] = field(default_factory=list)
    fabricated: list[str] = field(default_factory=list)
    quotes_checked: int = 0
    unfaithful_quotes: list[str] = field(default_factory=list)   # ids whose quote failed
    key_facts_total: int = 0
    key_facts_missed: list[list[str]] = field(default_factory=list)
    key_fact_coverage: float | None = None
    language_declared: str | None = None
    language_detected: str | None = None
    language_match: bool = False
    passed: bool = False


def score_question(
    *,
    record_id: str,
    lang: str,
    answerable: bool,
    gold: Sequence[str],
    key_facts: Sequence[Sequence[str]],
    answer_text: str,
    answer_language: str | None,
    refused: bool,
    citations: Sequence[tuple[str, str]],
    ranked_ids: Sequence[str],
    latency_s: float | None,
    existing_ids: set[str],
    clause_texts: dict[str, str],
    error: str | None = None,
) -> QuestionScore:
    """Score one answer. `citations` are (clause id, quote) pairs in answer order."""
    score = QuestionScore(id=record_id, lang=lang, answerable=answerable, refused=refused,
                          latency_s=latency_s, error=error)
    cited = dedupe_ids(cid for cid, _ in citations)
    score.cited_ids = cited
    score.fabricated = fabricated_ids(cited, existing_ids)

    texts = {normalize_id(cid): text for cid, text in clause_texts.items()}
    for cid, quote in citations:
        score.quotes_checked += 1
        if not quote_is_faithful(quote, texts.get(normalize_id(cid))):
            score.unfaithful_quotes.append(cid)

    score.language_declared = answer_language
    score.language_detected = detect_language(answer_text)
    score.language_match = error is None and language_matches(lang, answer_language, answer_text)

    if answerable:
        score.recall_at_1, score.recall_at_5, score.recall_at_10 = (
            recall_at_k(ranked_ids, gold, k) for k in RETRIEVAL_DEPTHS)
        score.mrr_at_10 = mrr_at_k(ranked_ids, gold, 10)
        score.ndcg_at_10 = ndcg_at_k(ranked_ids, gold, 10)
        scores = citation_scores(cited, gold)
        assert scores is not None
        score.citation_precision, score.citation_recall, score.citation_f1 = (
            scores.precision, scores.recall, scores.f1)
        score.key_facts_total = len(key_facts)
        score.key_facts_missed = [list(alts) for alts in key_facts if not key_fact_met(answer_text, alts)]
        score.key_fact_coverage = key_fact_coverage(answer_text, key_facts)

    if error is not None:
        score.passed = False
    elif not answerable:
        score.passed = refused
    else:
        score.passed = (not refused and bool(score.citation_recall) and not score.fabricated
                        and not score.key_facts_missed)
    return score


# ---------------------------------------------------------------- aggregation


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def aggregate(scores: Sequence[QuestionScore]) -> dict[str, float | int | None]:
    """Headline metrics over a set of question scores (see README for each convention)."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    # An errored question counts as "not refused": an outage is never a correct refusal.
    refusals = refusal_counts((s.answerable, s.refused and s.error is None) for s in scores)
    n_citations = sum(len(s.cited_ids) for s in scores)
    n_fabricated = sum(len(s.fabricated) for s in scores)
    quotes = sum(s.quotes_checked for s in scores)
    faithful = quotes - sum(len(s.unfaithful_quotes) for s in scores)
    latencies = [s.latency_s for s in scores if s.latency_s is not None and s.error is None]
    metrics: dict[str, float | int | None] = {
        "questions": len(scores),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "errors": sum(s.error is not None for s in scores),
        "pass_rate": _mean(float(s.passed) for s in scores),
    }
    for k in RETRIEVAL_DEPTHS:
        metrics[f"recall_at_{k}"] = _mean(getattr(s, f"recall_at_{k}") for s in answerable)
    metrics["mrr_at_10"] = _mean(s.mrr_at_10 for s in answerable)
    metrics["ndcg_at_10"] = _mean(s.ndcg_at_10 for s in answerable)
    metrics["citation_precision"] = _mean(s.citation_precision for s in answerable)
    metrics["citation_recall"] = _mean(s.citation_recall for s in answerable)
    metrics["citation_f1"] = _mean(s.citation_f1 for s in answerable)
    metrics["citations"] = n_citations
    metrics["fabricated_citations"] = n_fabricated
    metrics["fabricated_citation_rate"] = n_fabricated / n_citations if n_citations else None
    metrics["quote_fidelity"] = faithful / quotes if quotes else None
    metrics["key_fact_coverage"] = _mean(s.key_fact_coverage for s in answerable)
    metrics["language_match"] = _mean(float(s.language_match) for s in scores)
    metrics["refusal_precision"] = refusals.precision
    metrics["refusal_recall"] = refusals.recall
    metrics["refusal_f1"] = refusals.f1
    metrics["true_refusals"] = refusals.true_refusals
    metrics["false_refusals"] = refusals.false_refusals
    metrics["false_answers"] = refusals.false_answers
    metrics["false_refusal_rate"] = (refusals.false_refusals / len(answerable)) if answerable else None
    metrics["false_answer_rate"] = (refusals.false_answers / len(unanswerable)) if unanswerable else None
    metrics["latency_p50_s"] = percentile(latencies, 50)
    metrics["latency_p95_s"] = percentile(latencies, 95)
    metrics["latency_mean_s"] = _mean(latencies)
    return metrics


def aggregate_by_language(scores: Sequence[QuestionScore]) -> dict[str, dict[str, float | int | None]]:
    """{"overall": ..., "vi": ..., "en": ...}."""
    return {
        "overall": aggregate(scores),
        "vi": aggregate([s for s in scores if s.lang == "vi"]),
        "en": aggregate([s for s in scores if s.lang == "en"]),
    }
