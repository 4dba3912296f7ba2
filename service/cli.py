"""`dqa`: every operation of the API from the command line, with --json for scripts.

Exit codes: 0 ok · 1 some input failed · 2 usage error · 3 not found · 4 store unavailable.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.tree import Tree

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="directive-qa: answers about Vietnamese directives with clause citations.")
console = Console()
err = Console(stderr=True)

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_STORE = 1, 2, 3, 4


def _fail(message: str, code: int) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.callback()
def main_options(store: Optional[Path] = typer.Option(None, "--store", help="store folder (DQA_STORE)")):
    if store is not None:
        os.environ["DQA_STORE"] = str(store)


def _settings():
    from service.settings import Settings

    return Settings()


def _runtime():
    from ingest.index import EmbedderMismatch, StoreLocked
    from service.runtime import get_runtime

    try:
        return get_runtime(_settings())
    except (StoreLocked, EmbedderMismatch) as error:
        _fail(str(error), EXIT_STORE)


def _print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@app.command()
def normalize(file: Path, json_out: bool = typer.Option(False, "--json")):
    """Print the repaired text of FILE (layout repair only; wording untouched)."""
    from ingest.loaders import IngestError, load_file
    from ingest.repair import repair_text

    if not file.is_file():
        _fail(f"{file}: no such file", EXIT_NOT_FOUND)
    try:
        decoded = load_file(file)
    except IngestError as error:
        _fail(str(error), EXIT_FAILED)
    result = repair_text(decoded.text)
    result.stats.encoding, result.stats.converted_from = decoded.encoding, decoded.converted_from
    if json_out:
        _print_json({"text": result.text, "stats": result.stats.model_dump()})
    else:
        sys.stdout.write(result.text + "\n")


@app.command()
def ingest(paths: list[Path], manifest: Optional[Path] = typer.Option(None, "--manifest"),
           json_out: bool = typer.Option(False, "--json")):
    """Ingest files and folders (.txt .md .html .docx .pdf) into the store."""
    from ingest.pipeline import ingest_files

    settings = _settings()
    rt = _runtime()
    known, known_commentaries = rt.known()
    files = [p for p in paths]
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=True, disable=json_out) as progress:
        from ingest.pipeline import collect_files

        found, _ = collect_files(files)
        parse_task = progress.add_task("parsing", total=len(found))
        batch = ingest_files(files, manifest, settings.max_upload_bytes, known, known_commentaries,
                             on_file=lambda _: progress.advance(parse_task))
        index_task = progress.add_task("indexing", total=len(batch.documents))
        reports = rt.commit_batch(batch, on_document=lambda _: progress.advance(index_task))
    if json_out:
        _print_json([r.model_dump(mode="json") for r in reports])
    else:
        for r in reports:
            if r.status in ("error", "superseded"):
                err.print(f"[red]error:[/red] {r.error}", highlight=False, soft_wrap=True)
                continue
            line = f"[green]{r.status}[/green] {Path(r.file).name}: {r.number or '-'}"
            if r.status == "ok":
                line += f" · {r.kind or '?'} · {r.issued or 'no date'} · {r.clauses} clauses"
            if r.repair:
                line += (f" · repairs: {r.repair.split_joins} joins, {r.repair.wrap_spaces} wraps, "
                         f"{r.repair.paragraph_breaks} breaks, {r.repair.respaced_words} respaced, "
                         f"{r.repair.boilerplate_lines} boilerplate lines")
            console.print(line, highlight=False, soft_wrap=True)
            for warning in r.warnings:
                console.print(f"    [yellow]warning:[/yellow] {warning}", highlight=False, soft_wrap=True)
    if any(r.status in ("error", "superseded") for r in reports):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def docs(json_out: bool = typer.Option(False, "--json")):
    """List the documents in the store."""
    from service.api import summary

    rt = _runtime()
    summaries = [summary(d) for d in rt.engine.documents.values()]
    if json_out:
        _print_json([s.model_dump(mode="json") for s in summaries])
        return
    table = Table("number", "kind", "issued", "clauses", "identity", "subject")
    for s in summaries:
        table.add_row(s.number, s.kind or "", str(s.issued or ""), str(s.clauses),
                      s.identity_method, (s.subject or "")[:70])
    console.print(table)


@app.command()
def show(number: str, json_out: bool = typer.Option(False, "--json")):
    """Metadata, clause tree, references and identity evidence of one document."""
    from ingest.index import DocumentNotFound

    rt = _runtime()
    try:
        document = rt.engine.document(number)
    except DocumentNotFound as error:
        _fail(str(error), EXIT_NOT_FOUND)
    incoming = [(o.number, r.citing_clause) for o in rt.engine.documents.values()
                for r in o.references if r.number == document.number]
    if json_out:
        data = document.model_dump(mode="json", exclude={"source"})
        data["references_in"] = [{"from": n, "clause": c} for n, c in incoming]
        _print_json(data)
        return
    console.print(f"[bold]{document.kind or ''} {document.number}[/bold]  issued {document.issued}  "
                  f"place {document.place}")
    console.print(f"subject: {document.subject}")
    console.print(f"issuer: {document.issuer}   signer: "
                  f"{document.signer.name + ' (' + document.signer.capacity + ')' if document.signer else '-'}")
    console.print(f"recipients: {'; '.join(document.recipients)}")
    console.print(f"identity: {document.identity.method} (confidence {document.identity.confidence})")
    for signal in document.identity.signals:
        console.print(f"  · {signal}")
    if document.identity.source:
        console.print(f"  evidence source: {document.identity.source}")
    tree = Tree("clauses")
    nodes = {}
    for clause in document.clauses:
        label = f"[cyan]{clause.path}[/cyan] {clause.label_vi} — {clause.text[:70]}"
        parent = nodes.get(clause.parent, tree)
        nodes[clause.path] = parent.add(label)
    console.print(tree)
    for ref in document.references:
        console.print(f"→ {ref.kind or ''} {ref.number} {ref.issued or ''} (in {ref.citing_clause})")
    for n, c in incoming:
        console.print(f"← cited by {n} ({c})")
    for warning in document.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def rm(number: str):
    """Remove a document and its clauses."""
    from ingest.index import DocumentNotFound

    rt = _runtime()
    try:
        with rt.write_lock:
            removed = rt.store.remove_document(number)
            rt.engine.refresh()
    except DocumentNotFound as error:
        _fail(str(error), EXIT_NOT_FOUND)
    console.print(f"removed {number} ({removed} clauses)")


@app.command()
def search(query: str, top_k: int = typer.Option(10, "--top-k", min=1, max=50),
           json_out: bool = typer.Option(False, "--json")):
    """Hybrid search over clauses."""
    if not query.strip():
        _fail("the query is empty", EXIT_USAGE)
    hits = _runtime().engine.search(query, top_k)
    if json_out:
        _print_json({"query": query, "hits": [h.model_dump(mode="json") for h in hits]})
        return
    for hit in hits:
        console.print(f"[cyan]{hit.id}[/cyan] ({hit.label_vi}) {hit.score:.4f}\n  {hit.text[:160]}")


@app.command()
def ask(question: str, lang: Optional[str] = typer.Option(None, "--lang"),
        json_out: bool = typer.Option(False, "--json"),
        no_llm: bool = typer.Option(False, "--no-llm")):
    """Answer a question with checked clause citations."""
    if lang not in (None, "vi", "en"):
        _fail(f"unknown language '{lang}' (use vi or en)", EXIT_USAGE)
    if not question.strip():
        _fail("the question is empty", EXIT_USAGE)
    answer = _runtime().ask(question, lang, use_llm=False if no_llm else None)
    if json_out:
        _print_json(answer.model_dump(mode="json"))
        return
    console.print(answer.answer, highlight=False)
    for c in answer.citations:
        console.print(f"[{c.n}] {c.id} — {c.label}: “{c.quote[:200]}”", highlight=False)


@app.command()
def translate(number: Optional[str] = typer.Argument(None, help="document number; omit with --all"),
              all_documents: bool = typer.Option(False, "--all", help="every document"),
              json_out: bool = typer.Option(False, "--json")):
    """Fill the clause translation cache (English, machine translation, one clause at a time)."""
    from ingest.index import DocumentNotFound
    from service.compose_llm import translate_missing
    from service.engine import glossary

    if not number and not all_documents:
        _fail("name a document number or pass --all", EXIT_USAGE)
    rt = _runtime()
    if not rt.llm_enabled:
        _fail("no LLM configured: set DQA_LLM=llamacpp (after `make llm`) or DQA_LLM=openai", EXIT_USAGE)
    try:
        documents = list(rt.engine.documents.values()) if all_documents else [rt.engine.document(number)]
    except DocumentNotFound as error:
        _fail(str(error), EXIT_NOT_FOUND)
    ids = [c.id for d in documents for c in d.clauses]
    vi_en = {vi: en for en, vi in glossary().items()}
    results = {}
    with Progress(TextColumn("translating"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True, disable=json_out) as progress:
        task = progress.add_task("translate", total=len(ids))
        for clause_id, english in translate_missing(rt.engine, rt.store, rt.composer().llm, ids, vi_en):
            results[clause_id] = english
            progress.advance(task)
    rt.engine.refresh()
    failed = [cid for cid, text in results.items() if not text]
    if json_out:
        _print_json({"translated": {k: v for k, v in results.items() if v}, "rejected": failed})
    else:
        console.print(f"{len(results) - len(failed)} clauses translated (machine translation), "
                      f"{len(failed)} rejected by the checks")


@app.command("eval")
def evaluate(datasets: list[Path],
             url: Optional[str] = typer.Option(None, "--url", help="score a running instance over HTTP"),
             baseline: str = typer.Option("", "--baseline", help="comma list: naive,bm25"),
             report: Path = typer.Option(Path("out/eval"), "--report", help="folder for the reports"),
             thresholds: Optional[Path] = typer.Option(None, "--thresholds"),
             judge: bool = typer.Option(False, "--judge", help="add the model-judged support score "
                                        "(needs DQA_LLM; not a headline metric)"),
             json_out: bool = typer.Option(False, "--json")):
    """Score answers, citations, retrieval and refusal on JSONL datasets; exit 1 below thresholds."""
    from eval.baselines import Bm25Baseline, NaiveBaseline, clause_spans_from_documents
    from eval.harness import (DEFAULT_THRESHOLDS, HttpSystem, InProcessSystem, check_thresholds,
                              corpus_index, print_summary, run_eval)
    from eval.report import write_reports

    for dataset in datasets:
        if not dataset.is_file():
            _fail(f"{dataset}: no such dataset file", EXIT_NOT_FOUND)
    wanted = [b.strip() for b in baseline.split(",") if b.strip()]
    unknown = set(wanted) - {"naive", "bm25"}
    if unknown:
        _fail(f"unknown baseline(s): {', '.join(sorted(unknown))} (use naive, bm25)", EXIT_USAGE)
    rt = _runtime()
    documents = list(rt.engine.documents.values())
    existing, texts = corpus_index(documents)
    system = HttpSystem(url) if url else InProcessSystem(rt.engine)
    spans = clause_spans_from_documents(documents)
    baselines = [{"naive": NaiveBaseline, "bm25": Bm25Baseline}[name](spans) for name in wanted]
    result = run_eval([str(d) for d in datasets], system, baselines, existing, texts,
                      show_progress=not json_out)
    failures = check_thresholds(result, thresholds or DEFAULT_THRESHOLDS)
    paths = write_reports(result, report, failures=failures)
    judged = None
    if judge:
        if not rt.llm_enabled:
            _fail("--judge needs an LLM: set DQA_LLM=llamacpp (after `make llm`) or DQA_LLM=openai",
                  EXIT_USAGE)
        from eval.judge import judge_support

        judged = judge_support(result, rt.composer().llm, texts)
        (report / "model_judged.json").write_text(json.dumps(judged, ensure_ascii=False, indent=2))
    if json_out:
        _print_json({"metrics": result.primary.metrics, "failures": failures,
                     "reports": [str(p) for p in paths], "model_judged": judged})
    else:
        print_summary(result, failures)
        if judged:
            console.print(f"model-judged support (not a headline metric): {judged['support_rate']} "
                          f"over {judged['pairs_checked']} sentence/clause pairs")
        console.print("reports: " + ", ".join(str(p) for p in paths))
    if failures:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def draft(question: str, doc: list[str] = typer.Option([], "--doc", help="document number(s)"),
          lang: str = typer.Option("vi", "--lang"), fmt: str = typer.Option("md", "--format"),
          out: Optional[Path] = typer.Option(None, "--out", help="file to write (required for docx)"),
          asker: Optional[str] = typer.Option(None, "--asker")):
    """Draft a LawNet-style Q&A article with a citation on every paragraph."""
    from pydantic import ValidationError

    from service.articles import ArticleRequest, draft_article, render

    try:
        request = ArticleRequest(question=question, documents=doc, lang=lang, format=fmt, asker=asker)
    except ValidationError as error:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()), EXIT_USAGE)
    if fmt == "docx" and out is None:
        _fail("--format docx needs --out FILE", EXIT_USAGE)
    try:
        article = draft_article(_runtime().engine, request)
    except ValueError as error:
        _fail(str(error), EXIT_NOT_FOUND)
    rendered = render(article, fmt)
    if out:
        out.write_bytes(rendered if isinstance(rendered, bytes) else rendered.encode("utf-8"))
        console.print(f"wrote {out} ({'refused' if article.refused else len(article.citations)} citations)")
    else:
        sys.stdout.write(rendered if isinstance(rendered, str) else "")
    if article.refused:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000):
    """Run the HTTP service (OpenAPI at /docs, widget demo at /)."""
    import uvicorn

    from service.api import create_app

    rt = _runtime()     # open the store now: a locked store fails here with a clear message
    report = rt.store.check_integrity()
    if not report.ok:
        err.print(f"[yellow]warning:[/yellow] the store is damaged: {report.advice}",
                  highlight=False, soft_wrap=True)
    uvicorn.run(create_app(_settings()), host=host, port=port, log_level="warning")


@app.command()
def check(json_out: bool = typer.Option(False, "--json")):
    """Check the store: clause points against document records; exit 1 when damaged."""
    report = _runtime().store.check_integrity()
    if json_out:
        _print_json(report.model_dump(mode="json"))
    elif report.ok:
        console.print(f"[green]ok[/green] {report.documents} documents, {report.clauses} clauses "
                      f"({report.embedder})", highlight=False)
    else:
        err.print(f"[red]damaged:[/red] {report.documents} documents, {report.clauses} clauses; "
                  f"orphans: {', '.join(report.orphan_clauses[:10]) or '-'}; "
                  f"missing: {', '.join(report.missing_clauses[:10]) or '-'}; "
                  f"hash mismatches: {', '.join(report.mismatched_hashes[:10]) or '-'}",
                  highlight=False, soft_wrap=True)
        err.print(f"advice: {report.advice}", highlight=False, soft_wrap=True)
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def export(file: Path, json_out: bool = typer.Option(False, "--json")):
    """Write a snapshot of the whole store (gzip JSON lines, vectors included) to FILE."""
    from ingest.snapshot import export_snapshot

    rt = _runtime()
    with rt.write_lock:
        counts = export_snapshot(rt.store, file)
    _report_snapshot("wrote", file, counts, json_out)


@app.command("import")
def import_(file: Path, replace: bool = typer.Option(False, "--replace",
                                                    help="replace a non-empty store's content"),
            json_out: bool = typer.Option(False, "--json")):
    """Load a snapshot written by `dqa export` (same embedder; empty store unless --replace)."""
    from ingest.snapshot import SnapshotError, StoreNotEmpty, import_snapshot

    if not file.is_file():
        _fail(f"{file}: no such file", EXIT_NOT_FOUND)
    rt = _runtime()
    try:
        with rt.write_lock:
            counts = import_snapshot(rt.store, file, replace=replace)
            rt.engine.refresh()
    except StoreNotEmpty as error:
        _fail(str(error), EXIT_USAGE)
    except SnapshotError as error:
        _fail(str(error), EXIT_FAILED)
    _report_snapshot("imported", file, counts, json_out)


def _report_snapshot(verb: str, file: Path, counts: dict, json_out: bool) -> None:
    if json_out:
        _print_json({"file": str(file), "counts": counts})
    else:
        console.print(f"{verb} {file}: {counts['document']} documents, {counts['clause']} clauses, "
                      f"{counts['commentary']} commentaries, {counts['meta']} cache entries",
                      highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
