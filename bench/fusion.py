"""Compare fusion strategies on the evaluation data (retrieval only, LLM off).

    python bench/fusion.py --store S [--dataset eval/datasets/seeds.jsonl] [--split calibration] [--json]

- store-plan: what the engine runs (`Retriever.rank`): one HybridPlan, dense prefetch + IDF sparse
  prefetch over underthesea tokens, fused by RRF (k=2) inside Qdrant, plus the in-process English
  index for English questions;
- store-plan-no-english: the same without the English index;
- python-bm25s: the previous engine (dense from the store + an in-process bm25s index over every
  clause's tokens + the English index, fused by RRF in Python), rebuilt here as the reference;
- dense-only and sparse-only (the store's IDF sparse vector alone), for reference.

recall@5 and MRR@10 over the answerable records with gold clauses, and the median time of the
ranking call (query embeddings cached after the first method).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)

from eval.dataset import load_datasets  # noqa: E402
from eval.metrics import mrr_at_k, recall_at_k  # noqa: E402
from service.qa.retrieve import RRF_K  # noqa: E402
from service.qa.understand import question_language  # noqa: E402
from service.runtime import get_runtime  # noqa: E402
from service.schemas import Turn  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.store import HybridPlan, PayloadFilter, SparseQuery, lexical_tokens  # noqa: E402


class InProcessBm25:
    """The previous engine's lexical side: bm25s over every clause's stored tokens."""

    def __init__(self, store):
        import bm25s

        points = store.clause_payloads()
        self.ids = [p.payload["clause_id"] for p in points]
        self.vocab = {t for p in points for t in p.payload.get("bm25_tokens") or []}
        self.index = bm25s.BM25()
        self.index.index([p.payload.get("bm25_tokens") or ["_"] for p in points], show_progress=False)

    def search(self, text: str, depth: int, numbers: list[str] | None) -> list[str]:
        tokens = [t for t in lexical_tokens(text) if t in self.vocab]
        if not tokens:
            return []
        k = min(len(self.ids), depth * (4 if numbers else 1))
        docs, scores = self.index.retrieve([tokens], k=k, show_progress=False)
        out = [self.ids[int(i)] for i, s in zip(docs[0], scores[0])
               if s > 0 and not (numbers and self.ids[int(i)].split("#")[0] not in numbers)]
        return out[:depth]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default=".dqa-store")
    parser.add_argument("--dataset", default=str(REPO / "eval" / "datasets" / "seeds.jsonl"))
    parser.add_argument("--split", help="only records of this split (calibration, test)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    engine = get_runtime(Settings(store=Path(args.store))).engine
    store, retriever = engine.store, engine.retriever
    records = [r for r in load_datasets([args.dataset]) if r.answerable and r.gold
               and (not args.split or r.split == args.split)]

    def clause_ids(hits):
        found = {r.id: r.payload.get("clause_id") for r in store.retrieve_clauses([h.id for h in hits])}
        return [found[h.id] for h in hits if found.get(h.id)]

    def store_plan(q, u):
        return [cid for cid, _, _ in engine.rank(q, 10, u.numbers or None, u.expanded)]

    def store_plan_no_english(q, u):
        retriever.english_index = False
        try:
            return store_plan(q, u)
        finally:
            retriever.english_index = True

    bm25 = InProcessBm25(store)

    def python_bm25s(q, u):
        depth = 30
        vector = retriever.query_vector(u.expanded)
        flt = PayloadFilter(numbers=u.numbers or ())
        score: dict[str, float] = {}
        dense = clause_ids(store.hybrid_search(HybridPlan(limit=depth, dense=vector, filter=flt)))
        for rank, cid in enumerate(dense):
            score[cid] = score.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        for rank, cid in enumerate(bm25.search(u.expanded, depth, u.numbers or None)):
            score[cid] = score.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        if question_language(q) == "en":
            for rank, (cid, _) in enumerate(engine.snapshot.english_lexical(q, depth, u.numbers or None)):
                score[cid] = score.get(cid, 0.0) + 1.0 / (RRF_K + rank)
        return sorted(score, key=lambda c: -score[c])[:10]

    def dense_only(q, u):
        vector = retriever.query_vector(u.expanded)
        return clause_ids(store.hybrid_search(HybridPlan(limit=10, dense=vector,
                                                         filter=PayloadFilter(numbers=u.numbers or ()))))

    def sparse_only(q, u):
        tokens = lexical_tokens(u.expanded)
        if not tokens:
            return []
        return clause_ids(store.hybrid_search(HybridPlan(limit=10, sparse=SparseQuery.from_tokens(tokens),
                                                         filter=PayloadFilter(numbers=u.numbers or ()))))

    methods = {"store-plan": store_plan, "store-plan-no-english": store_plan_no_english,
               "python-bm25s": python_bm25s, "dense-only": dense_only, "sparse-only": sparse_only}
    understood = []
    for record in records:
        history = [Turn(role=t.role, content=t.content) for t in record.history]
        understood.append(engine.understand(record.question, None, history))
    rows = []
    for name, method in methods.items():
        by_lang: dict[str, list[tuple[float, float]]] = {"all": [], "vi": [], "en": []}
        times = []
        for record, u in zip(records, understood):
            started = time.perf_counter()
            ranked = method(record.question, u)
            times.append((time.perf_counter() - started) * 1000)
            pair = (recall_at_k(ranked, record.gold, 5) or 0.0, mrr_at_k(ranked, record.gold, 10) or 0.0)
            by_lang["all"].append(pair)
            by_lang.setdefault(record.lang, []).append(pair)
        row = {"fusion": name, "questions": len(records), "median_ms": round(statistics.median(times), 1)}
        for lang, pairs in by_lang.items():
            if pairs:
                row[f"recall_at_5_{lang}"] = round(statistics.mean(p[0] for p in pairs), 3)
                row[f"mrr_at_10_{lang}"] = round(statistics.mean(p[1] for p in pairs), 3)
        rows.append(row)
    if args.json:
        print(json.dumps({"dataset": args.dataset, "split": args.split, "rows": rows}))
        return
    print("| fusion | recall@5 (all / vi / en) | MRR@10 (all / vi / en) | median ms |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['fusion']} | {r['recall_at_5_all']} / {r.get('recall_at_5_vi')} / {r.get('recall_at_5_en')} "
              f"| {r['mrr_at_10_all']} / {r.get('mrr_at_10_vi')} / {r.get('mrr_at_10_en')} | {r['median_ms']} |")


if __name__ == "__main__":
    main()
