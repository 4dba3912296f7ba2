"""Calibrate the refusal thresholds on an evaluation dataset instead of guessing them.

    python -m eval.calibrate_refusal --store .dqa-store eval/datasets/seeds.jsonl [--split calibration] [--write]
    python -m eval.calibrate_refusal --pair SEED_STORE eval/datasets/seeds.jsonl \
        --pair CORPUS_STORE eval/datasets/corpus.jsonl --split calibration --write

With several `--pair`s the thresholds are fitted on all their questions together, each asked of
its own store: one set of thresholds must hold for a four-document store and a large one alike.

For questions that name no document (the only ones the thresholds decide), it computes the
engine's support features and grid-searches, per group, the (coverage, dense) pair that
makes the fewest wrong decisions within the false-refusal budget, breaking ties by the widest margin
(distance from the nearest observed question), so the thresholds don't hug the data. `--write` stores them in the file the engine reads
(service/qa/data/refusal_thresholds.json); nothing is copied by hand.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from eval.dataset import load_datasets
from service.qa.compose import GroundedComposer, documents_agree
from service.qa.engine import DOCUMENT_DEPTH
from service.qa.support import (
    AGREEING_RANKINGS,
    THRESHOLDS_FILE,
    load_thresholds,
    support_features,
    threshold_key,
)
from service.runtime import Runtime
from service.schemas import Turn
from service.settings import Settings


def features(engine, records, hard: bool = False):
    """(group, answerable, coverage, dense, id, hard, agreeing) per question the thresholds
    decide; `hard`: an unanswerable question of this set must stay refused (a gate's hand-written
    refusals); `agreeing`: how many single rankings put the fused top document in their best."""
    rows = []
    for record in records:
        history = [Turn(role=t.role, content=t.content) for t in record.history]
        u = engine.understand(record.question, None, history)
        group = threshold_key(u)
        if u.missing or u.candidates or group is None:
            continue        # decided without thresholds
        depth = DOCUMENT_DEPTH if u.intent == "documents" and not u.numbers else 8
        ranked = engine.rank(record.question, depth, u.numbers or None, u.expanded)
        composer = GroundedComposer(engine.snapshot, engine.store)
        if u.intent == "documents" and not u.numbers and \
                documents_agree(composer.rank_documents(record.question, u, ranked)):
            continue        # decided by the two document rankings agreeing
        if not composer.answers_type_asked(record.question, u, ranked):
            continue        # refused for want of the kind of fact asked, whatever the thresholds
        coverage, dense = support_features(ranked)
        agreeing = engine.retriever.agreement(engine.snapshot, record.question, u.expanded,
                                              ranked[0][0].split("#")[0]) if ranked else 0
        rows.append((group, record.answerable, coverage, dense, record.id, hard, agreeing))
    return rows


# A false refusal costs a user an answer the corpus has; the thresholds may refuse at most this
# share of a group's answerable questions, and maximise refusal F1 within that budget.
MAX_FALSE_REFUSAL_RATE = 0.05
# Agreement is asked only where nothing is named: within a named document every ranking is
# filtered to it and agrees by construction.
AGREEMENT_KEYS = ("vi", "en")


def _tally(rows, refuses) -> tuple[int, int, int, int]:
    """A refuse rule's decisions on the rows: (unanswerable refused, answerable refused,
    unanswerable answered, hard questions among those answered)."""
    tp = fp = fn = hard_answered = 0
    for row in rows:
        is_answerable, hard = row[1], row[5]
        refused = refuses(row)
        if refused and not is_answerable:
            tp += 1
        elif refused and is_answerable:
            fp += 1
        elif not refused and not is_answerable:
            fn += 1
            hard_answered += hard
    return tp, fp, fn, hard_answered


def best_thresholds(rows):
    best = None
    answerable = sum(1 for r in rows if r[1]) or 1
    for min_cov in np.arange(0.0, 1.01, 0.025):
        for min_dense in np.arange(0.80, 0.95, 0.0025):
            tp, fp, fn, hard_answered = _tally(
                rows, lambda r: not (r[2] >= min_cov or r[3] >= min_dense))
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            within_budget = fp / answerable <= MAX_FALSE_REFUSAL_RATE
            # Among equally good pairs prefer the one farthest from every observed point.
            margin = min(min(abs(cov - min_cov) / 0.8, abs(dense - min_dense) / 0.15)
                         for _, _, cov, dense, _, _, _ in rows) if rows else 0.0
            # A gate's refusals hold first; then the false-refusal budget; then the fewest wrong
            # decisions. Not this group's own F1: its few unanswerable questions make that noisy,
            # and the overall refusal F1 (many refusals are structural) moves with errors, not it.
            key = (-hard_answered, within_budget, -(fp + fn), round(f1, 6), round(margin, 6))
            if best is None or key > best[0]:
                best = (key, float(min_cov), float(min_dense))
    (_, _, neg_errors, f1, margin), cov, dense = best
    return (f1, neg_errors, margin), cov, dense


def best_disagreeing(rows, min_cov: float, min_dense: float) -> float:
    """The coverage a question supported by similarity alone needs when fewer than
    AGREEING_RANKINGS single rankings agree on its document: the value with the fewest wrong
    decisions within the false-refusal budget (the fitted pair's own refusals counted), the
    lowest such value (the least refusing) on a tie."""
    answerable = sum(1 for r in rows if r[1]) or 1
    best = None
    for bar in np.arange(0.0, 1.01, 0.025):
        _, fp, fn, hard_answered = _tally(
            rows, lambda r: not (r[2] >= min_cov or r[3] >= min_dense)
            or (r[2] < bar and r[6] < AGREEING_RANKINGS))
        key = (-hard_answered, fp / answerable <= MAX_FALSE_REFUSAL_RATE, -(fp + fn), -bar)
        if best is None or key > best[0]:
            best = (key, float(bar))
    return best[1]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="*")
    parser.add_argument("--store", default=".dqa-store")
    parser.add_argument("--pair", nargs=2, action="append", metavar=("STORE", "DATASET"), default=[],
                        help="a store and a dataset asked of it; repeat to fit on several stores")
    parser.add_argument("--split", default=None, help="only records of this split (calibration)")
    parser.add_argument("--write", action="store_true", help=f"write {THRESHOLDS_FILE.name}")
    parser.add_argument("--hard", nargs="*", default=[], metavar="DATASET",
                        help="datasets whose unanswerable questions must all stay refused (gates)")
    parser.add_argument("--keys", nargs="+", default=["vi", "en", "vi+doc", "en+doc"],
                        help="which threshold groups to fit and write (the others are kept)")
    parser.add_argument("--note", default="", help="why, written into the thresholds file")
    args = parser.parse_args(argv)
    pairs = [(args.store, d) for d in args.datasets] + [tuple(p) for p in args.pair]
    if not pairs:
        parser.error("give datasets (asked of --store) or --pair STORE DATASET")
    rows = []
    for store, dataset in pairs:
        engine = Runtime(Settings(store=Path(store))).engine
        # Datasets without splits (the seed set) count whole; split ones give only the named split.
        records = [r for r in load_datasets([dataset]) if args.split is None or r.split in (None, args.split)]
        rows += features(engine, records, hard=dataset in args.hard)
        engine.store.close()
    chosen = {}
    for lang in args.keys:
        subset = [r for r in rows if r[0] == lang]
        for r in sorted(subset, key=lambda r: r[2]):
            print(f"{lang} {'ANS  ' if r[1] else 'UNANS'} cov={r[2]:.3f} dense={r[3]:.4f} "
                  f"agreeing={r[6]} {r[4]}{' (hard)' if r[5] and not r[1] else ''}")
        (f1, neg_errors, _), cov, dense = best_thresholds(subset)
        bar = best_disagreeing(subset, cov, dense) if lang in AGREEMENT_KEYS else 0.0
        print(f"==> {lang}: coverage >= {cov:.3f} or dense >= {dense:.4f}  (F1 {f1:.3f}, "
              f"wrong decisions {-neg_errors}); with rankings disagreeing, coverage >= {bar:.3f}")
        if subset:
            chosen[lang] = {"min_coverage": round(cov, 4), "min_dense": round(dense, 4),
                            "min_coverage_disagreeing": round(bar, 4)}
    if args.write:
        current = {lang: vars(t) for lang, t in load_thresholds().items()}
        data = {"written_by": "python -m eval.calibrate_refusal --write (eval/calibrate_refusal.py)",
                "datasets": [_relative(d) for _, d in pairs], "split": args.split,
                "rule": "answer when best coverage in the top 3 >= min_coverage or best dense "
                        "similarity >= min_dense; below min_coverage_disagreeing, also when at "
                        f"least {AGREEING_RANKINGS} single rankings (dense, sparse, English) have "
                        "the top document in their top 3",
                "thresholds": {**current, **chosen}, "fitted": sorted(chosen), "note": args.note}
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
