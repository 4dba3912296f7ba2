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
