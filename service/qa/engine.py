"""The answering engine: a small facade over understand → retrieve → support → compose.

State lives in one immutable `IndexSnapshot`; `refresh()` builds the next one and swaps the
reference, so any number of questions run at once and each sees one consistent corpus.
"""
from __future__ import annotations

import threading
import time
import unicodedata

from ingest.model import Clause, Commentary, Document
from ingest.vocab import normalise_number, restore_diacritics
from service.qa.compose import GroundedComposer, ambiguous, refuse_missing
from service.qa.retrieve import IndexSnapshot, Ranked, Retriever
from service.qa.understand import Query, understand
from service.schemas import Answer, Hit, Turn
from service.store import ClauseStore, DocumentNotFound

DOCUMENT_DEPTH = 30


class AmbiguousDocument(LookupError):
    """A bare number ("3476") that several stored documents share."""

    def __init__(self, number: str, matches: list[str]):
        super().__init__(number)
        self.number, self.matches = number, matches

    def __str__(self) -> str:
        return (f"document number {self.number!r} is ambiguous: it matches "
                f"{', '.join(self.matches)}; give the full number")


class Engine:
    def __init__(self, store: ClauseStore, default_top_k: int = 8):
        self.store = store
        self.default_top_k = default_top_k
        self.retriever = Retriever(store)
        self._refresh_lock = threading.Lock()     # serialises rebuilds, never held by readers
        self.snapshot: IndexSnapshot = IndexSnapshot.build(store)

    # ------------------------------------------------------------ index state
    def refresh(self) -> None:
        """Build the next snapshot from the store (term statistics re-read only for documents
        whose record changed) and swap it in (one reference assignment)."""
        with self._refresh_lock:
            self.snapshot = IndexSnapshot.build(self.store, previous=self.snapshot)

    @property
    def documents(self) -> dict[str, Document]:
        return self.snapshot.documents

    @property
    def clauses(self) -> dict[str, Clause]:
        return self.snapshot.clauses

    @property
    def commentaries(self) -> list[Commentary]:
        return self.snapshot.commentaries

    # ------------------------------------------------------------ stages
    def understand(self, question: str, lang: str | None = None, history: list[Turn] | None = None,
                   snapshot: IndexSnapshot | None = None) -> Query:
        return understand(question, lang, history or [], (snapshot or self.snapshot).documents)

    def rank(self, query: str, top_k: int = 10, numbers: list[str] | None = None,
             expanded: str | None = None, snapshot: IndexSnapshot | None = None) -> Ranked:
        return self.retriever.rank(snapshot or self.snapshot, query, top_k, numbers, expanded)

    def search(self, query: str, top_k: int = 10) -> list[Hit]:
        snapshot = self.snapshot
        understood = self.understand(query, None, [], snapshot)
        ranked = self.rank(query, top_k, understood.numbers or None, understood.expanded, snapshot)
        hits = []
        for cid, score, _ in ranked:
            clause = snapshot.clauses[cid]
            document = snapshot.documents[clause.doc]
            hits.append(Hit(id=cid, doc=clause.doc, path=clause.path, label_vi=clause.label_vi,
                            label_en=clause.label_en, text=clause.text, score=round(score, 6),
                            kind=document.kind, issued=document.issued))
        return hits

    def ask(self, question: str, lang: str | None = None, history: list[Turn] | None = None,
            top_k: int | None = None) -> Answer:
        started = time.perf_counter()
        snapshot = self.snapshot          # one corpus view for the whole question
        query = self.understand(question, lang, history, snapshot)
        timings = {"understand_ms": _ms(started)}
        if query.missing and not query.numbers:
            answer = refuse_missing(query, snapshot.documents)
        elif query.candidates and not query.numbers:
            answer = ambiguous(query)
        else:
            t = time.perf_counter()
            depth = top_k or self.default_top_k
            if query.intent == "documents" and not query.numbers:
                depth = max(depth, DOCUMENT_DEPTH)      # documents are ranked from many clauses
            ranked = self.rank(question, depth, query.numbers or None, query.expanded, snapshot)
            timings["retrieve_ms"] = _ms(t)
            timings["store_ms"] = self.retriever.store_ms()     # inside Edge / the server
            def agreement() -> int:
                return self.retriever.agreement(snapshot, question, query.expanded, ranked[0][0].split("#")[0])
            answer = GroundedComposer(snapshot, self.store).compose(question, query, ranked, agreement)
        answer.timings = {**timings, "total_ms": _ms(started)}
        return answer

    # ------------------------------------------------------------ documents
    def document(self, number: str) -> Document:
        """By full number (spacing, case and ASCII spellings forgiven), or by a bare number
        ("3476") when exactly one document has it."""
        documents = self.snapshot.documents
        wanted = unicodedata.normalize("NFC", number.strip())
        if wanted in documents:
            return documents[wanted]
        normalised = restore_diacritics(normalise_number(wanted)) if wanted else ""
        if normalised in documents:
            return documents[normalised]
        matches = sorted(n for n in documents
                         if n.split("/")[0] == wanted or n.casefold() == normalised.casefold())
        if len(matches) == 1:
            return documents[matches[0]]
        if len(matches) > 1:
            raise AmbiguousDocument(number, matches)
        raise DocumentNotFound(number)

    def clause(self, clause_id: str) -> Clause:
        clause_id = unicodedata.normalize("NFC", clause_id)
        if clause_id not in self.snapshot.clauses:
            raise KeyError(clause_id)
        return self.snapshot.clauses[clause_id]


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
