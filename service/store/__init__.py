"""The store: clauses, documents, commentaries and meta behind one interface (`ClauseStore`),
with two adapters: Qdrant Edge in process (the embedded default, `STORE/edge`) and qdrant-client
(a Qdrant server with `DQA_QDRANT_URL`; local mode only to migrate old stores)."""
from __future__ import annotations

from pathlib import Path

from service.store.base import (CLAUSES, DOCUMENTS, META, ClauseStore, DocumentNotFound,
                                EmbedderMismatch, IntegrityReport, StoredPoint, StoreLocked,
                                StoreNeedsMigration, StoreUnavailable)
from service.store.clauses import (clause_node, defined_abbreviations, embedding_text,
                                   lexical_tokens, point_id, text_words)
from service.store.embedders import Embedder, build_embedder
from service.store.plan import DENSE, SPARSE, Hit, HybridPlan, PayloadFilter, Record, SparseQuery

__all__ = ["CLAUSES", "DENSE", "DOCUMENTS", "META", "SPARSE", "ClauseStore", "DocumentNotFound",
           "Embedder", "EmbedderMismatch", "Hit", "HybridPlan", "IntegrityReport", "PayloadFilter",
           "Record", "SparseQuery", "StoreLocked", "StoreNeedsMigration", "StoreUnavailable",
           "StoredPoint", "build_embedder", "clause_node", "defined_abbreviations",
           "embedding_text", "lexical_tokens", "open_store", "point_id", "sparse_vector", "text_words"]


def open_store(settings, embedder: Embedder | None = None) -> ClauseStore:
    """The store the settings describe: a Qdrant server when `qdrant_url` is set, else Qdrant
    Edge in `settings.store`."""
    embedder = embedder or build_embedder(settings.embedder, settings.embed_model)
    return ClauseStore(Path(settings.store), embedder, settings.qdrant_url, settings.qdrant_api_key)


def sparse_vector(tokens: list[str]) -> SparseQuery:
    """Term-count sparse vector of lexical tokens (indices: crc32 of each token)."""
    return SparseQuery.from_tokens(tokens)
