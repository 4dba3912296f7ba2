"""Qdrant Edge adapter: the Qdrant engine in process (segments, payload indexes, HNSW, WAL).

Layout: `STORE/edge/{dqa_clauses,dqa_documents,dqa_meta}`, one Edge shard per collection. The
clause shard has a named dense vector (cosine) and a named sparse vector with the IDF modifier;
the sparse values are counts of underthesea tokens (the store never tokenises: Edge's Bm25 has
no Vietnamese). Writes go to the WAL and are durable against SIGKILL when `update` returns;
a second process opening the same shard fails at once (the WAL lock), which is the one-owner
rule. HNSW is built only by `optimize()` and only once the clause vectors pass
`HNSW_FROM_CLAUSES`; below that every search is exact (docs/scaling.md has the measurement).
A store written by Qdrant local mode (`STORE/qdrant`) is migrated on first open.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import qdrant_edge as qe

from service.store.base import (CLAUSE_INDEXES, CLAUSES, COLLECTIONS, DOCUMENTS, DOCUMENT_INDEXES,
                                ClauseStore, StoredPoint, StoreLocked, locked_message)
from service.store.plan import DENSE, SPARSE, Hit, HybridPlan, PayloadFilter, Record, SparseQuery

# Below this many clauses a brute-force scan is faster than keeping an HNSW graph up to date
# (measured: docs/scaling.md, "exact or HNSW"); above it optimize() builds the graph.
HNSW_FROM_CLAUSES = 50_000
_PAGE = 1024


def _kb(clauses: int, dim: int) -> int:
    """Qdrant's thresholds are in KB of dense vectors."""
    return max(1, clauses * dim * 4 // 1024)


def _config(collection: str, dim: int, hnsw_from: int) -> qe.EdgeConfig:
    if collection != CLAUSES:
        return qe.EdgeConfig(vectors={DENSE: qe.EdgeVectorParams(size=1, distance=qe.Distance.Dot)})
    threshold = _kb(hnsw_from, dim)
    return qe.EdgeConfig(
        vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        hnsw_config=qe.HnswIndexConfig(m=16, ef_construct=128, full_scan_threshold=threshold),
        optimizers=qe.EdgeOptimizersConfig(indexing_threshold=threshold))


def translate_filter(flt: PayloadFilter | None) -> qe.Filter | None:
    if not flt:
        return None
    return qe.Filter(must=[qe.FieldCondition(key=key, match=qe.MatchAny(any=values))
                           for key, values in flt.conditions()])


def _vector(value):
    return qe.SparseVector(list(value.indices), list(value.values)) \
        if isinstance(value, SparseQuery) else list(value)


def translate_plan(plan: HybridPlan) -> qe.QueryRequest:
    """The plan as an Edge QueryRequest (prefetch + Fusion.Rrf, or one Nearest query)."""
    flt = translate_filter(plan.filter)
    params = qe.SearchParams(hnsw_ef=plan.hnsw_ef, exact=plan.exact)
    stages = plan.stages()
    if len(stages) == 1:
        stage = stages[0]
        return qe.QueryRequest(limit=stage.limit, query=qe.Query.Nearest(_vector(stage.vector),
                                                                         using=stage.using),
                               filter=flt, params=params, with_payload=False, with_vector=False)
    prefetches = [qe.Prefetch(limit=s.limit, query=qe.Query.Nearest(_vector(s.vector), using=s.using),
                              filter=flt, params=params) for s in stages]
    return qe.QueryRequest(limit=plan.limit, prefetches=prefetches, query=qe.Fusion.Rrf(k=plan.rrf_k),
                           with_payload=False, with_vector=False)


def _using(query) -> str | None:
    # A Query read back from a request exposes no fields, only its repr: Nearest(query=..., using="x")
    match = re.search(r'using="([^"]*)"\)$', repr(query))
    return match.group(1) if match else None


def describe_request(request: qe.QueryRequest) -> dict:
    """The structure of an Edge request, in HybridPlan.describe() terms (for the tests)."""
    def conditions(flt):
        return [(c.key, list(c.match.value)) for c in (flt.must or [])] if flt else []

    if request.prefetches:
        return {"limit": request.limit,
                "stages": [{"using": _using(p.query), "limit": p.limit} for p in request.prefetches],
                "filter": conditions(request.prefetches[0].filter), "fusion_k": request.query.k,
                "stage_filters": [conditions(p.filter) for p in request.prefetches]}
    return {"limit": request.limit, "stages": [{"using": _using(request.query), "limit": request.limit}],
            "filter": conditions(request.filter), "fusion_k": None}


def _record(point, with_vectors: bool) -> Record:
    vector = None
    if with_vectors and point.vector:
        vector = {name: (SparseQuery(tuple(v.indices), tuple(float(x) for x in v.values))
                         if isinstance(v, qe.SparseVector) else list(v))
                  for name, v in point.vector.items()}
    return Record(str(point.id), point.payload or {}, vector)


class EdgeStore(ClauseStore):
    backend = "qdrant-edge"

    def __init__(self, store_dir: Path, embedder, url: str | None = None,
                 api_key: str | None = None, *, root: Path | None = None,
                 hnsw_from: int = HNSW_FROM_CLAUSES, migrate: bool = True):
        super().__init__(store_dir, embedder)
        self.store_dir = Path(store_dir)
        self.root = Path(root) if root else self.store_dir / "edge"
        self.hnsw_from = hnsw_from
        self._dirty = False
        self.shards: dict[str, qe.EdgeShard] = {}
        if migrate and root is None and (self.store_dir / "qdrant").is_dir() and not self.root.exists():
            from service.store.migrate import migrate_local_mode

            migrate_local_mode(self.store_dir, embedder)
        try:
            for collection in COLLECTIONS:
                self.shards[collection] = self._open(collection, embedder.dim)
        except BaseException:
            self.close()
            raise
        self._ensure_indexes()
        self._ensure_identity()
        self._recover()

    def _open(self, collection: str, dim: int) -> qe.EdgeShard:
        path = self.root / collection
        try:
            if (path / "edge_config.json").exists():
                return qe.EdgeShard.load(str(path))
            if path.exists():                   # killed while creating: nothing was written yet
                shutil.rmtree(path)
            path.mkdir(parents=True)
            return qe.EdgeShard.create(str(path), _config(collection, dim, self.hnsw_from))
        except Exception as error:              # the WAL lock: Kind(WouldBlock)
            if "WouldBlock" in str(error) or "lock" in str(error).lower():
                raise StoreLocked(locked_message(self.store_dir)) from None
            raise

    def _ensure_indexes(self) -> None:
        for collection, fields in ((CLAUSES, CLAUSE_INDEXES), (DOCUMENTS, DOCUMENT_INDEXES)):
            shard = self.shards[collection]
            present = set(shard.info().payload_schema)
            for field in fields:
                if field not in present:
                    shard.update(qe.UpdateOperation.create_field_index(field, qe.PayloadSchemaType.Keyword))

    # ------------------------------------------------------------ primitives
    def _upsert(self, collection: str, points: list[StoredPoint]) -> None:
        if not points:
            return
        edge_points = []
        for p in points:
            vector = {DENSE: p.dense}
            if p.sparse is not None:
                vector[SPARSE] = qe.SparseVector(list(p.sparse.indices), list(p.sparse.values))
            edge_points.append(qe.Point(p.id, vector, p.payload))
        self.shards[collection].update(qe.UpdateOperation.upsert_points(edge_points))
        self._dirty = self._dirty or collection == CLAUSES

    def _delete(self, collection: str, ids: list[str]) -> None:
        if ids:
            self.shards[collection].update(qe.UpdateOperation.delete_points(list(ids)))

    def _delete_where(self, collection: str, flt: PayloadFilter) -> None:
        self.shards[collection].update(qe.UpdateOperation.delete_points_by_filter(translate_filter(flt)))

    def _retrieve(self, collection: str, ids: list[str], with_vectors: bool = False) -> list[Record]:
        points = self.shards[collection].retrieve(list(ids), with_payload=True, with_vector=with_vectors)
        return [_record(p, with_vectors) for p in points]

    def _scroll(self, collection: str, flt: PayloadFilter | None = None, with_vectors: bool = False):
        shard, offset = self.shards[collection], None
        while True:
            points, offset = shard.scroll(qe.ScrollRequest(
                offset=offset, limit=_PAGE, filter=translate_filter(flt), with_payload=True,
                with_vector=with_vectors))
            for p in points:
                yield _record(p, with_vectors)
            if offset is None:
                return

    def _count(self, collection: str, flt: PayloadFilter | None = None) -> int:
        return self.shards[collection].count(qe.CountRequest(exact=True, filter=translate_filter(flt)))

    def hybrid_search(self, plan: HybridPlan) -> list[Hit]:
        return [Hit(str(p.id), float(p.score)) for p in self.shards[CLAUSES].query(translate_plan(plan))]

    # ------------------------------------------------------------ lifecycle
    def optimize(self) -> bool:
        with self.lock:
            self._dirty = False
            return bool(self.shards[CLAUSES].optimize())

    def close(self) -> None:
        shards, self.shards = self.shards, {}
        if not shards:
            return
        try:
            # An ingest that grew the corpus past the threshold leaves with the graph built, so
            # the next serving process never builds it (optimize() blocks).
            if self._dirty and CLAUSES in shards and \
                    shards[CLAUSES].count(qe.CountRequest(exact=False)) >= self.hnsw_from:
                shards[CLAUSES].optimize()
        finally:
            for shard in shards.values():
                shard.flush()
                shard.close()
