"""`dqa eval`: registered into the `dqa` CLI through the `dqa.commands` entry point, so the
service never imports the evaluation harness (eval depends on service, not the reverse)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("eval")(evaluate)


def evaluate(datasets: list[Path] = typer.Argument(None),
             articles: Optional[Path] = typer.Option(None, "--articles",
                                                     help="score drafted articles on this JSONL "
                                                     "file (points, citations, English share, time)"),
             url: Optional[str] = typer.Option(None, "--url", help="score a running instance over HTTP"),
             baseline: str = typer.Option("", "--baseline", help="comma list: naive,bm25"),
             report: Path = typer.Option(Path("out/eval"), "--report", help="folder for the reports"),
             thresholds: Optional[Path] = typer.Option(None, "--thresholds"),
             split: Optional[str] = typer.Option(None, "--split",
                                                 help="only records of this split (calibration, test)"),
             judge: bool = typer.Option(False, "--judge", help="add the model-judged support score "
                                        "(needs DQA_LLM; not a headline metric)"),
             json_out: bool = typer.Option(False, "--json")):
    """Score answers, citations, retrieval and refusal on JSONL datasets; exit 1 below thresholds."""
    from eval.baselines import Bm25Baseline, NaiveBaseline, clause_spans_from_documents
    from eval.harness import (DEFAULT_THRESHOLDS, HttpSystem, InProcessSystem, check_thresholds,
                              corpus_index, print_summary, run_eval)
    from eval.report import write_reports
    from service.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_USAGE, console, fail, local_runtime, print_json

    if articles is not None:
        evaluate_articles(articles, thresholds, report, json_out)
        return
    if not datasets:
        fail("give dataset file(s), or --articles FILE", EXIT_USAGE)
    for dataset in datasets:
        if not dataset.is_file():
            fail(f"{dataset}: no such dataset file", EXIT_NOT_FOUND)
    wanted = [b.strip() for b in baseline.split(",") if b.strip()]
    unknown = set(wanted) - {"naive", "bm25"}
    if unknown:
        fail(f"unknown baseline(s): {', '.join(sorted(unknown))} (use naive, bm25)", EXIT_USAGE)
    rt = local_runtime()
    documents = rt.documents()
    existing, texts = corpus_index(documents)
    system = HttpSystem(url) if url else InProcessSystem(rt.engine)
    spans = clause_spans_from_documents(documents)
    baselines = [{"naive": NaiveBaseline, "bm25": Bm25Baseline}[name](spans) for name in wanted]
    result = run_eval([str(d) for d in datasets], system, baselines, existing, texts,
                      show_progress=not json_out, split=split)
    failures = check_thresholds(result, thresholds or DEFAULT_THRESHOLDS)
    paths = write_reports(result, report, failures=failures)
    judged = None
    if judge:
        if not rt.llm_enabled:
            fail("--judge needs an LLM: set DQA_LLM=llamacpp (after `make llm`) or DQA_LLM=openai",
                 EXIT_USAGE)
        from eval.judge import judge_support

        judged = judge_support(result, rt.composer().llm, texts)
        (report / "model_judged.json").write_text(json.dumps(judged, ensure_ascii=False, indent=2))
    if json_out:
        print_json({"metrics": result.primary.metrics, "failures": failures,
                    "reports": [str(p) for p in paths], "model_judged": judged})
    else:
        print_summary(result, failures)
        if judged:
            console.print(f"model-judged support (not a headline metric): {judged['support_rate']} "
                          f"over {judged['pairs_checked']} sentence/clause pairs")
        console.print("reports: " + ", ".join(str(p) for p in paths))
    if failures:
        raise typer.Exit(EXIT_FAILED)


def evaluate_articles(path: Path, thresholds: Optional[Path], report: Path, json_out: bool) -> None:
    """`dqa eval --articles FILE`: draft each entry's article and score it (eval/articles.py)."""
    from eval.articles import (aggregate_articles, check_article_thresholds, load_articles,
                               print_article_summary, run_articles, write_article_report)
    from service.cli import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_USAGE, console, fail, local_runtime, print_json

    if not path.is_file():
        fail(f"{path}: no such articles file", EXIT_NOT_FOUND)
    if thresholds is not None and not thresholds.is_file():
        fail(f"{thresholds}: no such thresholds file", EXIT_NOT_FOUND)
    try:
        entries = load_articles(path)
    except ValueError as error:
        fail(str(error), EXIT_USAGE)
    rt = local_runtime()
    llm = rt.composer().llm if rt.llm_enabled else None
    scores = run_articles(entries, rt.engine, llm=llm)
    metrics = aggregate_articles(scores)
    failures = check_article_thresholds(metrics, thresholds) if thresholds else []
    written = write_article_report(scores, metrics, failures, report)
    if json_out:
        from dataclasses import asdict

        print_json({"metrics": metrics, "failures": failures,
                    "articles": [asdict(s) for s in scores], "report": str(written)})
    else:
        print_article_summary(scores, metrics, failures, console)
        console.print(f"report: {written}")
    if failures:
        raise typer.Exit(EXIT_FAILED)
