"""Scale benchmark for Qdrant local mode: store write rate and /v1/ask (LLM off) latency as the
corpus grows (1k, 10k, 50k clauses; 100k with --with-100k). Prints a markdown table.

    python bench/scale.py                      # 1k, 10k, 50k
    python bench/scale.py --sizes 1000,10000   # a subset
    python bench/scale.py --with-100k          # adds 100k (slow: tens of minutes on 2 cores)

One store grows through the checkpoints (writes are not repeated). Dense vectors are
precomputed per base clause (bench/corpus.py), so the write rate is store + lexical
tokenisation cost, not embedding cost. Target: /v1/ask p95 <= 150 ms.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)   # keep bench/ from shadowing the packages

from fastapi.testclient import TestClient  # noqa: E402

from bench.ask import QUESTIONS, percentile  # noqa: E402
from ingest.pipeline import ingest_files  # noqa: E402
from service.api import create_app  # noqa: E402
from service.runtime import get_runtime, reset_runtimes  # noqa: E402
from service.settings import Settings  # noqa: E402

TARGET_P95_MS = 150.0


def measure_asks(client: TestClient, rounds: int) -> list[float]:
    latencies = []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            response = client.post("/v1/ask", json={"question": question})
            assert response.status_code == 200, response.text
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def run(sizes: list[int], rounds: int, store: Path) -> list[dict]:
    from bench.corpus import PrecomputedEmbedder, base_clauses, generate

    settings = Settings(store=store, rate_limit_per_minute=10**9)
    runtime = get_runtime(settings)
    runtime.commit_batch(ingest_files([REPO / "samples"]))
    base_count = len(runtime.store.clause_payloads())
    real = runtime.store.embedder
    runtime.store.embedder = PrecomputedEmbedder(real, base_clauses())
    client = TestClient(create_app(settings))
    rows, written, write_seconds = [], 0, 0.0
    pending = sorted(sizes)
    segment_written, segment_seconds = 0, 0.0
    for document, origins in generate(pending[-1] - base_count):
        runtime.store.embedder.pending.extend(origins)
        started = time.perf_counter()
        n = runtime.store.upsert_document(document)
        elapsed = time.perf_counter() - started
        written += n
        write_seconds += elapsed
        segment_written += n
        segment_seconds += elapsed
        if written + base_count >= pending[0]:
            size = pending.pop(0)
            started = time.perf_counter()
            runtime.engine.refresh()
            refresh_s = time.perf_counter() - started
            client.post("/v1/ask", json={"question": "warm up"})
            latencies = measure_asks(client, rounds)
            row = {"clauses": written + base_count, "target": size,
                   "write_rate": segment_written / max(segment_seconds, 1e-9),
                   "refresh_s": refresh_s,
                   "p50_ms": statistics.median(latencies), "p95_ms": percentile(latencies, 0.95),
                   "n": len(latencies)}
            rows.append(row)
            print(f"  {size}: {json.dumps(row)}", file=sys.stderr, flush=True)
            segment_written, segment_seconds = 0, 0.0
            if not pending:
                break
    runtime.store.embedder = real
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--with-100k", action="store_true", help="also measure 100,000 clauses")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 8 questions")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.with_100k:
        sizes.append(100_000)
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(sorted(set(sizes)), args.rounds, Path(tmp) / "store")
        reset_runtimes()
    print("| clauses | store write rate (clauses/s) | engine refresh (s) | /v1/ask p50 ms | "
          "/v1/ask p95 ms | n | p95 <= 150 ms |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        ok = "yes" if r["p95_ms"] <= TARGET_P95_MS else "**no**"
        print(f"| {r['clauses']:,} | {r['write_rate']:.0f} | {r['refresh_s']:.1f} | {r['p50_ms']:.1f} | "
              f"{r['p95_ms']:.1f} | {r['n']} | {ok} |")
    failing = [r for r in rows if r["p95_ms"] > TARGET_P95_MS]
    if failing:
        print(f"\nlocal mode misses p95 <= {TARGET_P95_MS:.0f} ms from {failing[0]['clauses']:,} clauses")
    else:
        print(f"\nlocal mode meets p95 <= {TARGET_P95_MS:.0f} ms at every measured size")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
