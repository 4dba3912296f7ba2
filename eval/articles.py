"""Article evaluation: `dqa eval --articles FILE`.

Each entry of the JSONL file names a question, a language, the directive(s) and the points a
good article must make (each point a list of alternative strings, Vietnamese as the clause
words it, English where an English rendering could say it). For each entry the article is
drafted in-process (LLM off unless one is configured) and scored:

- point coverage: share of points with some alternative in the article body, casefolded and
  NFC (`eval.metrics.key_fact_met`, the same test as key facts);
- citation validity: every citation's clause exists in the store, its quote is a verbatim span
  of the clause text (`eval.metrics.quote_is_faithful`), and the clause is among those the
  drafting selected from the document (`Article.selected`); every body paragraph carries a
  citation marker;
- English share: in English drafts, the share of words that stand in English passages
  (a Vietnamese quote in place of English counts against it);
- seconds per article.

`check_article_thresholds` reads [min] / [max] tables like the other evals.
"""
from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from eval.harness import print_failures, threshold_failures
from eval.metrics import key_fact_met, percentile, quote_is_faithful
from ingest import vocab

# Paragraph kinds that need no citation marker: the question, the asker and the opener.
UNCITED_KINDS = {"title", "asker", "opener"}


class ArticleEntry(BaseModel):
    id: str
    lang: str
    question: str
    documents: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)      # samples | corpus | seeds
    files: list[str] = Field(default_factory=list)      # ../shared/corpus/docs files
    points: list[list[str]]
    notes: str = ""


def load_articles(path: str | Path) -> list[ArticleEntry]:
    """The entries of a JSONL file; lines starting with // are comments."""
    entries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            entries.append(ArticleEntry.model_validate_json(line))
        except ValueError as error:
            raise ValueError(f"{path}:{number}: {error}") from error
    return entries


# ---------------------------------------------------------------- language share

_QUOTED = re.compile(r"“[^”]*”")
_WORD = re.compile(r"[^\W\d_]+")
_SEGMENT = re.compile(r"(?<=[.;:!?])\s+|\n+")


def english_share(text: str) -> float | None:
    """Share of the words of `text` that stand in English passages: curly-quoted spans and
    sentences are classified by the one language detector (`ingest.vocab.detect_language`);
    document numbers and [n] markers are not words. None when there are no words."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\[\d+\]", " ", text)
    text = vocab.NUMBER_RE.sub(" ", text)
    pieces: list[str] = []
    for m in _QUOTED.finditer(text):
        pieces.append(m.group(0).strip("“”"))
    outside = _QUOTED.sub(" ", text)
    pieces.extend(_SEGMENT.split(outside))
    english = total = 0
    for piece in pieces:
        words = _WORD.findall(piece)
        if not words:
            continue
        total += len(words)
        if vocab.detect_language(piece) == "en":
            english += len(words)
    return english / total if total else None


# ---------------------------------------------------------------- scoring


@dataclass
class ArticleScore:
    id: str
    lang: str
    refused: bool
    points_total: int
    points_met: int
    missing: list[str]
    citations: int
    invalid_citations: list[str]            # "<id>: <reason>"
    uncited_paragraphs: list[str]           # "<kind>: <text start>"
    english_share: float | None
    seconds: float
    documents: list[str] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.points_met / self.points_total if self.points_total else 1.0


def article_body(article: Any) -> str:
    return "\n".join(p.text for p in article.paragraphs)


def score_article(entry: ArticleEntry, article: Any, snapshot: Any, seconds: float) -> ArticleScore:
    """Score one drafted article against its entry and the store snapshot it was drafted from."""
    body = article_body(article)
    missing = [alternatives[0] for alternatives in entry.points if not key_fact_met(body, alternatives)]
    selected = set(getattr(article, "selected", []) or [])
    invalid: list[str] = []
    for citation in article.citations:
        if citation.id in snapshot.documents:
            document = snapshot.documents[citation.id]
            if citation.id not in article.documents:
                invalid.append(f"{citation.id}: a document the article is not about")
            elif not quote_is_faithful(citation.quote, document.source.repaired_text):
                invalid.append(f"{citation.id}: quote is not verbatim in the header")
            continue
        clause = snapshot.clauses.get(citation.id)
        if clause is None:
            invalid.append(f"{citation.id}: no such clause in the store")
        elif not quote_is_faithful(citation.quote, clause.text):
            invalid.append(f"{citation.id}: quote is not verbatim in the clause")
        elif citation.id not in selected:
            invalid.append(f"{citation.id}: not among the clauses the drafting selected")
    markers = {c.id for c in article.citations}
    uncited = [f"{p.kind}: {p.text[:60]}" for p in article.paragraphs
               if p.kind not in UNCITED_KINDS and not (set(p.citations) & markers)]
    if article.refused:
        uncited = []
    share = None
    if entry.lang == "en" and not article.refused:
        share = english_share("\n".join(p.text for p in article.paragraphs if p.kind != "title"))
    return ArticleScore(id=entry.id, lang=entry.lang, refused=article.refused,
                        points_total=len(entry.points), points_met=len(entry.points) - len(missing),
                        missing=missing, citations=len(article.citations), invalid_citations=invalid,
                        uncited_paragraphs=uncited, english_share=share, seconds=round(seconds, 3),
                        documents=list(article.documents))


def run_articles(entries: list[ArticleEntry], engine: Any, llm: Any = None,
                 on_entry=None) -> list[ArticleScore]:
    from service.articles import ArticleRequest, draft_article, render_markdown
    from service.store import DocumentNotFound

    scores = []
    for entry in entries:
        if on_entry:
            on_entry(entry)
        request = ArticleRequest(question=entry.question, documents=entry.documents, lang=entry.lang)
        started = time.perf_counter()
        try:
            article = draft_article(engine, request, llm=llm)
            render_markdown(article)
        except DocumentNotFound as error:
            scores.append(ArticleScore(id=entry.id, lang=entry.lang, refused=True,
                                       points_total=len(entry.points), points_met=0,
                                       missing=[p[0] for p in entry.points], citations=0,
                                       invalid_citations=[f"{error}"], uncited_paragraphs=[],
                                       english_share=None, seconds=0.0))
            continue
        seconds = time.perf_counter() - started
        scores.append(score_article(entry, article, engine.snapshot, seconds))
    return scores


def aggregate_articles(scores: list[ArticleScore]) -> dict[str, float | int | None]:
    total_points = sum(s.points_total for s in scores)
    total_citations = sum(s.citations for s in scores)
    invalid = sum(len(s.invalid_citations) for s in scores)
    unselected = sum(1 for s in scores for i in s.invalid_citations if "not among the clauses" in i)
    shares = [s.english_share for s in scores if s.english_share is not None]
    times = [s.seconds for s in scores]
    return {
        "articles": len(scores),
        "refused": sum(s.refused for s in scores),
        "point_coverage": (sum(s.points_met for s in scores) / total_points) if total_points else None,
        "min_article_coverage": min((s.coverage for s in scores), default=None),
        "citations": total_citations,
        "citation_validity": ((total_citations - invalid) / total_citations) if total_citations else None,
        "invalid_citations": invalid,
        "unselected_citations": unselected,
        "uncited_paragraphs": sum(len(s.uncited_paragraphs) for s in scores),
        "english_share": statistics.fmean(shares) if shares else None,
        "seconds_per_article": statistics.fmean(times) if times else None,
        "seconds_p95": percentile(times, 95) if times else None,
    }


def check_article_thresholds(metrics: dict[str, Any], path: str | Path) -> list[str]:
    """Failures against the [min] / [max] tables; an unmeasured metric fails."""
    return threshold_failures(metrics, path)


def print_article_summary(scores: list[ArticleScore], metrics: dict[str, Any],
                          failures: list[str], console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(title="directive-qa article evaluation")
    for column in ("entry", "lang", "points", "citations", "invalid", "uncited", "English", "s"):
        table.add_column(column, justify="left" if column == "entry" else "right")
    for s in scores:
        table.add_row(s.id, s.lang, f"{s.points_met}/{s.points_total}", str(s.citations),
                      str(len(s.invalid_citations)), str(len(s.uncited_paragraphs)),
                      "n/a" if s.english_share is None else f"{s.english_share:.2f}", f"{s.seconds:.2f}")
    console.print(table)
    for s in scores:
        for item in s.missing:
            console.print(f"  {s.id}: missing point “{item}”")
        for item in s.invalid_citations + s.uncited_paragraphs:
            console.print(f"  {s.id}: {item}")
    for metric, value in metrics.items():
        shown = "n/a" if value is None else (str(value) if isinstance(value, int) else f"{value:.3f}")
        console.print(f"{metric}: {shown}")
    print_failures(console, failures)


def write_article_report(scores: list[ArticleScore], metrics: dict[str, Any], failures: list[str],
                         out_dir: str | Path) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "articles.json"
    path.write_text(json.dumps({"metrics": metrics, "failures": failures,
                                "articles": [asdict(s) for s in scores]},
                               ensure_ascii=False, indent=2), encoding="utf-8")
    return path
