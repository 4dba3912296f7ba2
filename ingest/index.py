"""The clause index: llama-index TextNodes in Qdrant (embedded local mode or a server).

Every clause is one point with a deterministic ID (uuid5 of its citation ID), a dense
vector of the clause in context and a BM25-style sparse vector (IDF applied by Qdrant).
Documents, commentaries and the translation cache live in side collections, so a Qdrant
server holds the whole state and local mode is just a configuration choice.
"""
from __future__ import annotations

import hashlib
import re
import threading
import uuid
import zlib
from collections import Counter
from pathlib import Path

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
from pydantic import BaseModel, Field
from qdrant_client import QdrantClient, models

from ingest.embedders import Embedder
from ingest.model import SCHEMA_VERSION, Clause, Commentary, Document

CLAUSES = "dqa_clauses"
DOCUMENTS = "dqa_documents"
META = "dqa_meta"
DENSE = "dense"
SPARSE = "bm25"
_NAMESPACE = uuid.UUID("6f1d0f5e-8a43-4f3e-9a57-3d1c2b7e5a10")
_STUB = [1.0]


class StoreLocked(RuntimeError):
    """Another process holds the embedded store."""


class EmbedderMismatch(RuntimeError):
    """The collection was indexed with another embedder."""


class DocumentNotFound(KeyError):
    def __init__(self, number: str):
        super().__init__(number)
        self.number = number

    def __str__(self) -> str:
        return f"document {self.number} is not in the corpus"


def point_id(key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, key))


_ABBREVIATION_RE = re.compile(r"((?:[^\W\d_]+\s+){1,7}?)\(([A-ZĐ]{2,8})\)")


def defined_abbreviations(text: str) -> dict[str, str]:
    """Abbreviations a document defines, e.g. "bảo hiểm y tế (BHYT)" → {"BHYT": "bảo hiểm y tế"}:
    the long form is the run of words whose initials spell the abbreviation."""
    found: dict[str, str] = {}
    for m in _ABBREVIATION_RE.finditer(text):
        words, short = m.group(1).split(), m.group(2)
        for size in range(len(short), 0, -1):
            tail = words[-size:]
            initials = "".join(w[0] for w in tail).upper().replace("Đ", "D")
            if len(tail) == size and initials == short.replace("Đ", "D"):
                found.setdefault(short, " ".join(tail).lower())
                break
    return found


def lexical_tokens(text: str, abbreviations: dict[str, str] | None = None) -> list[str]:
    """Underthesea word segmentation, lowercased; document numbers kept whole and by number;
    abbreviations also contribute their long form (BHYT → bảo hiểm y tế)."""
    from underthesea import word_tokenize

    if abbreviations:
        extra = [long for short, long in abbreviations.items() if re.search(rf"\b{short}\b", text)]
        if extra:
            text = text + "\n" + " . ".join(extra)
    tokens = [t.lower().replace(" ", "_") for t in word_tokenize(text)
              if any(ch.isalnum() for ch in t)]
    for m in re.finditer(r"\b(\d{1,5})/(?:\d{4}/)?[A-ZĐa-zđ\-]+", text):
        tokens.append(m.group(0).lower())
        tokens.append(m.group(1))
    return tokens


def sparse_vector(tokens: list[str]) -> models.SparseVector:
    counts = Counter(zlib.crc32(t.encode()) & 0x7FFFFFFF for t in tokens)
    indices = sorted(counts)
    return models.SparseVector(indices=indices, values=[float(counts[i]) for i in indices])


def _words(text: str, limit: int) -> str:
    return " ".join(text.split()[:limit])


def embedding_text(document: Document, clause: Clause) -> str:
    """The clause in context (number, kind, subject, parent lead-in); the stored text stays verbatim.

    Word caps keep the small embedder fast; the lexical index sees the full clause.
    """
    parts = [f"{document.kind or ''} {document.number}", _words(document.subject or "", 20)]
    if clause.parent:
        try:
            parts.append(_words(document.clause(clause.parent).text, 40))
        except KeyError:
            pass
    parts.append(_words(clause.text, 160))
    return "\n".join(p for p in parts if p.strip())


def clause_node(document: Document, clause: Clause) -> TextNode:
    node = TextNode(
        id_=point_id(clause.id), text=clause.text,
        metadata={
            "clause_id": clause.id, "number": document.number, "path": clause.path,
            "label_vi": clause.label_vi, "label_en": clause.label_en,
            "kind": document.kind, "issued": document.issued.isoformat() if document.issued else None,
            "issuer": document.issuer, "actors": clause.actors,
            "deadlines": [d.date.isoformat() for d in clause.deadlines],
            "parent": clause.parent, "children": clause.children,
            "content_hash": document.content_hash,
        },
        excluded_embed_metadata_keys=["content_hash", "children", "parent"],
    )
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=point_id("doc:" + document.number))
    if clause.parent:
        node.relationships[NodeRelationship.PARENT] = RelatedNodeInfo(
            node_id=point_id(f"{document.number}#{clause.parent}"))
    if clause.children:
        node.relationships[NodeRelationship.CHILD] = [
            RelatedNodeInfo(node_id=point_id(f"{document.number}#{child}")) for child in clause.children]
    return node


class ClauseStore:
    """One per process: local mode holds an exclusive lock on the store folder."""

    def __init__(self, store_dir: Path, embedder: Embedder, url: str | None = None,
                 api_key: str | None = None):
        self.embedder = embedder
        self.server = bool(url)
        self.lock = threading.RLock()
        if url:
            self.client = QdrantClient(url=url, api_key=api_key, timeout=30)
        else:
            store_dir.mkdir(parents=True, exist_ok=True)
            try:
                self.client = QdrantClient(path=str(store_dir / "qdrant"))
            except (RuntimeError, BlockingIOError) as error:
                if "already accessed" in str(error) or "lock" in str(error).lower() \
                        or isinstance(error, BlockingIOError):
                    raise StoreLocked(
                        f"the store {store_dir} is open in another process (Qdrant local mode "
                        "allows one); use the running service's API (dqa --url ...) or point "
                        "DQA_QDRANT_URL at a Qdrant server") from None
                raise
        self._ensure_collections()

    # ------------------------------------------------------------ setup
    def _ensure_collections(self) -> None:
        existing = {c.name for c in self.client.get_collections().collections}
        if CLAUSES not in existing:
            self.client.create_collection(
                CLAUSES,
                vectors_config={DENSE: models.VectorParams(size=self.embedder.dim,
                                                           distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )
            if self.server:
                for field, schema in (("number", models.PayloadSchemaType.KEYWORD),
                                      ("kind", models.PayloadSchemaType.KEYWORD),
                                      ("issued", models.PayloadSchemaType.KEYWORD),
                                      ("actors", models.PayloadSchemaType.KEYWORD)):
                    self.client.create_payload_index(CLAUSES, field, field_schema=schema)
        for name in (DOCUMENTS, META):
            if name not in existing:
                self.client.create_collection(
                    name, vectors_config=models.VectorParams(size=1, distance=models.Distance.DOT))
        identity = self.get_meta("embedder")
        if identity is None:
            self.put_meta("embedder", {"identity": self.embedder.identity, "dim": self.embedder.dim,
                                       "schema": SCHEMA_VERSION})
        elif identity.get("identity") != self.embedder.identity:
            raise EmbedderMismatch(
                f"this store was indexed with {identity.get('identity')} but the configured "
                f"embedder is {self.embedder.identity}; set DQA_EMBEDDER back, or re-index into a "
                "fresh store (dqa --store NEW ingest ...)")

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ meta and cache
    def get_meta(self, key: str) -> dict | None:
        points = self.client.retrieve(META, [point_id("meta:" + key)], with_payload=True)
        return points[0].payload.get("value") if points else None

    def put_meta(self, key: str, value: dict) -> None:
        self.client.upsert(META, [models.PointStruct(id=point_id("meta:" + key), vector=_STUB,
                                                     payload={"key": key, "value": value})])

    def translation(self, clause_id: str, text: str) -> str | None:
        value = self.get_meta(f"translation:{clause_id}:{_hash(text)}")
        return value.get("en") if value else None

    def put_translation(self, clause_id: str, text: str, english: str) -> None:
        self.put_meta(f"translation:{clause_id}:{_hash(text)}",
                      {"clause_id": clause_id, "en": english, "source": "machine"})

    # ------------------------------------------------------------ writes
    def upsert_document(self, document: Document) -> int:
        """Write a document and its clauses; stale clauses of an earlier version are removed."""
        with self.lock:
            nodes = [clause_node(document, clause) for clause in document.clauses]
            abbreviations = defined_abbreviations(document.source.repaired_text)
            vectors = self.embedder.embed_passages(
                [embedding_text(document, clause) for clause in document.clauses])
            points = []
            for node, clause, vector in zip(nodes, document.clauses, vectors):
                payload = node_to_metadata_dict(node, remove_text=False, flat_metadata=False)
                payload.update(node.metadata)
                tokens = lexical_tokens(f"{document.number} {clause.text}", abbreviations)
                payload["bm25_tokens"] = tokens
                points.append(models.PointStruct(
                    id=node.node_id, payload=payload,
                    vector={DENSE: vector, SPARSE: sparse_vector(tokens)}))
            if points:
                self.client.upsert(CLAUSES, points, wait=True)
            keep = {p.id for p in points}
            stale = [p.id for p in self._clause_points(document.number) if str(p.id) not in keep]
            if stale:
                self.client.delete(CLAUSES, models.PointIdsList(points=stale), wait=True)
            self.client.upsert(DOCUMENTS, [models.PointStruct(
                id=point_id("doc:" + document.number), vector=_STUB,
                payload={"type": "document", "number": document.number,
                         "document": document.model_dump(mode="json")})], wait=True)
            return len(points)

    def upsert_commentary(self, commentary: Commentary) -> None:
        with self.lock:
            self.client.upsert(DOCUMENTS, [models.PointStruct(
                id=point_id("commentary:" + commentary.id), vector=_STUB,
                payload={"type": "commentary", "number": commentary.id,
                         "commentary": commentary.model_dump(mode="json")})], wait=True)

    def remove_document(self, number: str) -> int:
        with self.lock:
            points = self._clause_points(number)
            try:
                self.get_document(number)
            except DocumentNotFound:
                if not points:
                    raise
                # Orphan clause points of an interrupted ingest: remove them too.
            if points:
                self.client.delete(CLAUSES, models.PointIdsList(points=[p.id for p in points]), wait=True)
            self.client.delete(DOCUMENTS, models.PointIdsList(points=[point_id("doc:" + number)]),
                               wait=True)
            return len(points)

    # ------------------------------------------------------------ reads
    def _clause_points(self, number: str):
        flt = models.Filter(must=[models.FieldCondition(key="number",
                                                        match=models.MatchValue(value=number))])
        return self._scroll(CLAUSES, flt, with_vectors=False)

    def _scroll(self, collection: str, flt=None, with_vectors=False):
        points, offset = [], None
        while True:
            batch, offset = self.client.scroll(collection, scroll_filter=flt, limit=512,
                                               offset=offset, with_payload=True,
                                               with_vectors=with_vectors)
            points.extend(batch)
            if offset is None:
                return points

    def documents(self) -> list[Document]:
        flt = models.Filter(must=[models.FieldCondition(key="type",
                                                        match=models.MatchValue(value="document"))])
        docs = [Document.model_validate(p.payload["document"]) for p in self._scroll(DOCUMENTS, flt)]
        return sorted(docs, key=lambda d: (d.issued.isoformat() if d.issued else "", d.number))

    def commentaries(self) -> list[Commentary]:
        flt = models.Filter(must=[models.FieldCondition(key="type",
                                                        match=models.MatchValue(value="commentary"))])
        return [Commentary.model_validate(p.payload["commentary"]) for p in self._scroll(DOCUMENTS, flt)]

    def get_document(self, number: str) -> Document:
        points = self.client.retrieve(DOCUMENTS, [point_id("doc:" + number)], with_payload=True)
        if not points:
            raise DocumentNotFound(number)
        return Document.model_validate(points[0].payload["document"])

    def clause_payloads(self, with_vectors: bool = False):
        return self._scroll(CLAUSES, with_vectors=with_vectors)

    def node(self, payload: dict) -> TextNode:
        return metadata_dict_to_node(payload)

    def dense_search(self, vector: list[float], limit: int, numbers: list[str] | None = None):
        flt = None
        if numbers:
            flt = models.Filter(must=[models.FieldCondition(key="number",
                                                            match=models.MatchAny(any=numbers))])
        return self.client.query_points(CLAUSES, query=vector, using=DENSE, limit=limit,
                                        query_filter=flt, with_payload=False).points

    def hybrid_search_server(self, vector: list[float], tokens: list[str], limit: int,
                             numbers: list[str] | None = None):
        """Server-side fusion (Query API prefetch + RRF); used when a Qdrant server is configured."""
        flt = None
        if numbers:
            flt = models.Filter(must=[models.FieldCondition(key="number",
                                                            match=models.MatchAny(any=numbers))])
        return self.client.query_points(
            CLAUSES,
            prefetch=[models.Prefetch(query=vector, using=DENSE, limit=limit * 4, filter=flt),
                      models.Prefetch(query=sparse_vector(tokens), using=SPARSE, limit=limit * 4,
                                      filter=flt)],
            query=models.FusionQuery(fusion=models.Fusion.RRF), limit=limit, with_payload=False).points

    # ------------------------------------------------------------ integrity
    def check_integrity(self) -> "IntegrityReport":
        """Cross-check clause points against document records (after a crash, a kill or a bug).

        upsert_document writes clause points, then drops stale ones, then the document record,
        so an interrupted write leaves clause points without (or ahead of) their document
        record; re-running the same ingest converges to the clean state."""
        with self.lock:
            flt = models.Filter(must=[models.FieldCondition(
                key="type", match=models.MatchValue(value="document"))])
            documents: dict[str, dict] = {}
            for p in self._scroll(DOCUMENTS, flt):
                doc = p.payload.get("document") or {}
                documents[doc.get("number", p.payload.get("number"))] = {
                    "sha256": (doc.get("source") or {}).get("sha256"),
                    "clauses": [c.get("id") for c in doc.get("clauses") or []]}
            points = self.clause_payloads()
        by_id = {str(p.id): p.payload or {} for p in points}
        orphans, mismatched = [], []
        for payload in by_id.values():
            number, clause_id = payload.get("number"), payload.get("clause_id")
            record = documents.get(number)
            if record is None or clause_id not in record["clauses"]:
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


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
