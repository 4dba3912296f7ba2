"""Repair + parse throughput over the real corpus (../shared/corpus/docs), in MB/s.

    .venv/bin/python bench/parse_speed.py [--rounds N] [--profile]

Prints repair alone, parse alone and both together, in CPU seconds of this process (a busy
machine skews wall time), for the best round and for the first (cold caches: the lexicon's
syllable tables, compiled patterns and the per-word caches fill during it); numbers are
printed, never asserted. --profile prints the top functions by cumulative and by own time.
Target: repair+parse >= 2 MB/s.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# bench/ingest.py would shadow the ingest package: take this script's folder off the path.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

from ingest.commentary import looks_like_commentary  # noqa: E402
from ingest.lexicon import default_lexicon  # noqa: E402
from ingest.loaders import load_file  # noqa: E402
from ingest.parse import parse_document  # noqa: E402
from ingest.repair import repair_text  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "docs"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--folder", type=Path, default=CORPUS)
    args = parser.parse_args()
    files = sorted(args.folder.glob("*.txt"))
    if not files:
        print(f"no .txt files in {args.folder}")
        return 1
    texts = [(load_file(f).text, str(f)) for f in files]
    texts = [(t, f) for t, f in texts if not looks_like_commentary(t)]
    size = sum(len(t.encode("utf-8")) for t, _ in texts)
    default_lexicon()                          # one-off load, not part of the per-MB cost
    repair_text(texts[0][0])                   # warm the caches that every run fills once

    def run() -> tuple[float, float]:
        # One clock reading around each pass, not around each document: reading the process
        # clock costs up to a millisecond on a loaded VM, ~10 % of the total when read per file.
        t0 = time.process_time()
        repaired = [repair_text(text) for text, _ in texts]
        t1 = time.process_time()
        for result, (text, name) in zip(repaired, texts):
            parse_document(result, text, name)
        return t1 - t0, time.process_time() - t1

    if args.profile:
        import cProfile
        import pstats
        run()                                  # the warm state the timed rounds measure
        profiler = cProfile.Profile()
        profiler.runcall(run)
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(25)
        return 0
    rounds = [run() for _ in range(args.rounds)]
    repair_s, parse_s = min(rounds, key=sum)
    mb = size / 1e6
    print(f"{len(texts)} documents, {mb:.2f} MB (best of {args.rounds} rounds)")
    print(f"repair        {repair_s:6.2f} s  {mb / repair_s:6.2f} MB/s")
    print(f"parse         {parse_s:6.2f} s  {mb / parse_s:6.2f} MB/s")
    print(f"repair+parse  {repair_s + parse_s:6.2f} s  {mb / (repair_s + parse_s):6.2f} MB/s  (target >= 2)")
    print(f"first round   {sum(rounds[0]):6.2f} s  {mb / sum(rounds[0]):6.2f} MB/s  (cold caches)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
