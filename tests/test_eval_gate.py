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
    _report_renders_with_charts(report / "report.html")


def _report_renders_with_charts(html_path):
    """Open the self-contained HTML report in Debian chromium; charts and table must render."""
    import os
    import shutil

    import pytest

    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    out = REPO / "test-output" / "eval"
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(html_path.as_uri())
        charts = page.locator("svg")
        assert charts.count() >= 2
        box = charts.first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
        assert page.locator("svg rect").count() >= 6       # bars: system and baselines per metric
        assert page.locator("table").count() >= 1 and page.locator("tr").count() > 60
        page.screenshot(path=str(out / "report.png"), full_page=False)
        browser.close()
    shutil.copy(html_path, out / "report.html")


def test_parser_dataset_on_synthetic_documents(tmp_path):
    store = tmp_path / "store"
    run_cli("ingest", str(REPO / "eval/datasets/synthetic"), store=store)
    result = run_cli("eval", str(REPO / "eval/datasets/synthetic.jsonl"), "--report",
                     str(tmp_path / "r"), "--json", "--thresholds",
                     str(REPO / "eval/thresholds-synthetic.toml"), store=store, check=False)
    summary = json.loads(result.stdout)
    assert result.returncode == 0, summary["failures"]
