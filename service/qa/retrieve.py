"""Retrieval over an immutable index snapshot, through the store's query plan.

`Retriever.rank` sends one `HybridPlan` to the store (dense prefetch + IDF sparse prefetch over
underthesea tokens, payload filter on document numbers, RRF with k=2): the same plan on Qdrant
Edge and on a Qdrant server. Only the fused top-k clauses are then read back from the store
(`retrieve`: their lexical tokens and dense vectors), for the two signals the composer and the
refusal thresholds read: "dense" (cosine of the clause to the question) and "overlap"
(IDF-weighted share of the question's content words the clause contains).

`IndexSnapshot.build(store, previous)` holds what answering needs besides the store: the
documents (their clause tree and texts), commentaries, the small English index over English
renderings, and the document-frequency table behind "overlap". It never keeps the clause
payloads: the document frequencies are counted once from the store and then updated per changed
document on each refresh, keyed like the sparse vectors (crc32 of the token). `refresh` builds a
new snapshot and swaps the reference, so questions never wait on a lock and never see half an
update.
"""
from __future__ import annotations

import logging
import math
import re
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from cachetools import LRUCache

from ingest.commentary import english_rendering
from ingest.model import Clause, Commentary, Document
from ingest.parse import actor_table
from service.qa.render import lexicon_matches
from service.qa.understand import question_language
from service.store import (DENSE, ClauseStore, HybridPlan, PayloadFilter, SparseQuery, lexical_tokens,
                           point_id, text_words)

# The English-renderings channel covers only clauses that have English; at full weight it lets
# documents with an English version outrank the Vietnamese clause an English question is about.
ENGLISH_WEIGHT = 0.5
AGREEMENT_DEPTH = 3      # a single ranking agrees when the fused top document is in its top 3
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
_RETRIEVE_BATCH = 256

Ranked = list[tuple[str, float, dict]]   # (clause id, fused score, signals), best first


def english_stems(text: str) -> list[str]:
    """Lowercase English content words with a plural 's' removed (enough for matching)."""
    words = re.findall(r"[a-z]{3,}", text.lower())
    return [w[:-1] if w.endswith("s") and not w.endswith("ss") else w for w in words if w not in STOPWORDS]


def content_tokens(tokens: list[str]) -> set[str]:
    return {t for t in tokens if t not in STOPWORDS and not t.isdigit() and len(t) > 1}


def term_id(token: str) -> int:
    """A token's key in the sparse vectors and in the document-frequency table."""
    return zlib.crc32(token.encode()) & 0x7FFFFFFF


class IdfTable(Mapping):
    """IDF of a token, log(1 + N / df), from document frequencies keyed by `term_id`; a mapping
    over token strings (the composer weighs words with `idf.get(token, unknown_idf)`)."""

    _MEMO_LIMIT = 65536

    def __init__(self, frequencies: Mapping[int, int], english: Mapping[int, int], clauses: int):
        self._df, self._english, self.n = frequencies, english, max(1, clauses)
        self._memo: dict[str, float | None] = {}     # token → IDF: a question weighs its words per clause

    def frequency(self, token: str) -> int:
        key = term_id(token)
        return self._df.get(key, 0) + self._english.get(key, 0)

    def _idf(self, token: str) -> float | None:
        try:
            return self._memo[token]
        except KeyError:
            df = self.frequency(token)
            value = math.log(1 + self.n / df) if df else None
            if len(self._memo) >= self._MEMO_LIMIT:
                self._memo.clear()
            self._memo[token] = value
            return value

    def __getitem__(self, token: str) -> float:
        value = self._idf(token)
        if value is None:
            raise KeyError(token)
        return value

    def get(self, token: str, default=None):
        value = self._idf(token)
        return default if value is None else value

    def __iter__(self):
        raise TypeError("IdfTable is keyed by token hashes; look tokens up with get()")

    def __len__(self) -> int:
        return len(self._df) + len(self._english)


@dataclass(frozen=True)
class TermStatistics:
    """Clause-level document frequency of every lexical term in the clause collection.

    `per_document` keeps, for each document (number → content hash, term ids of its clauses,
    each clause's unique ids concatenated), what it added to `df`, so a refresh re-reads only
    the clause points of documents whose record changed and subtracts what removed ones added.
    About 4 bytes per (clause, distinct term): ≈ 15 MB at 100k clauses."""

    df: dict[int, int]
    per_document: dict[str, tuple[str, np.ndarray]]
    clauses: int

    @classmethod
    def count(cls, store: ClauseStore, documents: Mapping[str, Document],
              previous: "TermStatistics | None" = None) -> "TermStatistics":
        df: Counter = Counter(previous.df) if previous else Counter()
        per_document = dict(previous.per_document) if previous else {}
        clauses = previous.clauses if previous else 0
        version = {n: (d.content_hash or "") + f":{len(d.clauses)}" for n, d in documents.items()}
        stale = [n for n, (v, _) in per_document.items() if version.get(n) != v]
        for number in stale:
            _, ids = per_document.pop(number)
            df.subtract(ids.tolist())
            clauses -= _clause_count(ids)
        wanted = [n for n in documents if n not in per_document]
        if previous is None:
            found = _scan_terms(store)
        else:
            point_ids = [point_id(c.id) for n in wanted for c in documents[n].clauses]
            found = _retrieve_terms(store, point_ids)
        for number in wanted:
            ids = found.get(number)
            if ids is None:
                ids = np.zeros(0, dtype=np.int64)
            per_document[number] = (version[number], ids)
            df.update(ids[ids >= 0].tolist())
            clauses += _clause_count(ids)
        return cls({k: v for k, v in df.items() if v > 0}, per_document, clauses)


def _clause_count(ids: np.ndarray) -> int:
    return int((ids < 0).sum())        # one -1 separator closes each clause


def _terms_of(records: Iterable) -> dict[str, np.ndarray]:
    by_document: dict[str, list[int]] = {}
    for record in records:
        number = record.payload.get("number")
        tokens = record.payload.get("bm25_tokens") or []
        ids = by_document.setdefault(number, [])
        ids.extend({term_id(t) for t in tokens})
        ids.append(-1)
    return {n: np.asarray(ids, dtype=np.int64) for n, ids in by_document.items()}


def _scan_terms(store: ClauseStore) -> dict[str, np.ndarray]:
    return _terms_of(store.iter_clauses())


def _retrieve_terms(store: ClauseStore, point_ids: list[str]) -> dict[str, np.ndarray]:
    records = []
    for start in range(0, len(point_ids), _RETRIEVE_BATCH):
        records.extend(store.retrieve_clauses(point_ids[start:start + _RETRIEVE_BATCH]))
    return _terms_of(records)


class ClauseTokens(Mapping):
    """Lexical tokens of a clause, read from the store on demand (Vietnamese underthesea tokens
    plus "en:" words of its English rendering): `tokens.get(clause_id, set())`."""

    def __init__(self, store: ClauseStore, english_words: Mapping[str, set[str]],
                 clauses: Mapping[str, Clause]):
        self._store, self._english, self._clauses = store, english_words, clauses
        self._cache: LRUCache = LRUCache(maxsize=4096)
        self._lock = threading.Lock()

    def many(self, clause_ids: list[str]) -> dict[str, set[str]]:
        with self._lock:
            found = {cid: self._cache[cid] for cid in clause_ids if cid in self._cache}
        missing = [cid for cid in clause_ids if cid not in found and cid in self._clauses]
        if missing:
            records = self._store.retrieve_clauses([point_id(cid) for cid in missing])
            fetched = {r.payload.get("clause_id"): r.payload.get("bm25_tokens") or [] for r in records}
            with self._lock:
                for cid in missing:
                    tokens = set(fetched.get(cid, [])) | self._english.get(cid, set())
                    self._cache[cid] = found[cid] = tokens
        return found

    def __getitem__(self, clause_id: str) -> set[str]:
        found = self.many([clause_id])
        if clause_id not in found:
            raise KeyError(clause_id)
        return found[clause_id]

    def __iter__(self):
        return iter(self._clauses)

    def __len__(self) -> int:
        return len(self._clauses)


@dataclass(frozen=True)
class IndexSnapshot:
    """Everything a question reads besides the store, built once per refresh and never mutated
    afterwards."""

    documents: dict[str, Document]
    commentaries: list[Commentary]
    clauses: dict[str, Clause]
    terms: TermStatistics
    idf: IdfTable
    unknown_idf: float                      # a word the corpus never uses
    clause_tokens: ClauseTokens             # read from the store for the clauses asked about
    english_words: dict[str, set[str]]      # "en:" words of each clause with an English rendering
    en_ids: list[str]
    en_bm25: object | None
    english_vocab: frozenset[str]
    english_texts: dict[str, str] = field(default_factory=dict)
    title_tokens: dict[str, set[str]] = field(default_factory=dict)   # number → kind/issuer/subject

    @classmethod
    def build(cls, store: ClauseStore, previous: "IndexSnapshot | None" = None) -> "IndexSnapshot":
        """The snapshot of the store now; with `previous`, only documents whose record changed
        are re-read for their term statistics and title tokens."""
        documents = {d.number: d for d in store.answering_documents()}
        commentaries = store.commentaries()
        clauses = {c.id: c for d in documents.values() for c in d.clauses}
        terms = TermStatistics.count(store, documents, previous.terms if previous else None)

        # English renderings (aligned commentary, translation cache) as a small in-process
        # index: English questions then match English words, not only glossary terms.
        texts: dict[str, str] = {}
        # Official English (a document published in English, or an English version merged into
        # its clauses) is an English rendering like any other: English words are matched here,
        # not in the store's lexical index, so English-language documents get no edge there.
        for document in documents.values():
            for clause in document.clauses:
                official = clause.text if document.language == "en" else clause.text_en
                if official:
                    texts[clause.id] = official
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
        english_df = Counter(term_id(w) for words in english_words.values() for w in words)
        en_ids = list(texts)
        en_bm25 = None
        if texts:
            import bm25s

            logging.getLogger("bm25s").setLevel(logging.WARNING)   # it logs each build at DEBUG
            en_bm25 = bm25s.BM25()
            en_bm25.index([sorted(english_stems(texts[cid])) or ["_"] for cid in en_ids],
                          show_progress=False)

        old_titles = previous.title_tokens if previous else {}
        title_tokens = {}
        for number, document in documents.items():
            old = previous.documents.get(number) if previous else None
            if old is not None and number in old_titles and _title(old) == _title(document):
                title_tokens[number] = old_titles[number]
                continue
            title = _title(document)
            title_tokens[number] = set(lexical_tokens(title)) | {"en:" + w for w in english_stems(title)}
        n = max(1, terms.clauses)
        return cls(
            documents=documents, commentaries=commentaries, clauses=clauses, terms=terms,
            idf=IdfTable(terms.df, english_df, n), unknown_idf=float(np.log(1 + n)),
            clause_tokens=ClauseTokens(store, english_words, clauses), english_words=english_words,
            en_ids=en_ids, en_bm25=en_bm25,
            english_vocab=frozenset().union(*english_words.values()) if english_words else frozenset(),
            english_texts=texts, title_tokens=title_tokens)

    # ------------------------------------------------------------ lexical evidence
    def question_tokens(self, question: str, expanded: str) -> set[str]:
        """Content tokens that can be checked against Vietnamese clauses: for an English question
        only its glossary expansion counts (English words never occur in the clauses)."""
        if question_language(question) == "en":
            added = expanded[len(question):] if expanded.startswith(question) else ""
            tokens = content_tokens(text_words(added)) if added.strip() else set()
            # English words the lexicon could not map stay in as evidence we cannot check.
            unmapped = question.lower()
            for match in reversed(lexicon_matches(unmapped)):
                unmapped = unmapped[:match.start()] + " " + unmapped[match.end():]
            for actor in actor_table():
                for pattern in actor.patterns:
                    unmapped = pattern.sub(" ", unmapped)
            tokens |= {"en:" + w for w in english_stems(unmapped)}
            return tokens
        return content_tokens(text_words(expanded))

    def coverage(self, q_tokens: set[str], clause_tokens: set[str]) -> float:
        """IDF-weighted share of the question's content words found in the clause; words the
        corpus never uses weigh most, so off-topic questions score low."""
        if not q_tokens:
            return 0.0
        weight = {t: self.idf.get(t, self.unknown_idf) for t in q_tokens}
        total = sum(weight.values())
        return sum(w for t, w in weight.items() if t in clause_tokens) / total

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


def lexical_query(question: str, expanded: str) -> str:
    """What the store's lexical index is asked: for an English question, its Vietnamese
    renderings and the document numbers it names; its English words go to the English index
    (the clauses are Vietnamese, and matching them there would favour English-language documents)."""
    if question_language(question) != "en" or not expanded.startswith(question):
        return expanded
    numbers = " ".join(m.group(0) for m in re.finditer(r"\b\d{1,5}/(?:\d{4}/)?[A-ZĐa-zđ\-.]+", question))
    return " ".join(f"{numbers} {expanded[len(question):]}".split())


def _title(document: Document) -> str:
    return " ".join(filter(None, [document.kind, document.number, document.issuer, document.subject]))


class Retriever:
    """One store query plan per question (dense + IDF sparse, fused by RRF in the store), plus
    the in-process English index for English questions; query embeddings cached (they dominate
    a question)."""

    english_index = True      # fuse the English-rendering ranking into English questions

    def __init__(self, store: ClauseStore, cache_size: int = 2048):
        self.store = store
        self._vectors: LRUCache = LRUCache(maxsize=cache_size)
        self._vectors_lock = threading.Lock()
        self._calls = threading.local()        # per thread: seconds inside store calls

    def store_ms(self) -> float:
        """Wall time this thread's last `rank` spent inside store calls (Edge holds the GIL
        for each of them; the load test reports the share)."""
        return round(getattr(self._calls, "seconds", 0.0) * 1000, 2)

    def query_vector(self, text: str) -> list[float]:
        with self._vectors_lock:
            vector = self._vectors.get(text)
        if vector is None:
            vector = self.store.embedder.embed_query(text)
            with self._vectors_lock:
                self._vectors[text] = vector
        return vector

    def plan(self, text: str, vector: list[float], top_k: int,
             numbers: list[str] | None = None) -> HybridPlan:
        """The store query for a question: both prefetches `max(3 × top_k, 30)` deep, as deep as
        the in-process fusion this replaced."""
        depth = max(top_k * 3, 30)
        tokens = lexical_tokens(text)
        return HybridPlan(limit=depth, dense=vector,
                          sparse=SparseQuery.from_tokens(tokens) if tokens else None,
                          prefetch_limit=depth, rrf_k=RRF_K,
                          filter=PayloadFilter(numbers=numbers or ()))

    def agreement(self, snapshot: IndexSnapshot, query: str, expanded: str | None, document: str) -> int:
        """How many of the single rankings fused for a question (dense, sparse, and the English
        index for an English question) have `document` among their AGREEMENT_DEPTH best clauses.
        A question the corpus answers tends to find its document by meaning and by words alike;
        an off-topic one is matched by each ranking to a different document."""
        text = expanded or query
        plan = self.plan(lexical_query(query, text), self.query_vector(text), AGREEMENT_DEPTH)
        plans = [replace(plan, sparse=None, limit=AGREEMENT_DEPTH)]
        if plan.sparse is not None:
            plans.append(replace(plan, dense=None, limit=AGREEMENT_DEPTH))
        agreeing = 0
        for single in plans:
            hits = self.store.hybrid_search(single)[:AGREEMENT_DEPTH]
            records = self.store.retrieve_clauses([h.id for h in hits])
            agreeing += any((r.payload.get("clause_id") or "").split("#")[0] == document for r in records)
        if self.english_index and question_language(query) == "en":
            agreeing += any(cid.split("#")[0] == document
                            for cid, _ in snapshot.english_lexical(query, AGREEMENT_DEPTH, None))
        return agreeing

    def rank(self, snapshot: IndexSnapshot, query: str, top_k: int = 10,
             numbers: list[str] | None = None, expanded: str | None = None) -> Ranked:
        """Fused ranking: list of (clause_id, rrf score, signals {"dense", "overlap", ...})."""
        text = expanded or query
        vector = self.query_vector(text)
        plan = self.plan(lexical_query(query, text), vector, top_k, numbers)
        started = time.perf_counter()
        hits = self.store.hybrid_search(plan)
        in_store = time.perf_counter() - started
        scores = {hit.id: (hit.score if plan.fused else 1.0 / (RRF_K + rank))
                  for rank, hit in enumerate(hits)}
        english: dict[str, int] = {}
        if self.english_index and question_language(query) == "en":
            for rank, (cid, _) in enumerate(snapshot.english_lexical(query, plan.limit, numbers)):
                english[point_id(cid)] = rank
                scores[point_id(cid)] = scores.get(point_id(cid), 0.0) + ENGLISH_WEIGHT / (RRF_K + rank)
        # RRF ties are common (ranks 0+3 and 3+0 score alike) and Qdrant orders them by internal
        # offsets, which a re-upload of the same document changes: break them by point ID, so
        # the same corpus always gives the same ranking.
        best = sorted(scores, key=lambda pid: (-round(scores[pid], 9), pid))[:top_k]
        started = time.perf_counter()
        records = {r.id: r for r in self.store.retrieve_clauses(best, with_vectors=True)}
        self._calls.seconds = in_store + time.perf_counter() - started
        q = np.asarray(vector, dtype=np.float32)
        q /= np.linalg.norm(q) or 1.0
        q_tokens = snapshot.question_tokens(query, text)
        fused = []
        for pid in best:
            record = records.get(pid)
            cid = record.payload.get("clause_id") if record else None
            if cid not in snapshot.clauses:
                continue
            dense = np.asarray(record.vector[DENSE], dtype=np.float32)
            signals = {"dense": float(q @ dense / (np.linalg.norm(dense) or 1.0))}
            if pid in english:
                signals["en_rank"] = english[pid]
            tokens = set(record.payload.get("bm25_tokens") or ()) | snapshot.english_words.get(cid, set())
            signals["overlap"] = snapshot.coverage(q_tokens, tokens)
            fused.append((cid, scores[pid], signals))
        return fused
