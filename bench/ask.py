"""Answering benchmark: /v1/ask latency (LLM off) on the samples and on a synthetic corpus,
time to the `evidence` event, and (when a GGUF is present) LLM tokens/s and time per clause
translation. Numbers are printed as a table, not asserted.

    python bench/ask.py [--clauses 10000] [--model models/qwen0.5b.gguf]

Targets: /v1/ask p50 <= 50 ms, p95 <= 150 ms (LLM off).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)   # keep bench/ from shadowing the packages

from fastapi.testclient import TestClient  # noqa: E402

from eval import metrics  # noqa: E402
from ingest.pipeline import ingest_files  # noqa: E402
from service.api import create_app  # noqa: E402
from service.runtime import get_runtime, reset_runtimes  # noqa: E402
from service.settings import Settings  # noqa: E402

QUESTIONS = [
    "What must provincial directors do under 3476?",
    "Giám đốc BHXH tỉnh phải làm gì theo Công văn 3476?",
    "Which unit monitors implementation under 1251?",
    "Công văn 1151 yêu cầu báo cáo trước ngày nào?",
    "Văn bản nào yêu cầu nâng cấp phần mềm Tiếp nhận và quản lý hồ sơ?",
    "How is the monthly pension calculated?",
    "Who signed 1151/BHXH-TTKT?",
    "kiểm tra đột xuất hoạt động công vụ",
]


def percentile(values: list[float], q: float) -> float:
    """q as a fraction (0.95): eval.metrics.percentile takes percent."""
    return metrics.percentile(values, q * 100)


def time_asks(client: TestClient, rounds: int) -> tuple[list[float], list[float]]:
    latencies, evidence = [], []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            assert client.post("/v1/ask", json={"question": question}).status_code == 200
            latencies.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            with client.stream("POST", "/v1/ask/stream", json={"question": question}) as response:
                for line in response.iter_lines():
                    if line.startswith("event: evidence"):
                        evidence.append((time.perf_counter() - started) * 1000)
                        break
    return latencies, evidence


def synthetic_store(store: Path, n_clauses: int) -> float:
    from bench.corpus import PrecomputedEmbedder, base_clauses, generate

    runtime = get_runtime(Settings(store=store))
    runtime.commit_batch(ingest_files([REPO / "samples"]))
    real = runtime.store.embedder
    bases = base_clauses()
    runtime.store.embedder = PrecomputedEmbedder(real, bases)
    written, started = 0, time.perf_counter()
    for document, origins in generate(n_clauses):
        runtime.store.embedder.pending.extend(origins)
        written += runtime.store.upsert_document(document)
    elapsed = time.perf_counter() - started
    runtime.store.embedder = real
    runtime.engine.refresh()
    return written / elapsed


def llm_numbers(model: Path) -> tuple[float, float] | None:
    try:
        from service.qa.render import glossary
        from service.llm import LLMSettings, build_llm, measure_throughput
        from service.llm.verify import translate_clause
    except ImportError:
        return None
    if not model.is_file():
        return None
    llm = build_llm(LLMSettings(backend="llamacpp", model_path=str(model)))
    rate = measure_throughput(llm, max_tokens=64).tokens_per_s
    clause = (REPO / "tests" / "fixtures" / "seed003_repaired.txt").read_text(encoding="utf-8").split("\n")[14]
    started = time.perf_counter()
    translate_clause(llm, clause, {vi: en for en, vi in glossary().items()})
    return rate, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clauses", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "qwen0.5b.gguf")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store=Path(tmp) / "samples", rate_limit_per_minute=10**9)
        get_runtime(settings).commit_batch(ingest_files([REPO / "samples"]))
        client = TestClient(create_app(settings))
        client.post("/v1/ask", json={"question": "warm up"})
        latencies, evidence = time_asks(client, args.rounds)
        rows.append(("/v1/ask, samples (47 clauses)", latencies))
        rows.append(("time to evidence event, samples", evidence))
        reset_runtimes()
        big = Path(tmp) / "synthetic"
        write_rate = synthetic_store(big, args.clauses)
        settings = Settings(store=big, rate_limit_per_minute=10**9)
        client = TestClient(create_app(settings))
        client.post("/v1/ask", json={"question": "warm up"})
        latencies, evidence = time_asks(client, max(1, args.rounds // 2))
        rows.append((f"/v1/ask, synthetic {args.clauses} clauses", latencies))
        rows.append((f"time to evidence event, {args.clauses} clauses", evidence))
        reset_runtimes()
    print("| measure | p50 ms | p95 ms | n |")
    print("|---|---|---|---|")
    for name, values in rows:
        print(f"| {name} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} | {len(values)} |")
    print(f"\nstore write rate (precomputed vectors): {write_rate:.0f} clauses/s")
    llm = llm_numbers(args.model)
    if llm:
        print(f"LLM ({args.model.name}): {llm[0]:.1f} tokens/s decode; one clause translation {llm[1]:.1f} s")
    else:
        print("LLM: not measured (run `make llm` first)")


if __name__ == "__main__":
    main()
