"""Parse every corpus document and compare with the manifest, file by file.

    .venv/bin/python bench/corpus_parse_report.py [--verbose] [FILE ...]

Prints per file: the fields that differ from manifest.tsv, the clause count, the top-level
paths and the warnings; then per-field accuracy, clause statistics and repair+parse speed.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# bench/ingest.py would shadow the ingest package: take this script's folder off the path.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from corpus_manifest import CORPUS, FIELDS, compare, load_manifest  # noqa: E402
from ingest.loaders import load_file  # noqa: E402
from ingest.pipeline import parse_text  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    rows = load_manifest()
    if args.files:
        rows = [r for r in rows if any(f in r["file"] for f in args.files)]
    parse_text("Số: 1/BHXH-X\nKính gửi: A\n1. Nội dung.", "warmup.txt")   # load the lexicon once
    scores = {name: Counter() for name in FIELDS}
    clause_counts = []
    total_bytes = 0
    elapsed = 0.0
    for row in rows:
        path = CORPUS / "docs" / row["file"]
        decoded = load_file(path)
        total_bytes += len(path.read_bytes())
        t0 = time.perf_counter()
        document = parse_text(decoded.text, str(path))
        elapsed += time.perf_counter() - t0
        if not hasattr(document, "clauses"):
            print(f"!! {row['file']}: parsed as commentary")
            for name in FIELDS:
                scores[name]["miss"] += 1
            clause_counts.append(0)
            continue
        misses = []
        for name in FIELDS:
            ok, why = compare(document, row, name)
            if ok is None:
                continue
            scores[name]["ok" if ok else "miss"] += 1
            if not ok:
                misses.append(f"{name}: {why}")
        clause_counts.append(len(document.clauses))
        top = [c.path for c in document.clauses if c.parent is None]
        flag = "OK" if not misses else "--"
        print(f"{flag} {row['file']} [{document.language}] {len(document.clauses)} clauses: "
              f"{' '.join(top[:14])}{' …' if len(top) > 14 else ''}")
        for miss in misses:
            print(f"     {miss}")
        if args.verbose:
            for warning in document.warnings:
                print(f"     warning: {warning}")
    print()
    for name in FIELDS:
        ok, miss = scores[name]["ok"], scores[name]["miss"]
        print(f"{name:8} {ok}/{ok + miss} = {ok / max(1, ok + miss):.1%}")
    print(f"clauses: min {min(clause_counts)}, median {sorted(clause_counts)[len(clause_counts) // 2]}, "
          f"max {max(clause_counts)}; documents with 0 clauses: {clause_counts.count(0)}")
    print(f"repair+parse: {total_bytes / 1e6:.2f} MB in {elapsed:.2f} s = "
          f"{total_bytes / 1e6 / elapsed:.2f} MB/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
