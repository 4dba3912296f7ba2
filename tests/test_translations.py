"""An official English version joins its Vietnamese original; bad input never stops a batch."""
from __future__ import annotations

import shutil

from conftest import SAMPLES
from ingest.pipeline import ingest_files

# Laid out like the official English pages: one blank line between blocks.
_ENGLISH_1251 = """VIETNAM SOCIAL SECURITY

SOCIALIST REPUBLIC OF VIETNAM

Independence - Freedom - Happiness

No. 1251/BHXH-TCCB

On strengthening responsibility in handling work

Hanoi, April 28, 2023

To: Affiliated units of Vietnam Social Security

1. Heads of units shall strengthen discipline.

2. Heads of units shall:

a) Inspect public duties.

9. A clause the Vietnamese text does not have.

GENERAL DIRECTOR

Nguyen The Manh
"""


def test_official_english_version_is_one_document_with_its_original(tmp_path):
    """The seed dispatch and a short English version of it, in one batch."""
    shutil.copy(SAMPLES / "1251-BHXH-TCCB.txt", tmp_path)
    (tmp_path / "1251-BHXH-TCCB-en.txt").write_text(_ENGLISH_1251, encoding="utf-8")
    batch = ingest_files([tmp_path])
    assert [d.number for d in batch.documents] == ["1251/BHXH-TCCB"]
    document = batch.documents[0]
    assert document.language == "vi"
    assert document.clause("1").text_en.startswith("1. Heads of units")
    assert document.clause("1").translation_source == "official"
    assert document.clause("2.a").text_en == "a) Inspect public duties."
    assert any("only in English: 9" in w for w in document.warnings)
    assert {r.status for r in batch.reports} == {"ok", "translation"}
    alone = ingest_files([tmp_path / "1251-BHXH-TCCB-en.txt"]).documents
    assert alone[0].language == "en" and alone[0].number == "1251/BHXH-TCCB"
    assert {c.path for c in alone[0].clauses} >= {"1", "2", "2.a", "9", "header"}


def test_unreadable_structure_is_indexed_as_paragraphs_and_bad_files_fail_alone(tmp_path):
    (tmp_path / "noise.txt").write_text("văn bản rời rạc không rõ cấu trúc\n\n!!! ??? ...\n\nmột dòng nữa ở cuối", encoding="utf-8")
    (tmp_path / "binary.pdf").write_bytes(b"not a pdf")
    (tmp_path / "ok.txt").write_text("Số: 5/BHXH-X\nKính gửi: Các đơn vị trực thuộc.\n1. Việc một.\n2. Việc hai.",
                                     encoding="utf-8")
    batch = ingest_files([tmp_path])
    by_file = {r.file.rsplit("/", 1)[-1]: r for r in batch.reports}
    assert by_file["binary.pdf"].status == "error"
    noise = next(d for d in batch.documents if d.source.file.endswith("noise.txt"))
    assert [c.path for c in noise.clauses if c.path != "header"][:1] == ["p1"]
    assert any("paragraphs" in w for w in noise.warnings)
    ok = next(d for d in batch.documents if d.number == "5/BHXH-X")
    assert [c.path for c in ok.clauses] == ["1", "2", "header"]
