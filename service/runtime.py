"""The process-wide runtime: ONE store client (local mode locks its folder), one engine."""
from __future__ import annotations

import atexit
import threading
from pathlib import Path

from ingest.embedders import build_embedder
from ingest.index import ClauseStore
from ingest.model import Commentary, Document
from ingest.pipeline import Batch, FileReport
from service.engine import Engine
from service.settings import Settings

_lock = threading.Lock()
_runtimes: dict[str, "Runtime"] = {}


class Runtime:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.embedder = build_embedder(settings.embedder, settings.embed_model)
        self.store = ClauseStore(Path(settings.store), self.embedder, settings.qdrant_url,
                                 settings.qdrant_api_key)
        self.engine = Engine(self.store)
        self.write_lock = threading.Lock()
        self._llm = None
        self._llm_lock = threading.Lock()

    @property
    def llm_enabled(self) -> bool:
        return self.settings.llm != "none"

    def composer(self):
        """The LLM composer, built on first use (loading a GGUF takes seconds)."""
        from service.compose_llm import LLMComposer
        from service.llm import LLMSettings, build_llm

        with self._llm_lock:
            if self._llm is None:
                llm = build_llm(LLMSettings(
                    backend=self.settings.llm, model_path=str(self.settings.llm_model_path),
                    api_base=self.settings.llm_api_base, api_model=self.settings.llm_api_model,
                    api_key=self.settings.llm_api_key or "not-needed"))
                self._llm = (LLMComposer(llm, self.settings.llm_max_concurrent)
                             if llm is not None else None)
            return self._llm

    def ask(self, question: str, lang=None, history=None, top_k=None, use_llm: bool | None = None,
            on_token=None):
        """Grounded answer, rewritten by the LLM when enabled and verified."""
        answer = self.engine.ask(question, lang, history, top_k)
        wants_llm = self.llm_enabled if use_llm is None else (use_llm and self.llm_enabled)
        if not wants_llm or answer.refused:
            return answer
        composer = self.composer()
        return composer.compose(self.engine, question, answer, on_token) if composer else answer

    def known(self) -> tuple[list[Document], list[Commentary]]:
        return self.store.documents(), self.store.commentaries()

    def commit_batch(self, batch: Batch, on_document=None) -> list[FileReport]:
        """Write a parsed batch; re-ingesting identical content is a no-op (same point IDs)."""
        with self.write_lock:
            for document in batch.documents:
                self.store.upsert_document(document)
                if on_document:
                    on_document(document)
            for commentary in batch.commentaries:
                self.store.upsert_commentary(commentary)
            # Commentaries stored earlier may now align with a newly ingested directive.
            stored = {c.id for c in batch.commentaries}
            for commentary in self.store.commentaries():
                if commentary.id in stored:
                    continue
                target = next((d for d in batch.documents if d.number == commentary.discusses), None)
                if target:
                    from ingest.commentary import align

                    commentary.alignments = align(target, commentary)
                    self.store.upsert_commentary(commentary)
            self.engine.refresh()
        return batch.reports

    def close(self) -> None:
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
