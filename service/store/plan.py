"""One query plan for every store adapter: plain data, translated by each adapter into its own
types (Qdrant Edge `QueryRequest`, qdrant-client `query_points` arguments).

    HybridPlan(dense=vector, sparse=SparseQuery(indices, values), limit=10, prefetch_limit=40,
               rrf_k=2, filter=PayloadFilter(numbers=["3476/BHXH-TCCB"], actors=[...]))

With both a dense and a sparse query the plan is two prefetches (each carrying the filter and
`prefetch_limit`) fused by reciprocal rank fusion with `rrf_k`; with one of them it is a single
nearest-neighbour query whose scores are the raw similarities.
"""
from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field

DENSE = "dense"          # named vector of the clause embedding
SPARSE = "bm25"          # named sparse vector of underthesea tokens, IDF applied by Qdrant
HNSW_EF = 128            # beam width at query time (recall checked in tests/test_store_hnsw.py)
# Stored clause values are BM25 term weights (saturation k1 = 1.5 as in bm25s, length
# normalisation b against a fixed average clause length, as Qdrant's own Bm25 does with avg_len),
# so the sparse prefetch with Qdrant's IDF modifier scores as BM25: raw counts let long clauses
# (headers, preambles) win on repeated words (bench/fusion.py, docs/scaling.md). 70 = mean
# underthesea tokens per clause of samples/ (71).
BM25_K1, BM25_B, BM25_AVG_TOKENS = 1.5, 0.75, 70.0


@dataclass(frozen=True)
class SparseQuery:
    indices: tuple[int, ...]
    values: tuple[float, ...]

    @classmethod
    def from_tokens(cls, tokens: list[str]) -> "SparseQuery":
        """Term counts keyed by crc32 of each token (the store never tokenises itself)."""
        counts = Counter(zlib.crc32(t.encode()) & 0x7FFFFFFF for t in tokens)
        indices = tuple(sorted(counts))
        return cls(indices, tuple(float(counts[i]) for i in indices))

    @classmethod
    def bm25_document(cls, tokens: list[str]) -> "SparseQuery":
        """A stored clause's BM25 term weights tf·(k1+1) / (tf + k1·(1 − b + b·len/avg)); the
        query stays term counts and Qdrant multiplies in the IDF."""
        counts = cls.from_tokens(tokens)
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / BM25_AVG_TOKENS)
        return cls(counts.indices, tuple(tf * (BM25_K1 + 1) / (tf + norm) for tf in counts.values))


@dataclass(frozen=True)
class PayloadFilter:
    """Every non-empty field must match one of its values (payload-indexed keyword fields)."""

    numbers: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    types: tuple[str, ...] = ()          # record type in the documents collection

    def __post_init__(self):
        for name in ("numbers", "actors", "kinds", "types"):
            object.__setattr__(self, name, tuple(getattr(self, name) or ()))

    def conditions(self) -> list[tuple[str, list[str]]]:
        """(payload key, accepted values) for each non-empty field, in a fixed order."""
        keys = (("number", self.numbers), ("actors", self.actors), ("kind", self.kinds),
                ("type", self.types))
        return [(key, list(values)) for key, values in keys if values]

    def __bool__(self) -> bool:
        return bool(self.conditions())


@dataclass(frozen=True)
class Stage:
    """One nearest-neighbour search over a named vector."""

    using: str
    vector: list[float] | SparseQuery
    limit: int


@dataclass(frozen=True)
class HybridPlan:
    limit: int
    dense: list[float] | None = None
    sparse: SparseQuery | None = None
    prefetch_limit: int | None = None       # default 4 × limit
    rrf_k: int = 2                          # Qdrant's default; best on the seed set (bench/fusion.py)
    filter: PayloadFilter | None = field(default=None)
    exact: bool = False                     # force brute force (recall checks)
    hnsw_ef: int = HNSW_EF

    def stages(self) -> list[Stage]:
        depth = self.prefetch_limit or 4 * self.limit
        fused = self.dense is not None and self.sparse is not None
        out = []
        if self.dense is not None:
            out.append(Stage(DENSE, list(self.dense), depth if fused else self.limit))
        if self.sparse is not None:
            out.append(Stage(SPARSE, self.sparse, depth if fused else self.limit))
        if not out:
            raise ValueError("a plan needs a dense or a sparse query")
        return out

    @property
    def fused(self) -> bool:
        return len(self.stages()) > 1

    def describe(self) -> dict:
        """Adapter-neutral structure, compared against each adapter's translation in the tests."""
        return {"limit": self.limit,
                "stages": [{"using": s.using, "limit": s.limit} for s in self.stages()],
                "filter": self.filter.conditions() if self.filter else [],
                "fusion_k": self.rrf_k if self.fused else None}


@dataclass(frozen=True)
class Hit:
    id: str
    score: float


@dataclass
class Record:
    """A stored point as every adapter returns it: string ID, payload, optional vectors
    ({"dense": [...], "bm25": SparseQuery})."""

    id: str
    payload: dict
    vector: dict | None = None
