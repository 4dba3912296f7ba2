"""The evaluation runner: ask every question, score every answer, gate on thresholds.

    python -m eval.harness --http http://127.0.0.1:8000 --baselines --out out/eval

Systems under test implement `System`; the report compares the primary system
with the baselines on the same questions (metrics: eval/metrics.py, format and
rules: eval/README.md).
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from eval.baselines import Bm25Baseline, NaiveBaseline, clause_spans_from_documents
from eval.dataset import EvalRecord, load_datasets
from eval.metrics import QuestionScore, aggregate_by_language, dedupe_ids, score_question
from eval.report import write_reports
from ingest.model import Document
from service.schemas import Answer, Turn

__all__ = [
    "System", "InProcessSystem", "HttpSystem", "NaiveBaseline", "Bm25Baseline",
    "QuestionRun", "SystemRun", "Report", "run_eval", "check_thresholds", "print_summary",
    "corpus_index", "write_reports", "DEFAULT_THRESHOLDS", "DEFAULT_DATASETS",
]

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_THRESHOLDS = EVAL_DIR / "thresholds.toml"
DEFAULT_DATASETS = [EVAL_DIR / "datasets" / "seeds.jsonl"]
SEARCH_DEPTH = 10
Ranking = Literal["citations_first", "search"]


@runtime_checkable
class System(Protocol):
    """Anything that answers an eval record: (answer, ranked clause ids best first, latency in s)."""

    name: str

    def ask(self, record: EvalRecord) -> tuple[Answer, list[str], float]: ...


def _history_turns(record: EvalRecord) -> list[Turn]:
    return [Turn(role=turn.role, content=turn.content) for turn in record.history]


def _merge_ranking(answer: Answer, search_ids: Sequence[str], ranking: Ranking) -> list[str]:
    if ranking == "search":
        return dedupe_ids(search_ids)
    return dedupe_ids([c.id for c in answer.citations] + list(search_ids))


class InProcessSystem:
    """Wraps an engine with `ask(question, lang=None, history=None) -> Answer` and
    `search(query, top_k) -> list[Hit]`.

    ranking="citations_first" (default) ranks the answer's cited clauses first,
    then the search hits: search sees only the bare question, so a follow-up like
    "còn khoản 3 thì sao?" can only be resolved by the answer path, and the
    citations are what a reader sees first. ranking="search" measures the
    retriever alone. The language is not passed unless pass_lang=True, because
    detecting it is part of what is evaluated. Latency is the ask() call only.
    """

    def __init__(self, engine: Any, *, name: str = "directive-qa", ranking: Ranking = "citations_first",
                 pass_lang: bool = False, search_depth: int = SEARCH_DEPTH):
        self.engine = engine
        self.name = name
        self.ranking = ranking
        self.pass_lang = pass_lang
        self.search_depth = search_depth

    def ask(self, record: EvalRecord) -> tuple[Answer, list[str], float]:
        started = time.perf_counter()
        answer = self.engine.ask(record.question, lang=record.lang if self.pass_lang else None,
                                 history=_history_turns(record) or None)
        latency = time.perf_counter() - started
        hits = self.engine.search(record.question, top_k=self.search_depth)
        return answer, _merge_ranking(answer, [hit.id for hit in hits], self.ranking), latency


class HttpSystem:
    """The running API: POST {base}/v1/ask and GET {base}/v1/search (same ranking rule as InProcessSystem)."""

    def __init__(self, base_url: str, *, name: str = "directive-qa (http)", ranking: Ranking = "citations_first",
                 pass_lang: bool = False, timeout_s: float = 120.0, client: Any = None,
                 search_depth: int = SEARCH_DEPTH):
        import httpx

        self.base_url = base_url.rstrip("/")
        self.name = name
        self.ranking = ranking
        self.pass_lang = pass_lang
        self.search_depth = search_depth
        self._client = client or httpx.Client(timeout=timeout_s)

    def ask(self, record: EvalRecord) -> tuple[Answer, list[str], float]:
        payload = {
            "question": record.question,
            "lang": record.lang if self.pass_lang else None,
            "history": [turn.model_dump() for turn in record.history],
        }
        started = time.perf_counter()
        response = self._client.post(f"{self.base_url}/v1/ask", json=payload)
        latency = time.perf_counter() - started
        response.raise_for_status()
        answer = Answer.model_validate(response.json())
        found = self._client.get(f"{self.base_url}/v1/search",
                                 params={"q": record.question, "top_k": self.search_depth})
        found.raise_for_status()
        search_ids = [hit["id"] for hit in found.json().get("hits", [])]
        return answer, _merge_ranking(answer, search_ids, self.ranking), latency

    def close(self) -> None:
        self._client.close()


# ---------------------------------------------------------------- results


@dataclass
class QuestionRun:
    record: EvalRecord
    answer: Answer
    ranked_ids: list[str]
    score: QuestionScore


@dataclass
class SystemRun:
    name: str
    questions: list[QuestionRun]
    metrics: dict[str, dict[str, float | int | None]]     # "overall" / "vi" / "en" -> metric -> value


@dataclass
class Report:
    primary: SystemRun
    baselines: list[SystemRun] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    created: str = ""

    @property
    def systems(self) -> list[SystemRun]:
        return [self.primary, *self.baselines]

    def to_dict(self) -> dict[str, Any]:
        def system(run: SystemRun) -> dict[str, Any]:
            return {
                "name": run.name,
                "metrics": run.metrics,
                "questions": [
                    {
                        "record": q.record.model_dump(mode="json"),
                        "answer": q.answer.model_dump(mode="json"),
                        "ranked_ids": q.ranked_ids,
                        "score": q.score.__dict__,
                    }
                    for q in run.questions
                ],
            }

        return {
            "created": self.created,
            "datasets": self.datasets,
            "primary": self.primary.name,
            "systems": [system(run) for run in self.systems],
        }


def _system_name(system: Any) -> str:
    return getattr(system, "name", None) or type(system).__name__


def _placeholder_answer(record: EvalRecord) -> Answer:
    """Stands in for a failed call; the error itself is kept on the question's score."""
    return Answer(answer="", language=record.lang, refused=False, intent="error")


def _run_system(system: Any, records: Sequence[EvalRecord], existing_ids: set[str],
                clause_texts: dict[str, str], progress: Any = None) -> SystemRun:
    name = _system_name(system)
    task = progress.add_task(name, total=len(records)) if progress is not None else None
    runs: list[QuestionRun] = []
    for record in records:
        error = None
        try:
            answer, ranked, latency = system.ask(record)
        except Exception as exc:    # one failing question must not lose the whole run
            error = f"{type(exc).__name__}: {exc}"
            answer, ranked, latency = _placeholder_answer(record), [], None
        score = score_question(
            record_id=record.id, lang=record.lang, answerable=record.answerable, gold=record.gold,
            key_facts=record.key_facts, answer_text=answer.answer, answer_language=answer.language,
            refused=answer.refused, citations=[(c.id, c.quote) for c in answer.citations],
            ranked_ids=ranked, latency_s=latency, existing_ids=existing_ids,
            clause_texts=clause_texts, error=error,
        )
        runs.append(QuestionRun(record, answer, list(ranked), score))
        if progress is not None:
            progress.advance(task)
    return SystemRun(name, runs, aggregate_by_language([q.score for q in runs]))


def run_eval(datasets: list[str | Path], system: System, baselines: list[System],
             existing_ids: set[str], clause_texts: dict[str, str], *, show_progress: bool = True,
             split: str | None = None) -> Report:
    """Ask every record of every dataset (of one split, if given) to the system and each
    baseline; score everything."""
    records = load_datasets(datasets)
    if split is not None:
        records = [r for r in records if r.split == split]
        if not records:
            raise ValueError(f"no records in split {split!r}")
    if show_progress:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
            runs = [_run_system(s, records, existing_ids, clause_texts, progress) for s in [system, *baselines]]
    else:
        runs = [_run_system(s, records, existing_ids, clause_texts) for s in [system, *baselines]]
    return Report(primary=runs[0], baselines=runs[1:], datasets=[str(p) for p in datasets],
                  created=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def corpus_index(documents: Sequence[Document]) -> tuple[set[str], dict[str, str]]:
    """(existing clause ids, clause id -> verbatim clause text) for fabrication and quote checks."""
    texts = {clause.id: clause.text for document in documents for clause in document.clauses}
    # Metadata answers (signer, date, recipients) cite the document itself, quoting its header.
    texts.update({document.number: document.source.repaired_text for document in documents})
    return set(texts), texts


# ---------------------------------------------------------------- gate


def check_thresholds(report: Report, path: str | Path = DEFAULT_THRESHOLDS) -> list[str]:
    """Failures of the primary system's overall metrics against [min] / [max] in the TOML file."""
    return threshold_failures(report.primary.metrics["overall"], path)


def threshold_failures(metrics: dict, path: str | Path) -> list[str]:
    """Failures of these metrics against the [min] / [max] tables of a TOML file.

    A metric that could not be measured (None) fails: an unmeasured gate is not a pass.
    """
    with open(path, "rb") as handle:
        limits = tomllib.load(handle)
    failures: list[str] = []
    for bound, table in (("min", limits.get("min", {})), ("max", limits.get("max", {}))):
        for metric, limit in table.items():
            if metric not in metrics:
                failures.append(f"{metric}: unknown metric")
                continue
            value = metrics[metric]
            if value is None:
                failures.append(f"{metric}: not measured (needs >= {limit})" if bound == "min"
                                else f"{metric}: not measured (needs <= {limit})")
            elif bound == "min" and value < limit:
                failures.append(f"{metric} = {value:.3f} < {limit}")
            elif bound == "max" and value > limit:
                failures.append(f"{metric} = {value:g} > {limit}")
    return failures


SUMMARY_METRICS = [
    "recall_at_5", "mrr_at_10", "ndcg_at_10", "citation_precision", "citation_recall",
    "fabricated_citations", "quote_fidelity", "key_fact_coverage", "language_match",
    "refusal_f1", "false_refusals", "latency_p50_s", "latency_p95_s",
]


def _cell(value: float | int | None) -> str:
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def print_summary(report: Report, failures: list[str] | None = None, console: Any = None) -> None:
    """A rich table: one column per system (overall), plus the primary split by language."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="directive-qa evaluation")
    table.add_column("metric")
    for run in report.systems:
        table.add_column(run.name, justify="right")
    table.add_column(f"{report.primary.name} vi", justify="right")
    table.add_column(f"{report.primary.name} en", justify="right")
    for metric in SUMMARY_METRICS:
        table.add_row(metric, *[_cell(run.metrics["overall"].get(metric)) for run in report.systems],
                      _cell(report.primary.metrics["vi"].get(metric)),
                      _cell(report.primary.metrics["en"].get(metric)))
    console.print(table)
    if failures is not None:
        print_failures(console, failures)


def print_failures(console, failures: list[str]) -> None:
    """The threshold verdict under a summary: each failure, or that all were met."""
    if failures:
        console.print("[red]threshold failures:[/red]")
        for failure in failures:
            console.print(f"  - {failure}")
    else:
        console.print("[green]all thresholds met[/green]")


# ---------------------------------------------------------------- CLI


def load_sample_documents(directory: str | Path) -> list[Document]:
    """Parse raw directive files with the ingest stages (repair, then parse)."""
    from ingest.parse import parse_document
    from ingest.repair import repair_text

    documents = []
    for path in sorted(Path(directory).glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        documents.append(parse_document(repair_text(raw), raw, str(path)))
    return documents


def _load_callable(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.harness", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--http", metavar="URL", help="evaluate the running API at URL")
    target.add_argument("--engine", metavar="MODULE:FACTORY", help="evaluate an in-process engine factory()")
    parser.add_argument("--dataset", action="append", default=None, help="JSONL dataset (repeatable)")
    parser.add_argument("--documents", metavar="MODULE:CALLABLE", default=None,
                        help="callable(corpus_dir) -> list[Document]; default: ingest repair + parse")
    parser.add_argument("--corpus", default="samples/directives", help="raw directive files")
    parser.add_argument("--baselines", action="store_true", help="also run the naive and BM25 baselines")
    parser.add_argument("--ranking", choices=["citations_first", "search"], default="citations_first")
    parser.add_argument("--thresholds", default=str(DEFAULT_THRESHOLDS))
    parser.add_argument("--out", default="out/eval")
    args = parser.parse_args(argv)

    loader = _load_callable(args.documents) if args.documents else load_sample_documents
    documents = list(loader(args.corpus))
    existing_ids, clause_texts = corpus_index(documents)
    system: System = (HttpSystem(args.http, ranking=args.ranking) if args.http
                      else InProcessSystem(_load_callable(args.engine)(), ranking=args.ranking))
    baselines: list[System] = []
    if args.baselines:
        spans = clause_spans_from_documents(documents)
        baselines = [NaiveBaseline(spans), Bm25Baseline(spans)]
    report = run_eval(args.dataset or DEFAULT_DATASETS, system, baselines, existing_ids, clause_texts)
    failures = check_thresholds(report, args.thresholds)
    paths = write_reports(report, args.out, failures=failures)
    print_summary(report, failures)
    print("reports: " + ", ".join(str(p) for p in paths))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
