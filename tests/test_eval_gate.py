"""The CI quality gate: the seed dataset scored on the sample corpus, LLM off, must meet
eval/thresholds.toml; the parser dataset is scored on the synthetic documents."""
import json

from service_fixture import REPO, run_cli


def test_seed_dataset_meets_thresholds_with_baselines(tmp_path):
    store = tmp_path / "store"
    run_cli("ingest", str(REPO / "samples"), store=store)
    report = tmp_path / "report"
    result = run_cli("eval", str(REPO / "eval/datasets/seeds.jsonl"), "--baseline", "naive,bm25",
                     "--report", str(report), "--json", store=store, check=False, timeout=1200)
    summary = json.loads(result.stdout)
    assert result.returncode == 0, summary["failures"]
    assert summary["failures"] == []
    for name in ("report.json", "report.md", "report.html"):
        assert (report / name).stat().st_size > 1000
    full = json.loads((report / "report.json").read_text())
    names = [system["name"] for system in full["systems"]]
    assert len(names) == 3
    overall = {s["name"]: s["metrics"]["overall"] for s in full["systems"]}
    ours = overall[names[0]]
    for baseline in names[1:]:
        assert ours["citation_precision"] > overall[baseline]["citation_precision"]


def test_parser_dataset_on_synthetic_documents(tmp_path):
    store = tmp_path / "store"
    run_cli("ingest", str(REPO / "eval/datasets/synthetic"), store=store)
    result = run_cli("eval", str(REPO / "eval/datasets/synthetic.jsonl"), "--report",
                     str(tmp_path / "r"), "--json", "--thresholds",
                     str(REPO / "eval/thresholds-synthetic.toml"), store=store, check=False)
    summary = json.loads(result.stdout)
    assert result.returncode == 0, summary["failures"]
