"""qdrant-client adapter: a Qdrant server (`DQA_QDRANT_URL`, the deploy/ path) or, for reading
stores written before Qdrant Edge, the legacy local mode in `STORE/qdrant`.

Same collections, vector names, payload indexes and query plan as the Edge adapter; the plan
becomes one Query API request (prefetch + `RrfQuery(k)`), so only the fused top-k crosses the
network.
"""
from __future__ import annotations

from pathlib import Path

from qdrant_client import QdrantClient, models

from service.store.base import (CLAUSE_INDEXES, CLAUSES, DOCUMENT_INDEXES, DOCUMENTS, META,
                                ClauseStore, StoredPoint, StoreLocked, locked_message)
from service.store.plan import DENSE, SPARSE, Hit, HybridPlan, PayloadFilter, Record, SparseQuery

_PAGE = 512


def translate_filter(flt: PayloadFilter | None) -> models.Filter | None:
    if not flt:
        return None
    return models.Filter(must=[models.FieldCondition(key=key, match=models.MatchAny(any=values))
                               for key, values in flt.conditions()])


def _vector(value):
    return models.SparseVector(indices=list(value.indices), values=list(value.values)) \
        if isinstance(value, SparseQuery) else list(value)


def translate_plan(plan: HybridPlan) -> dict:
    """The plan as keyword arguments of `QdrantClient.query_points` (collection excluded)."""
    flt = translate_filter(plan.filter)
    params = models.SearchParams(hnsw_ef=plan.hnsw_ef, exact=plan.exact)
    stages = plan.stages()
    if len(stages) == 1:
        stage = stages[0]
        return {"query": _vector(stage.vector), "using": stage.using, "limit": stage.limit,
                "query_filter": flt, "search_params": params, "with_payload": False}
    return {"prefetch": [models.Prefetch(query=_vector(s.vector), using=s.using, limit=s.limit,
                                         filter=flt, params=params) for s in stages],
            "query": models.RrfQuery(rrf=models.Rrf(k=plan.rrf_k)), "limit": plan.limit,
            "with_payload": False}


def describe_request(kwargs: dict) -> dict:
    """The structure of a query_points call, in HybridPlan.describe() terms (for the tests)."""
    def conditions(flt):
        return [(c.key, list(c.match.any)) for c in (flt.must or [])] if flt else []

    if kwargs.get("prefetch"):
        return {"limit": kwargs["limit"],
                "stages": [{"using": p.using, "limit": p.limit} for p in kwargs["prefetch"]],
                "filter": conditions(kwargs["prefetch"][0].filter), "fusion_k": kwargs["query"].rrf.k,
                "stage_filters": [conditions(p.filter) for p in kwargs["prefetch"]]}
    return {"limit": kwargs["limit"], "stages": [{"using": kwargs["using"], "limit": kwargs["limit"]}],
            "filter": conditions(kwargs["query_filter"]), "fusion_k": None}


def _record(point, with_vectors: bool) -> Record:
    vector = None
    if with_vectors and isinstance(point.vector, dict):
        vector = {name: (SparseQuery(tuple(v.indices), tuple(v.values))
                         if isinstance(v, models.SparseVector) else list(v))
                  for name, v in point.vector.items()}
    return Record(str(point.id), point.payload or {}, vector)


class QdrantClientStore(ClauseStore):
    backend = "qdrant-client"

    def __init__(self, store_dir: Path, embedder, url: str | None = None,
                 api_key: str | None = None, **options):
        super().__init__(store_dir, embedder)
        self.server = bool(url)
        self.backend = "qdrant-server" if url else "qdrant-local"
        self.store_dir = Path(store_dir) if store_dir else None
        if url:
            self.client = QdrantClient(url=url, api_key=api_key, timeout=30)
        else:
            self.store_dir.mkdir(parents=True, exist_ok=True)
            try:
                self.client = QdrantClient(path=str(self.store_dir / "qdrant"))
            except (RuntimeError, BlockingIOError) as error:
                if "already accessed" in str(error) or "lock" in str(error).lower() \
                        or isinstance(error, BlockingIOError):
                    raise StoreLocked(locked_message(self.store_dir)) from None
                raise
        self._ensure_collections()
        self._ensure_identity()
        self._recover()

    def _ensure_collections(self) -> None:
        existing = {c.name for c in self.client.get_collections().collections}
        if CLAUSES not in existing:
            self.client.create_collection(
                CLAUSES,
                vectors_config={DENSE: models.VectorParams(size=self.embedder.dim,
                                                           distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )
        for name in (DOCUMENTS, META):
            if name not in existing:
                self.client.create_collection(
                    name, vectors_config=models.VectorParams(size=1, distance=models.Distance.DOT))
        if self.server:            # local mode has no payload indexes (it warns on each)
            for collection, fields in ((CLAUSES, CLAUSE_INDEXES), (DOCUMENTS, DOCUMENT_INDEXES)):
                present = set(self.client.get_collection(collection).payload_schema or {})
                for field in fields:
                    if field not in present:
                        self.client.create_payload_index(collection, field,
                                                         field_schema=models.PayloadSchemaType.KEYWORD)

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ primitives
    def _upsert(self, collection: str, points: list[StoredPoint]) -> None:
        if not points:
            return
        structs = []
        for p in points:
            if collection == CLAUSES:
                vector = {DENSE: p.dense}
                if p.sparse is not None:
                    vector[SPARSE] = _vector(p.sparse)
            else:
                vector = p.dense
            structs.append(models.PointStruct(id=p.id, vector=vector, payload=p.payload))
        self.client.upsert(collection, structs, wait=True)

    def _delete(self, collection: str, ids: list[str]) -> None:
        if ids:
            self.client.delete(collection, models.PointIdsList(points=list(ids)), wait=True)

    def _delete_where(self, collection: str, flt: PayloadFilter) -> None:
        self.client.delete(collection, models.FilterSelector(filter=translate_filter(flt)), wait=True)

    def _retrieve(self, collection: str, ids: list[str], with_vectors: bool = False) -> list[Record]:
        points = self.client.retrieve(collection, list(ids), with_payload=True, with_vectors=with_vectors)
        return [_record(p, with_vectors) for p in points]

    def _scroll(self, collection: str, flt: PayloadFilter | None = None, with_vectors: bool = False):
        offset = None
        while True:
            batch, offset = self.client.scroll(collection, scroll_filter=translate_filter(flt),
                                               limit=_PAGE, offset=offset, with_payload=True,
                                               with_vectors=with_vectors)
            for p in batch:
                yield _record(p, with_vectors)
            if offset is None:
                return

    def _count(self, collection: str, flt: PayloadFilter | None = None) -> int:
        return self.client.count(collection, count_filter=translate_filter(flt), exact=True).count

    def hybrid_search(self, plan: HybridPlan) -> list[Hit]:
        request = translate_plan(plan)
        if not self.server:            # local mode is brute force; it warns on search params
            request.pop("search_params", None)
            for prefetch in request.get("prefetch", []):
                prefetch.params = None
        points = self.client.query_points(CLAUSES, **request).points
        return [Hit(str(p.id), float(p.score)) for p in points]
