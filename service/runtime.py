"""The one orchestrator: every user operation, called by both the API and the CLI.

One runtime per store per process (Qdrant's embedded store locks its folder), holding the
store, the engine and the optional LLM composer. Routes and commands translate requests and
errors; what an operation does lives here.
"""
from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ingest.commentary import align
from ingest.model import Clause, Commentary, Document
from ingest.pipeline import Batch, FileReport, ingest_files, ingest_upload
from service.articles import Article, ArticleRequest, draft_article, render
from service.qa import Engine
from service.qa.render import glossary
from service.schemas import Answer, DocumentSummary, Hit, Turn
from service.settings import Settings
from service.store import DocumentNotFound, IntegrityReport, build_embedder, open_store

_lock = threading.Lock()
_runtimes: dict[str, "Runtime"] = {}


class LLMNotConfigured(RuntimeError):
    def __init__(self) -> None:
        super().__init__("no LLM configured: set DQA_LLM=llamacpp (after `make llm`) or DQA_LLM=openai")


class BatchRejected(RuntimeError):
    """An upload whose document loses a same-number conflict (nothing was written)."""


@dataclass(frozen=True)
class StreamEvent:
    event: str            # "evidence" | "token" | "notice" | "final"
    data: dict


@dataclass(frozen=True)
class TranslationProgress:
    done: int             # clauses translated so far (accepted or rejected by the checks)
    total: int            # clauses this draft needs in English
    clause: str | None = None
    accepted: bool | None = None


@dataclass(frozen=True)
class IncomingReference:
    source: str           # number of the citing document
    clause: str | None    # path of the citing clause
    mention: str


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = build_embedder(settings.embedder, settings.embed_model)
        self.store = open_store(settings, self.embedder)
        self.engine = Engine(self.store, default_top_k=settings.top_k)
        self.write_lock = threading.Lock()       # one writer at a time; readers never wait
        self._llm = None
        self._llm_lock = threading.Lock()
        # LLM generations run here, bounded, so a slow model never ties up request threads.
        self._llm_pool = ThreadPoolExecutor(max_workers=max(1, settings.llm_max_concurrent),
                                            thread_name_prefix="dqa-llm")

    # ------------------------------------------------------------ LLM
    @property
    def llm_enabled(self) -> bool:
        return self.settings.llm != "none"

    def wants_llm(self, use_llm: bool | None) -> bool:
        """The request's choice, bounded by what is configured."""
        return self.llm_enabled if use_llm is None else (use_llm and self.llm_enabled)

    def composer(self):
        """The LLM composer, built on first use (loading a GGUF takes seconds)."""
        from service.llm.composer import LLMComposer
        from service.llm import build_llm

        with self._llm_lock:
            if self._llm is None:
                llm = build_llm(self.settings)
                self._llm = (LLMComposer(llm, self.settings.llm_max_concurrent)
                             if llm is not None else None)
            return self._llm

    # ------------------------------------------------------------ answers
    def ask(self, question: str, lang: str | None = None, history: list[Turn] | None = None,
            top_k: int | None = None, use_llm: bool | None = None,
            on_token: Callable[[str], None] | None = None) -> Answer:
        """Grounded answer, rewritten by the LLM when enabled and verified."""
        answer = self.engine.ask(question, lang, history, top_k)
        if not self.wants_llm(use_llm) or answer.refused:
            return answer
        composer = self.composer()
        return composer.compose(self.engine, question, answer, on_token) if composer else answer

    def ask_stream(self, question: str, lang: str | None = None,
                   history: list[Turn] | None = None, top_k: int | None = None,
                   use_llm: bool | None = None) -> Iterator[StreamEvent]:
        """Evidence first (the retrieved, checked clauses reach the reader before any prose),
        then the answer text as tokens, then the final verified `Answer`."""
        from service.llm.composer import LLMBusy

        grounded = self.engine.ask(question, lang, history, top_k)
        yield StreamEvent("evidence", {
            "citations": [c.model_dump(mode="json") for c in grounded.citations],
            "refused": grounded.refused, "language": grounded.language})
        answer = grounded
        composer = self.composer() if self.wants_llm(use_llm) and not grounded.refused else None
        if composer is None:
            for line in grounded.answer.split("\n"):
                yield StreamEvent("token", {"text": line + "\n"})
        else:
            tokens: queue.Queue = queue.Queue()
            done = object()

            def compose() -> Answer:
                try:
                    return composer.compose(self.engine, question, grounded, tokens.put)
                finally:
                    tokens.put(done)

            future = self._llm_pool.submit(compose)
            for delta in iter(tokens.get, done):
                yield StreamEvent("token", {"text": delta})
            try:
                answer = future.result()
            except LLMBusy as error:
                yield StreamEvent("notice", {"detail": str(error)})
        yield StreamEvent("final", answer.model_dump(mode="json"))

    def search(self, query: str, top_k: int = 10) -> list[Hit]:
        return self.engine.search(query, top_k)

    # ------------------------------------------------------------ documents
    def documents(self) -> list[Document]:
        return list(self.engine.documents.values())

    def summaries(self) -> list[DocumentSummary]:
        return [DocumentSummary.of(d) for d in self.documents()]

    def document(self, number: str) -> Document:
        return self.engine.document(number)

    def clause(self, clause_id: str) -> Clause:
        return self.engine.clause(clause_id)

    def references_in(self, document: Document) -> list[IncomingReference]:
        """Where other stored documents cite this one."""
        return [IncomingReference(other.number, ref.citing_clause, ref.mention)
                for other in self.engine.documents.values() for ref in other.references
                if ref.number == document.number]

    def describe(self, number: str) -> dict:
        """One document as the API shows it: metadata, clause tree, references out and in,
        identity evidence (the raw text stays out)."""
        from pathlib import PurePath

        doc = self.document(number)
        return {**doc.model_dump(mode="json", exclude={"source"}),
                "source": {"file": PurePath(doc.source.file).name, "sha256": doc.source.sha256,
                           "stats": doc.source.stats.model_dump()},
                "references_in": [{"from": r.source, "clause": r.clause, "mention": r.mention}
                                  for r in self.references_in(doc)]}

    def known(self) -> tuple[list[Document], list[Commentary]]:
        return self.store.documents(), self.store.commentaries()

    def ingest_paths(self, paths: list[Path], manifest: Path | None = None,
                     on_file: Callable[[Path], None] | None = None,
                     on_document: Callable[[Document], None] | None = None) -> list[FileReport]:
        """Parse files and folders, then store what parsed; one bad file never sinks the batch."""
        known, known_commentaries = self.known()
        batch = ingest_files(paths, manifest, self.settings.max_upload_bytes, known,
                             known_commentaries, on_file=on_file)
        return self.commit_batch(batch, on_document=on_document)

    def ingest_upload(self, data: bytes, name: str) -> list[FileReport]:
        """One uploaded file; raises IngestError (unreadable) or BatchRejected (conflict)."""
        known, known_commentaries = self.known()
        batch = ingest_upload(data, name, self.settings.max_upload_bytes, known, known_commentaries)
        if batch.failed:
            raise BatchRejected(batch.failed[0].error or "document rejected")
        return self.commit_batch(batch)

    def commit_batch(self, batch: Batch,
                     on_document: Callable[[Document], None] | None = None) -> list[FileReport]:
        """Write a parsed batch; re-ingesting identical content is a no-op (same point IDs)."""
        with self.write_lock:
            self.store.upsert_documents(batch.documents, on_document=on_document)
            for commentary in batch.commentaries:
                self.store.upsert_commentary(commentary)
            # Commentaries stored earlier may now align with a newly ingested directive.
            stored = {c.id for c in batch.commentaries}
            for commentary in self.store.commentaries():
                if commentary.id in stored:
                    continue
                target = next((d for d in batch.documents if d.number == commentary.discusses), None)
                if target:
                    commentary.alignments = align(target, commentary)
                    self.store.upsert_commentary(commentary)
            self.engine.refresh()
        return batch.reports

    def remove(self, number: str) -> tuple[str, int]:
        """Remove a document (full or bare number); returns (number, clauses removed). A number
        with no document record but leftover clause points (what `dqa check` reports as
        orphans) is passed to the store as written, which removes them."""
        with self.write_lock:
            try:
                number = self.engine.document(number).number
            except DocumentNotFound:
                pass
            removed = self.store.remove_document(number)
            self.engine.refresh()
        return number, removed

    # ------------------------------------------------------------ articles and translation
    def draft(self, request: ArticleRequest,
              on_progress: Callable[[TranslationProgress], None] | None = None) -> Article:
        """Draft an article. An English draft with an LLM configured first machine-translates
        the clauses it selected that have no English rendering (official, commentary, cached),
        one at a time, verified before caching, reporting each; then drafts again with them."""
        article = draft_article(self.engine, request)
        if request.lang != "en" or not self.llm_enabled or article.refused:
            return article
        needed = self.clauses_without_english(article.selected)
        if not needed:
            return article
        from service.llm.composer import translate_missing

        vi_en = {vi: en for en, vi in glossary().items()}
        if on_progress:
            on_progress(TranslationProgress(done=0, total=len(needed)))
        translated = translate_missing(self.engine, self.store, self.composer().llm, needed, vi_en)
        for done, (clause_id, english) in enumerate(translated, 1):
            if on_progress:
                on_progress(TranslationProgress(done=done, total=len(needed), clause=clause_id,
                                                accepted=english is not None))
        return draft_article(self.engine, request)

    def draft_events(self, request: ArticleRequest) -> Iterator[StreamEvent]:
        """`draft` as events: "progress" per clause translated, then "final" with the article
        rendered (md or html). A draft that may translate runs in the bounded LLM pool (as
        `ask_stream`'s generation does) so its progress reaches the reader as it happens."""
        if request.lang == "en" and self.llm_enabled:
            steps: queue.Queue = queue.Queue()
            done = object()

            def work() -> Article:
                try:
                    return self.draft(request, steps.put)
                finally:
                    steps.put(done)

            future = self._llm_pool.submit(work)
            for step in iter(steps.get, done):
                yield StreamEvent("progress", vars(step))
            article = future.result()
        else:
            article = self.draft(request)
        payload = article.model_dump(mode="json")
        payload["markdown" if request.format == "md" else "html"] = render(article, request.format)
        yield StreamEvent("final", payload)

    def clauses_without_english(self, clause_ids: list[str]) -> list[str]:
        """Those of these clauses that no English source renders yet (best source first:
        official version, aligned commentary, cached machine translation)."""
        from service.qa.compose import GroundedComposer

        snapshot = self.engine.snapshot
        composer = GroundedComposer(snapshot, self.store)
        return [cid for cid in dict.fromkeys(clause_ids)
                if cid in snapshot.clauses and composer.english(snapshot.clauses[cid])[0] is None]

    def draft_rendered(self, request: ArticleRequest,
                       on_progress: Callable[[TranslationProgress], None] | None = None
                       ) -> tuple[Article, str | bytes]:
        article = self.draft(request, on_progress)
        return article, render(article, request.format)

    def translate(self, numbers: list[str] | None) -> Iterator[tuple[str, str | None]]:
        """Machine-translate the clauses of these documents (all when None) that have no cached
        English yet; yields (clause id, English or None when the checks rejected it). Each
        accepted translation is cached as it arrives, so an interrupted run resumes."""
        from service.llm.composer import translate_missing

        if not self.llm_enabled:
            raise LLMNotConfigured()
        documents = self.documents() if numbers is None else [self.document(n) for n in numbers]
        ids = [c.id for d in documents for c in d.clauses]
        vi_en = {vi: en for en, vi in glossary().items()}
        try:
            yield from translate_missing(self.engine, self.store, self.composer().llm, ids, vi_en)
        finally:
            self.engine.refresh()

    def clause_ids_to_translate(self, numbers: list[str] | None) -> int:
        documents = self.documents() if numbers is None else [self.document(n) for n in numbers]
        return sum(len(d.clauses) for d in documents)

    # ------------------------------------------------------------ operations
    def check(self) -> IntegrityReport:
        return self.store.check_integrity()

    def export(self, path: Path) -> dict[str, int]:
        from service.store.snapshot import export_snapshot

        with self.write_lock:
            return export_snapshot(self.store, path)

    def import_(self, path: Path, replace: bool = False) -> dict[str, int]:
        from service.store.snapshot import import_snapshot

        with self.write_lock:
            counts = import_snapshot(self.store, path, replace=replace)
            self.engine.refresh()
        return counts

    def close(self) -> None:
        self._llm_pool.shutdown(wait=False, cancel_futures=True)
        self.store.close()


def get_runtime(settings: Settings) -> Runtime:
    key = f"{settings.store}|{settings.qdrant_url}"
    with _lock:
        if key not in _runtimes:
            _runtimes[key] = Runtime(settings)
        return _runtimes[key]


def reset_runtimes() -> None:
    with _lock:
        for runtime in _runtimes.values():
            runtime.close()
        _runtimes.clear()


# Close clients before interpreter teardown (qdrant-client's __del__ fails that late).
atexit.register(reset_runtimes)
