"""The LLM composer: fluent prose over the grounded answer's clauses, verified before use.

The grounded answer is always computed first; the LLM only rewrites it from the same numbered
clauses. Every sentence must cite a supplied clause and carry only numbers, dates and document
numbers found there (service.verify); otherwise the grounded answer is returned, with the
verification outcome reported either way.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from service.schemas import Answer, Verification
from service.verify import verify_answer

MAX_ANSWER_TOKENS = 220          # small models loop on long outputs
MAX_CLAUSE_CHARS = 700           # keep prompts short: per-clause excerpts only


class LLMBusy(RuntimeError):
    """More LLM work than the configured concurrency; the caller should retry later."""

    retry_after = 15


class LLMComposer:
    def __init__(self, llm, max_concurrent: int = 1):
        self.llm = llm
        self.slots = threading.BoundedSemaphore(max_concurrent)

    def _clause_texts(self, engine, answer: Answer) -> dict[int, str]:
        texts = {}
        for citation in answer.citations:
            clause = engine.clauses.get(citation.id)
            text = clause.text if clause else citation.quote
            texts[citation.n] = text[:MAX_CLAUSE_CHARS]
        return texts

    def compose(self, engine, question: str, grounded: Answer,
                on_token=None) -> Answer:
        """Rewrite `grounded` with the LLM; fall back to it when verification fails."""
        if grounded.refused or not grounded.citations:
            return grounded
        if not self.slots.acquire(blocking=False):
            raise LLMBusy("the language model is busy; retry shortly or ask with llm=false")
        try:
            from service.llm import answer_messages, stream_tokens

            texts = self._clause_texts(engine, grounded)
            messages = answer_messages(question, grounded.citations, texts, grounded.language)
            started = time.perf_counter()
            pieces: list[str] = []
            for delta in stream_tokens(self.llm, messages, max_tokens=MAX_ANSWER_TOKENS):
                pieces.append(delta)
                if on_token:
                    on_token(delta)
            elapsed = time.perf_counter() - started
        finally:
            self.slots.release()
        raw = "".join(pieces).strip()
        check = verify_answer(raw, grounded.citations, texts)
        removed = check.n_total - check.n_kept
        timings = {**grounded.timings, "llm_ms": round(elapsed * 1000, 1),
                   "llm_tokens_per_s": round(len(pieces) / elapsed, 2) if elapsed else 0.0}
        if not check.passed:
            note = "; ".join(s.reason for s in check.sentences if s.reason)[:500] or "no usable output"
            return grounded.model_copy(update={
                "verification": Verification(composer="grounded", checked_sentences=check.n_total,
                                             removed_sentences=removed,
                                             forged_markers=check.forged_markers, fell_back=True,
                                             note="LLM answer rejected: " + note),
                "timings": timings})
        used = {m for s in check.sentences if s.ok for m in s.markers}
        citations = [c for c in grounded.citations if c.n in used]
        return grounded.model_copy(update={
            "answer": check.kept_text, "citations": citations,
            "verification": Verification(composer="llm", checked_sentences=check.n_total,
                                         removed_sentences=removed,
                                         forged_markers=check.forged_markers,
                                         note="every kept sentence cites a supplied clause"),
            "timings": timings})


def translate_missing(engine, store, llm, clause_ids: list[str], glossary_vi_en: dict[str, str],
                      progress=None) -> Iterator[tuple[str, str | None]]:
    """Fill the clause translation cache, one clause at a time (short prompts keep small models on task)."""
    from service.verify import translate_clause

    for clause_id in clause_ids:
        clause = engine.clauses[clause_id]
        cached = store.translation(clause_id, clause.text)
        if cached:
            yield clause_id, cached
            continue
        english = translate_clause(llm, clause.text[:1200], glossary_vi_en)
        if english:
            store.put_translation(clause_id, clause.text, english)
        if progress:
            progress(clause_id)
        yield clause_id, english
