"""Every document of the real corpus (../shared/corpus) ingests right with no manifest.

The manifest rows are the specification: number ≥ 97 % exact, kind / issuer / date / signer
≥ 95 % each (comparison rules and overrides in corpus_manifest.py); every document has a
clause to cite; English versions are read as directives; parsing is deterministic.
"""
from __future__ import annotations

import pytest

from corpus_manifest import CORPUS, FIELDS, OVERRIDES, compare, load_manifest
from ingest.loaders import load_file
from ingest.model import Document
from ingest.pipeline import ingest_files, parse_text

THRESHOLDS = {"number": 0.97, "kind": 0.95, "issuer": 0.95, "date": 0.95, "signer": 0.95}

pytestmark = pytest.mark.skipif(not (CORPUS / "manifest.tsv").is_file(),
                                reason="../shared/corpus is not present on this machine")


@pytest.fixture(scope="module")
def parsed() -> dict[str, Document]:
    out = {}
    for row in load_manifest():
        path = CORPUS / "docs" / row["file"]
        out[row["file"]] = parse_text(load_file(path).text, str(path))
    return out


def _rows():
    return load_manifest() if (CORPUS / "manifest.tsv").is_file() else []


@pytest.mark.parametrize("name", FIELDS)
def test_manifest_field_accuracy_over_the_corpus(parsed, name):
    scored, misses = 0, []
    for row in _rows():
        document = parsed[row["file"]]
        assert isinstance(document, Document), f"{row['file']} was read as commentary"
        ok, why = compare(document, row, name)
        if ok is None:
            continue
        scored += 1
        if not ok:
            misses.append(f"{row['file']}: {why}; warnings: {document.warnings[:3]}")
    accuracy = 1 - len(misses) / scored
    print(f"\n{name}: {scored - len(misses)}/{scored} = {accuracy:.1%}")
    for miss in misses:
        print("  miss", miss)
    assert accuracy >= THRESHOLDS[name], "\n".join(misses)


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["file"])
def test_each_document_is_a_directive_with_a_citable_body(parsed, row):
    document = parsed[row["file"]]
    assert isinstance(document, Document)
    body = [c for c in document.clauses if c.path != "header"]
    assert document.clauses and body, f"{row['file']}: no body clause"
    assert "header" in {c.path for c in document.clauses}
    if row["language"] == "en":
        assert document.language == "en"
    paths = [c.path for c in document.clauses]
    assert len(paths) == len(set(paths))
    for clause in document.clauses:
        assert clause.id == f"{document.number}#{clause.path}"
        assert document.source.repaired_text[clause.span[0]: clause.span[1]] in clause.text


def test_overrides_all_have_a_reason():
    assert all(reason for _, reason in OVERRIDES.values())


def test_gazette_page_furniture_is_removed_and_recorded(parsed):
    gazette = [d for d in parsed.values() if "CÔNG BÁO" in d.source.raw_text]
    assert gazette
    for document in gazette:
        assert "CÔNG BÁO/Số" not in document.source.repaired_text
        assert any(r.kind == "strip_page_furniture" for r in document.source.repairs)


def test_site_metadata_table_is_read_as_evidence(parsed):
    with_table = [d for d in parsed.values() if d.site_metadata.get("number")]
    assert with_table
    for document in with_table:
        assert "Số hiệu" not in " ".join(c.text for c in document.clauses)


def test_unreadable_number_falls_back_to_the_file_name(parsed):
    by_file = [d for d in parsed.values() if d.identity.method == "filename"]
    assert by_file
    for document in by_file:
        assert any("file name" in w for w in document.warnings)


def test_reingesting_the_corpus_gives_identical_documents(tmp_path):
    first = ingest_files([CORPUS / "docs"])
    second = ingest_files([CORPUS / "docs"])
    assert not first.failed
    assert [d.model_dump() for d in first.documents] == [d.model_dump() for d in second.documents]


def test_english_version_joins_its_vietnamese_original(tmp_path):
    row = next(r for r in _rows() if r["language"] == "en")
    english = (CORPUS / "docs" / row["file"]).read_text(encoding="utf-8")
    (tmp_path / "en.txt").write_text(english, encoding="utf-8")
    original = parse_text(english, "en.txt")
    assert isinstance(original, Document) and original.language == "en"
    assert original.number == row["number"]

