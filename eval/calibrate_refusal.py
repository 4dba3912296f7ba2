"""Calibrate the refusal thresholds on an evaluation dataset instead of guessing them.

    python -m eval.calibrate_refusal --store .dqa-store eval/datasets/seeds.jsonl [--split calibration] [--write]

For questions that name no document (the only ones the thresholds decide), it computes the
engine's support features and grid-searches, per language, the (coverage, dense) pair that
maximises refusal F1, breaking ties by fewer false refusals, then by the widest margin
(distance from the nearest observed question), so the thresholds don't hug the data. `--write` stores them in the file the engine reads
(service/qa/data/refusal_thresholds.json); nothing is copied by hand.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from eval.dataset import load_datasets
from service.qa.support import THRESHOLDS_FILE, load_thresholds, support_features, threshold_key
from service.runtime import get_runtime
from service.schemas import Turn
from service.settings import Settings


def features(engine, records):
    rows = []
    for record in records:
        history = [Turn(role=t.role, content=t.content) for t in record.history]
        u = engine.understand(record.question, None, history)
        group = threshold_key(u)
        if u.missing or u.candidates or group is None:
            continue        # decided without thresholds
        ranked = engine.rank(record.question, 8, u.numbers or None, u.expanded)
        coverage, dense = support_features(ranked)
        rows.append((group, record.answerable, coverage, dense, record.id))
    return rows


# A false refusal costs a user an answer the corpus has; the thresholds may refuse at most this
# share of a group's answerable questions, and maximise refusal F1 within that budget.
MAX_FALSE_REFUSAL_RATE = 0.05


def best_thresholds(rows):
    best = None
    answerable = sum(1 for _, a, _, _, _ in rows if a) or 1
    for min_cov in np.arange(0.0, 1.01, 0.025):
        for min_dense in np.arange(0.80, 0.95, 0.0025):
            tp = fp = fn = false_refusals = 0
            for _, is_answerable, cov, dense, _ in rows:
                refused = not (cov >= min_cov or dense >= min_dense)
                if refused and not is_answerable:
                    tp += 1
                elif refused and is_answerable:
                    fp += 1
                    false_refusals += 1
                elif not refused and not is_answerable:
                    fn += 1
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            within_budget = false_refusals / answerable <= MAX_FALSE_REFUSAL_RATE
            # Among equally good pairs prefer the one farthest from every observed point.
            margin = min(min(abs(cov - min_cov) / 0.8, abs(dense - min_dense) / 0.15)
                         for _, _, cov, dense, _ in rows) if rows else 0.0
            key = (within_budget, round(f1, 6), -false_refusals, round(margin, 6))
            if best is None or key > best[0]:
                best = (key, float(min_cov), float(min_dense))
    (_, f1, neg_false, margin), cov, dense = best
    return (f1, neg_false, margin), cov, dense


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--store", default=".dqa-store")
    parser.add_argument("--split", default=None, help="only records of this split (calibration)")
    parser.add_argument("--write", action="store_true", help=f"write {THRESHOLDS_FILE.name}")
    args = parser.parse_args(argv)
    engine = get_runtime(Settings(store=Path(args.store))).engine
    # Datasets without splits (the seed set) count whole; split ones give only the named split.
    records = [r for r in load_datasets(args.datasets) if args.split is None or r.split in (None, args.split)]
    rows = features(engine, records)
    chosen = {}
    for lang in ("vi", "en", "vi+doc", "en+doc"):
        subset = [r for r in rows if r[0] == lang]
        for r in sorted(subset, key=lambda r: r[2]):
            print(f"{lang} {'ANS  ' if r[1] else 'UNANS'} cov={r[2]:.3f} dense={r[3]:.4f} {r[4]}")
        (f1, neg_false, _), cov, dense = best_thresholds(subset)
        print(f"==> {lang}: coverage >= {cov:.3f} or dense >= {dense:.4f}  (F1 {f1:.3f}, "
              f"false refusals {-neg_false})")
        if subset:
            chosen[lang] = {"min_coverage": round(cov, 4), "min_dense": round(dense, 4)}
    if args.write:
        current = {lang: vars(t) for lang, t in load_thresholds().items()}
        data = {"written_by": "python -m eval.calibrate_refusal --write (eval/calibrate_refusal.py)",
                "datasets": [_relative(d) for d in args.datasets], "split": args.split,
                "rule": "answer when best coverage in the top 3 >= min_coverage or best dense "
                        "similarity >= min_dense",
                "thresholds": {**current, **chosen}}
        THRESHOLDS_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        load_thresholds.cache_clear()
        print(f"wrote {THRESHOLDS_FILE}")


def _relative(path: str) -> str:
    repo = Path(__file__).resolve().parent.parent
    try:
        return str(Path(path).resolve().relative_to(repo))
    except ValueError:
        return path


if __name__ == "__main__":
    main()
