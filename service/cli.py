"""`dqa`: every operation of the API from the command line, with --json for scripts.

`--url URL` runs the same commands against a running service instead of a store folder.
Exit codes: 0 ok · 1 some input failed · 2 usage error · 3 not found · 4 store unavailable.
"""
from __future__ import annotations

import json
import os
import sys
from importlib.metadata import entry_points
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
_remote_url: str | None = None


def fail(message: str, code: int) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.callback()
def main_options(store: Optional[Path] = typer.Option(None, "--store", help="store folder (DQA_STORE)"),
                 url: Optional[str] = typer.Option(None, "--url", envvar="DQA_URL",
                                                   help="talk to a running service instead of a store")):
    global _remote_url
    if store is not None:
        os.environ["DQA_STORE"] = str(store)
    _remote_url = url


def settings():
    from service.settings import Settings

    return Settings()


def local_runtime():
    """The store-backed runtime; for operations that only exist on a store folder."""
    from service.runtime import get_runtime
    from service.store import EmbedderMismatch, StoreLocked

    if _remote_url:
        from service.client import NotOverHttp

        fail(str(NotOverHttp(sys.argv[1] if len(sys.argv) > 1 else "this command")), EXIT_USAGE)
    try:
        return get_runtime(settings())
    except (StoreLocked, EmbedderMismatch) as error:
        fail(str(error), EXIT_STORE)


def service():
    """Runtime (store folder) or RemoteService (--url): the same operations either way."""
    if _remote_url:
        from service.client import RemoteService

        return RemoteService(_remote_url, os.environ.get("DQA_API_KEY"))
    return local_runtime()


def run(operation, *args, **kwargs):
    """Call an operation and turn domain errors into one readable line and an exit code."""
    from service.client import RemoteError
    from service.qa import AmbiguousDocument
    from service.runtime import BatchRejected, LLMNotConfigured
    from service.store import DocumentNotFound

    try:
        return operation(*args, **kwargs)
    except DocumentNotFound as error:
        fail(str(error), EXIT_NOT_FOUND)
    except KeyError as error:
        fail(f"{error.args[0]} is not in the corpus", EXIT_NOT_FOUND)
    except (AmbiguousDocument, LLMNotConfigured) as error:
        fail(str(error), EXIT_USAGE)
    except BatchRejected as error:
        fail(str(error), EXIT_FAILED)
    except RemoteError as error:
        code = {0: EXIT_STORE, 404: EXIT_NOT_FOUND, 503: EXIT_STORE}.get(
            error.status, EXIT_USAGE if 400 <= error.status < 500 else EXIT_FAILED)
        fail(str(error), code)


def print_json(data) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@app.command()
def normalize(file: Path, json_out: bool = typer.Option(False, "--json")):
    """Print the repaired text of FILE (layout repair only; wording untouched)."""
    from ingest.loaders import IngestError, load_file
    from ingest.repair import repair_text

    if not file.is_file():
        fail(f"{file}: no such file", EXIT_NOT_FOUND)
    try:
        decoded = load_file(file)
    except IngestError as error:
        fail(str(error), EXIT_FAILED)
    result = repair_text(decoded.text)
    result.stats.encoding, result.stats.converted_from = decoded.encoding, decoded.converted_from
    if json_out:
        print_json({"text": result.text, "stats": result.stats.model_dump()})
    else:
        sys.stdout.write(result.text + "\n")


@app.command()
def ingest(paths: list[Path], manifest: Optional[Path] = typer.Option(None, "--manifest"),
           json_out: bool = typer.Option(False, "--json")):
    """Ingest files and folders (.txt .md .html .docx .pdf) into the store (or upload with --url)."""
    from ingest.pipeline import collect_files

    svc = service()
    found, _ = collect_files(paths)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=True, disable=json_out) as progress:
        parse_task = progress.add_task("parsing", total=len(found))
        index_task = progress.add_task("indexing", total=None)
        reports = run(svc.ingest_paths, paths, manifest,
                      on_file=lambda _: progress.advance(parse_task),
                      on_document=lambda _: progress.advance(index_task))
    if json_out:
        print_json([r.model_dump(mode="json") for r in reports])
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
    summaries = run(service().summaries)
    if json_out:
        print_json([s.model_dump(mode="json") for s in summaries])
        return
    table = Table("number", "kind", "issued", "clauses", "identity", "subject")
    for s in summaries:
        table.add_row(s.number, s.kind or "", str(s.issued or ""), str(s.clauses),
                      s.identity_method, (s.subject or "")[:70])
    console.print(table)


@app.command()
def show(number: str, json_out: bool = typer.Option(False, "--json")):
    """Metadata, clause tree, references and identity evidence of one document."""
    document = run(service().describe, number)
    if json_out:
        print_json(document)
        return
    signer = document.get("signer")
    identity = document["identity"]
    console.print(f"[bold]{document.get('kind') or ''} {document['number']}[/bold]  issued "
                  f"{document.get('issued')}  place {document.get('place')}")
    console.print(f"subject: {document.get('subject')}")
    console.print(f"issuer: {document.get('issuer')}   signer: "
                  f"{signer['name'] + ' (' + signer['capacity'] + ')' if signer else '-'}")
    console.print(f"recipients: {'; '.join(document.get('recipients') or [])}")
    console.print(f"identity: {identity['method']} (confidence {identity['confidence']})")
    for signal in identity.get("signals", []):
        console.print(f"  · {signal}")
    if identity.get("source"):
        console.print(f"  evidence source: {identity['source']}")
    tree = Tree("clauses")
    nodes = {}
    for clause in document["clauses"]:
        label = f"[cyan]{clause['path']}[/cyan] {clause['label_vi']} — {clause['text'][:70]}"
        nodes[clause["path"]] = nodes.get(clause.get("parent"), tree).add(label)
    console.print(tree)
    for ref in document.get("references", []):
        console.print(f"→ {ref.get('kind') or ''} {ref['number']} {ref.get('issued') or ''} "
                      f"(in {ref.get('citing_clause')})")
    for ref in document.get("references_in", []):
        console.print(f"← cited by {ref['from']} ({ref['clause']})")
    for warning in document.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")


@app.command()
def clause(clause_id: str, json_out: bool = typer.Option(False, "--json")):
    """One clause by ID (e.g. 3476/BHXH-TCCB#2.a)."""
    found = run(service().clause, clause_id)
    if json_out:
        print_json(found.model_dump(mode="json"))
        return
    console.print(f"[cyan]{found.id}[/cyan] {found.label_vi} / {found.label_en}", highlight=False)
    console.print(found.text, highlight=False)


@app.command()
def rm(number: str):
    """Remove a document and its clauses."""
    removed_number, removed = run(service().remove, number)
    console.print(f"removed {removed_number} ({removed} clauses)")


@app.command()
def search(query: str, top_k: int = typer.Option(10, "--top-k", min=1, max=50),
           json_out: bool = typer.Option(False, "--json")):
    """Hybrid search over clauses."""
    if not query.strip():
        fail("the query is empty", EXIT_USAGE)
    hits = run(service().search, query, top_k)
    if json_out:
        print_json({"query": query, "hits": [h.model_dump(mode="json") for h in hits]})
        return
    for hit in hits:
        console.print(f"[cyan]{hit.id}[/cyan] ({hit.label_vi}) {hit.score:.4f}\n  {hit.text[:160]}")


@app.command()
def ask(question: str, lang: Optional[str] = typer.Option(None, "--lang"),
        json_out: bool = typer.Option(False, "--json"),
        no_llm: bool = typer.Option(False, "--no-llm")):
    """Answer a question with checked clause citations."""
    if lang not in (None, "vi", "en"):
        fail(f"unknown language '{lang}' (use vi or en)", EXIT_USAGE)
    if not question.strip():
        fail("the question is empty", EXIT_USAGE)
    answer = run(service().ask, question, lang, use_llm=False if no_llm else None)
    if json_out:
        print_json(answer.model_dump(mode="json"))
        return
    console.print(answer.answer, highlight=False)
    for c in answer.citations:
        console.print(f"[{c.n}] {c.id} — {c.label}: “{c.quote[:200]}”", highlight=False)


@app.command()
def translate(number: Optional[str] = typer.Argument(None, help="document number; omit with --all"),
              all_documents: bool = typer.Option(False, "--all", help="every document"),
              json_out: bool = typer.Option(False, "--json")):
    """Fill the clause translation cache (English, machine translation, one clause at a time).
    Each accepted translation is stored as it arrives: an interrupted run resumes where it was."""
    if not number and not all_documents:
        fail("name a document number or pass --all", EXIT_USAGE)
    rt = local_runtime()
    numbers = None if all_documents else [number]
    total = run(rt.clause_ids_to_translate, numbers)
    results = {}
    with Progress(TextColumn("translating"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True, disable=json_out) as progress:
        task = progress.add_task("translate", total=total)
        for clause_id, english in run(lambda: list_progress(rt.translate(numbers), progress, task)):
            results[clause_id] = english
    failed = [cid for cid, text in results.items() if not text]
    if json_out:
        print_json({"translated": {k: v for k, v in results.items() if v}, "rejected": failed})
    else:
        console.print(f"{len(results) - len(failed)} clauses translated (machine translation), "
                      f"{len(failed)} rejected by the checks")


def list_progress(items, progress, task) -> list:
    collected = []
    for item in items:
        collected.append(item)
        progress.advance(task)
    return collected


@app.command()
def draft(question: str, doc: list[str] = typer.Option([], "--doc", help="document number(s)"),
          lang: str = typer.Option("vi", "--lang"), fmt: str = typer.Option("md", "--format"),
          out: Optional[Path] = typer.Option(None, "--out", help="file to write (required for docx)"),
          asker: Optional[str] = typer.Option(None, "--asker"),
          json_out: bool = typer.Option(False, "--json")):
    """Draft a LawNet-style Q&A article with a citation on every paragraph."""
    from pydantic import ValidationError

    from service.articles import ArticleRequest

    try:
        request = ArticleRequest(question=question, documents=doc, lang=lang, format=fmt, asker=asker)
    except ValidationError as error:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()), EXIT_USAGE)
    if fmt == "docx" and out is None:
        fail("--format docx needs --out FILE", EXIT_USAGE)
    with Progress(TextColumn("translating clauses"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True, disable=json_out) as progress:
        task = None

        def on_progress(step) -> None:     # only an English draft with an LLM translates
            nonlocal task
            if task is None:
                task = progress.add_task("translate", total=step.total)
            progress.update(task, completed=step.done)

        article, rendered = run(service().draft_rendered, request, on_progress)
    refused = article is not None and article.refused
    if out:
        out.write_bytes(rendered if isinstance(rendered, bytes) else rendered.encode("utf-8"))
        summary = "refused" if refused else (f"{len(article.citations)} citations" if article else "docx")
        console.print(f"wrote {out} ({summary})")
    elif json_out and article is not None:
        print_json({**article.model_dump(mode="json"), "rendered": rendered})
    else:
        sys.stdout.write(rendered if isinstance(rendered, str) else "")
    if refused:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000):
    """Run the HTTP service (OpenAPI at /docs, widget demo at /)."""
    import uvicorn

    from service.api import create_app

    rt = local_runtime()     # open the store now: a locked store fails here with a clear message
    report = rt.check()
    if not report.ok:
        err.print(f"[yellow]warning:[/yellow] the store is damaged: {report.advice}",
                  highlight=False, soft_wrap=True)
    uvicorn.run(create_app(settings()), host=host, port=port, log_level="warning")


@app.command()
def check(json_out: bool = typer.Option(False, "--json")):
    """Check the store: clause points against document records; exit 1 when damaged."""
    report = local_runtime().check()
    if json_out:
        print_json(report.model_dump(mode="json"))
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
    counts = local_runtime().export(file)
    report_snapshot("wrote", file, counts, json_out)


@app.command("import")
def import_(file: Path, replace: bool = typer.Option(False, "--replace",
                                                    help="replace a non-empty store's content"),
            json_out: bool = typer.Option(False, "--json")):
    """Load a snapshot written by `dqa export` (same embedder; empty store unless --replace)."""
    from service.store.snapshot import SnapshotError, StoreNotEmpty

    if not file.is_file():
        fail(f"{file}: no such file", EXIT_NOT_FOUND)
    rt = local_runtime()
    try:
        counts = rt.import_(file, replace=replace)
    except StoreNotEmpty as error:
        fail(str(error), EXIT_USAGE)
    except SnapshotError as error:
        fail(str(error), EXIT_FAILED)
    report_snapshot("imported", file, counts, json_out)


def report_snapshot(verb: str, file: Path, counts: dict, json_out: bool) -> None:
    if json_out:
        print_json({"file": str(file), "counts": counts})
    else:
        console.print(f"{verb} {file}: {counts['document']} documents, {counts['clause']} clauses, "
                      f"{counts['commentary']} commentaries, {counts['meta']} cache entries",
                      highlight=False)


def _load_plugins() -> None:
    """Commands from other packages (e.g. `dqa eval` from eval/): service never imports them,
    they register themselves through the `dqa.commands` entry point group."""
    for entry in entry_points(group="dqa.commands"):
        entry.load()(app)


_load_plugins()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
