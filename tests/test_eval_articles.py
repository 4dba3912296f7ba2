"""`dqa eval --articles`: drafted articles scored against reference points written from the
documents (eval/datasets/articles.jsonl), LLM off, gated by eval/thresholds-articles.toml.

The samples part always runs (samples/ ships 3476); the corpus part needs ../shared/corpus and
the seed-004 entry needs ../shared/seeds (each skipped with its reason when absent)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.articles import ArticleEntry, english_share, load_articles
from service_fixture import REPO, run_cli

DATASET = REPO / "eval/datasets/articles.jsonl"
THRESHOLDS = REPO / "eval/thresholds-articles.toml"
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus" / "docs"
SEEDS = SHARED / "seeds"


def _subset(tmp_path: Path, keep) -> Path:
    entries = [e for e in load_articles(DATASET) if keep(e)]
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(e.model_dump_json() for e in entries) + "\n", encoding="utf-8")
    return path


def _eval(store: Path, dataset: Path, report: Path):
    result = run_cli("eval", "--articles", str(dataset), "--thresholds", str(THRESHOLDS),
                     "--report", str(report), "--json", store=store, check=False, timeout=1800)
    assert result.stdout, result.stderr[-2000:]
    return result, json.loads(result.stdout)


def test_dataset_entries_are_well_formed():
    entries = load_articles(DATASET)
    corpus = [e for e in entries if "corpus" in e.needs]
    assert len(corpus) >= 10 and any("seeds" in e.needs for e in entries)
    assert {e.lang for e in entries} == {"vi", "en"}
    for entry in entries:
        assert entry.points and all(alternatives for alternatives in entry.points), entry.id
        assert entry.documents, entry.id
        assert ("corpus" in entry.needs) == bool(entry.files), entry.id


def test_english_share_counts_vietnamese_quotes_against_english():
    assert english_share("The Ministry must report to the Government by 30 November 2025.") == 1.0
    mixed = english_share("Addressed to the provincial office. Vietnamese text: “Giám đốc BHXH tỉnh "
                          "chỉ đạo thực hiện nghiêm túc các nội dung sau đây”")
    assert 0.2 < mixed < 0.6
    assert english_share("Bảo hiểm xã hội tỉnh có trách nhiệm báo cáo kết quả thực hiện.") == 0.0


@pytest.fixture(scope="module")
def samples_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("articles-samples") / "store"
    run_cli("ingest", str(REPO / "samples"), store=store, timeout=900)
    return store


def test_samples_articles_meet_thresholds(samples_store, tmp_path):
    store = samples_store
    dataset = _subset(tmp_path, lambda e: e.needs == ["samples"])
    result, summary = _eval(store, dataset, tmp_path / "report")
    assert summary["failures"] == [], summary
    assert result.returncode == 0
    assert summary["metrics"]["articles"] >= 1
    assert (tmp_path / "report" / "articles.json").is_file()


def test_failing_threshold_exits_non_zero(samples_store, tmp_path):
    store = samples_store
    entry = ArticleEntry(id="impossible", lang="vi", question="Công văn này yêu cầu gì?",
                         documents=["3476/BHXH-TCCB"], needs=["samples"],
                         points=[["a point no directive states: 31/12/2099"]])
    dataset = tmp_path / "impossible.jsonl"
    dataset.write_text(entry.model_dump_json() + "\n", encoding="utf-8")
    result, summary = _eval(store, dataset, tmp_path / "report")
    assert result.returncode != 0
    assert any(f.startswith("point_coverage") for f in summary["failures"])


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present (the "
                    "real-directive corpus is read from there, never copied)")
@pytest.mark.timeout(3600)
def test_article_set_meets_issue_targets(tmp_path):
    entries = load_articles(DATASET)
    keep_seeds = SEEDS.is_dir()
    files = sorted({f for e in entries for f in e.files})
    store = tmp_path / "store"
    run_cli("ingest", str(REPO / "samples"), *[str(CORPUS / f) for f in files], store=store,
            timeout=1800)
    dataset = _subset(tmp_path, lambda e: keep_seeds or "seeds" not in e.needs)
    result, summary = _eval(store, dataset, tmp_path / "report")
    metrics = summary["metrics"]
    out = REPO / "test-output"
    out.mkdir(exist_ok=True)
    (out / "articles-eval.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2),
                                            encoding="utf-8")
    print("\narticle eval:", json.dumps({k: metrics[k] for k in (
        "point_coverage", "citation_validity", "uncited_paragraphs", "unselected_citations",
        "english_share", "seconds_per_article")}))
    assert summary["failures"] == [], summary["failures"]
    assert metrics["point_coverage"] >= 0.90
    assert metrics["uncited_paragraphs"] == 0 and metrics["unselected_citations"] == 0
    assert result.returncode == 0
