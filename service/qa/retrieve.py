"""Retrieval over an immutable index snapshot.

`IndexSnapshot.build(store)` reads everything answering needs once (documents, clauses, lexical
indexes, IDF); `refresh` builds a new one and swaps the reference, so questions never wait on a
lock and never see half an update. `Retriever.rank` fuses dense (Qdrant) and lexical rankings
with RRF; on a Qdrant server the fusion runs server-side with the same prefetch plan.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import numpy as np
from cachetools import LRUCache

from ingest.commentary import english_rendering
from ingest.model import Clause, Commentary, Document
from ingest.parse import actor_table
from service.qa.render import lexicon_matches
from service.qa.understand import question_language
from service.store import ClauseStore, lexical_tokens

RRF_K = 2      # as Qdrant's RRF; k=2 beat k=10..60 on the seed dataset (bench/fusion.py)
STOPWORDS = set("""và của các những là có được cho trong theo về với để tại từ này đó thì mà nào gì
ai sao không một hay hoặc phải làm như bao nhiêu khi nào the of a an to in on for and or what
which who whom does do did is are was were be under by with about how when must should shall
this that these those any it its their there from as at me tell please has have had can could
would will into than then also such other according says say said given many much per year
vss dispatch official document documents""".split())
# Translations are read per clause at build time; past this size the English index uses
# commentary only (one store read per clause would dominate a refresh).
MAX_CLAUSES_FOR_TRANSLATION_SCAN = 5000

Ranked = list[tuple[str, float, dict]]   # (clause id, fused score, signals), best first


def english_stems(text: str) -> list[str]:
    """Lowercase English content words with a plural 's' removed (enough for matching)."""
    words = re.findall(r"[a-z]{3,}", text.lower())
    return [w[:-1] if w.endswith("s") and not w.endswith("ss") else w for w in words if w not in STOPWORDS]


def content_tokens(tokens: list[str]) -> set[str]:
    return {t for t in tokens if t not in STOPWORDS and not t.isdigit() and len(t) > 1}


@dataclass(frozen=True)
class IndexSnapshot:
    """Everything a question reads, built once per refresh and never mutated afterwards."""

    documents: dict[str, Document]
    commentaries: list[Commentary]
    clauses: dict[str, Clause]
    point_ids: dict[str, str]               # clause id → store point id
    clause_of_point: dict[str, str]
    lex_ids: list[str]
    bm25: object | None
    lex_vocab: frozenset[str]
    clause_tokens: dict[str, set[str]]      # Vietnamese tokens + "en:" English words per clause
    en_ids: list[str]
    en_bm25: object | None
    english_vocab: frozenset[str]
    idf: dict[str, float]
    unknown_idf: float                      # a word the corpus never uses
    english_texts: dict[str, str] = field(default_factory=dict)
    title_tokens: dict[str, set[str]] = field(default_factory=dict)   # number → kind/issuer/subject

    @classmethod
    def build(cls, store: ClauseStore) -> "IndexSnapshot":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)   # it logs each index build at DEBUG
        documents = {d.number: d for d in store.documents()}
        commentaries = store.commentaries()
        clauses = {c.id: c for d in documents.values() for c in d.clauses}
        points = store.clause_payloads()
        point_ids = {p.payload["clause_id"]: str(p.id) for p in points}
        lex_ids = [p.payload["clause_id"] for p in points]
        corpus = [p.payload.get("bm25_tokens") or ["_"] for p in points]
        bm25 = None
        if corpus:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
        clause_tokens = {cid: set(tokens) for cid, tokens in zip(lex_ids, corpus)}
        document_frequency: dict[str, int] = {}
        for tokens in clause_tokens.values():
            for token in tokens:
                document_frequency[token] = document_frequency.get(token, 0) + 1
        n = max(1, len(clause_tokens))

        # English renderings (aligned commentary, translation cache) as a second lexical index:
        # English questions then match English words, not only glossary terms.
        texts: dict[str, str] = {}
        for commentary in commentaries:
            for cid in {a.clause_id for a in commentary.alignments}:
                rendering = english_rendering(commentary.alignments, cid)
                if rendering and cid in clauses:
                    texts[cid] = texts.get(cid, "") + " " + rendering
        if len(clauses) < MAX_CLAUSES_FOR_TRANSLATION_SCAN:
            for cid, clause in clauses.items():
                if cid not in texts:
                    cached = store.translation(cid, clause.text)
                    if cached:
                        texts[cid] = cached
        english_words = {cid: {"en:" + w for w in english_stems(text)} for cid, text in texts.items()}
        for cid, words in english_words.items():
            clause_tokens.setdefault(cid, set()).update(words)
            for word in words:
                document_frequency[word] = document_frequency.get(word, 0) + 1
        en_ids = list(texts)
        en_bm25 = None
        if texts:
            en_bm25 = bm25s.BM25()
            en_bm25.index([sorted(english_stems(texts[cid])) or ["_"] for cid in en_ids],
                          show_progress=False)
        title_tokens = {}
        for number, document in documents.items():
            title = " ".join(filter(None, [document.kind, number, document.issuer, document.subject]))
            title_tokens[number] = set(lexical_tokens(title)) | {"en:" + w for w in english_stems(title)}
        return cls(
            title_tokens=title_tokens,
            documents=documents, commentaries=commentaries, clauses=clauses, point_ids=point_ids,
            clause_of_point={point: cid for cid, point in point_ids.items()}, lex_ids=lex_ids,
            bm25=bm25, lex_vocab=frozenset(t for tokens in corpus for t in tokens),
            clause_tokens=clause_tokens, en_ids=en_ids, en_bm25=en_bm25,
            english_vocab=frozenset().union(*english_words.values()) if english_words else frozenset(),
            idf={t: float(np.log(1 + n / df)) for t, df in document_frequency.items()},
            unknown_idf=float(np.log(1 + n)), english_texts=texts)

    # ------------------------------------------------------------ lexical evidence
    def question_tokens(self, question: str, expanded: str) -> set[str]:
        """Content tokens that can be checked against Vietnamese clauses: for an English question
        only its glossary expansion counts (English words never occur in the clauses)."""
        if question_language(question) == "en":
            added = expanded[len(question):] if expanded.startswith(question) else ""
            tokens = content_tokens(lexical_tokens(added)) if added.strip() else set()
            # English words the lexicon could not map stay in as evidence we cannot check.
            unmapped = question.lower()
            for match in reversed(lexicon_matches(unmapped)):
                unmapped = unmapped[:match.start()] + " " + unmapped[match.end():]
            for actor in actor_table():
                for pattern in actor.patterns:
                    unmapped = pattern.sub(" ", unmapped)
            tokens |= {"en:" + w for w in english_stems(unmapped)}
            return tokens
        return content_tokens(lexical_tokens(expanded))

    def coverage(self, q_tokens: set[str], clause_tokens: set[str]) -> float:
        """IDF-weighted share of the question's content words found in the clause; words the
        corpus never uses weigh most, so off-topic questions score low."""
        if not q_tokens:
            return 0.0
        weight = {t: self.idf.get(t, self.unknown_idf) for t in q_tokens}
        total = sum(weight.values())
        return sum(w for t, w in weight.items() if t in clause_tokens) / total

    def lexical(self, text: str, depth: int, numbers: list[str] | None):
        if self.bm25 is None:
            return []
        tokens = [t for t in lexical_tokens(text) if t in self.lex_vocab]
        if not tokens:
            return []
        k = min(len(self.lex_ids), depth * (4 if numbers else 1))
        docs, scores = self.bm25.retrieve([tokens], k=k, show_progress=False)
        results = []
        for index, score in zip(docs[0], scores[0]):
            cid = self.lex_ids[int(index)]
            if score <= 0 or (numbers and cid.split("#")[0] not in numbers):
                continue
            results.append((cid, float(score)))
        return results[:depth]

    def english_lexical(self, question: str, depth: int, numbers: list[str] | None):
        if self.en_bm25 is None:
            return []
        tokens = [w for w in english_stems(question) if "en:" + w in self.english_vocab]
        if not tokens:
            return []
        docs, scores = self.en_bm25.retrieve([tokens], k=min(len(self.en_ids), depth),
                                             show_progress=False)
        return [(self.en_ids[int(i)], float(sc)) for i, sc in zip(docs[0], scores[0])
                if sc > 0 and (not numbers or self.en_ids[int(i)].split("#")[0] in numbers)]


class Retriever:
    """Dense + lexical retrieval fused by RRF; query embeddings cached (they dominate a question)."""

    def __init__(self, store: ClauseStore, cache_size: int = 2048):
        self.store = store
        self._vectors: LRUCache = LRUCache(maxsize=cache_size)
        self._vectors_lock = threading.Lock()

    def query_vector(self, text: str) -> list[float]:
        with self._vectors_lock:
            vector = self._vectors.get(text)
        if vector is None:
            vector = self.store.embedder.embed_query(text)
            with self._vectors_lock:
                self._vectors[text] = vector
        return vector

    def rank(self, snapshot: IndexSnapshot, query: str, top_k: int = 10,
             numbers: list[str] | None = None, expanded: str | None = None) -> Ranked:
        """Fused ranking: list of (clause_id, rrf score, signals)."""
        text = expanded or query
        vector = self.query_vector(text)
        depth = max(top_k * 3, 30)
        signals: dict[str, dict] = {}
        if self.store.server:
            points = self.store.hybrid_search_server(vector, lexical_tokens(text), depth, numbers)
            for point in points:
                cid = snapshot.clause_of_point.get(str(point.id))
                if cid:
                    signals.setdefault(cid, {})["rrf"] = point.score
        else:
            for rank, point in enumerate(self.store.dense_search(vector, depth, numbers)):
                cid = snapshot.clause_of_point.get(str(point.id))
                if cid:
                    signals.setdefault(cid, {}).update(dense=point.score, dense_rank=rank)
            for rank, (cid, score) in enumerate(snapshot.lexical(text, depth, numbers)):
                signals.setdefault(cid, {}).update(bm25=score, bm25_rank=rank)
            if question_language(query) == "en":
                for rank, (cid, score) in enumerate(snapshot.english_lexical(query, depth, numbers)):
                    signals.setdefault(cid, {}).update(en_bm25=score, en_rank=rank)
        q_tokens = snapshot.question_tokens(query, text)
        fused = []
        for cid, s in signals.items():
            score = s.get("rrf", 0.0)
            for rank_key in ("dense_rank", "bm25_rank", "en_rank"):
                if rank_key in s:
                    score += 1.0 / (RRF_K + s[rank_key])
            if cid not in snapshot.clauses:
                continue
            s["overlap"] = snapshot.coverage(q_tokens, snapshot.clause_tokens.get(cid, set()))
            fused.append((cid, score, s))
        fused.sort(key=lambda item: -item[1])
        return fused[:top_k]
