"""A generator of realistic directive-shaped documents for benchmarks.

Documents are assembled from the real clause texts of samples/ (re-numbered, with varied
dates, actors and deadlines) so that tokenisation, lengths and vocabulary stay realistic.
Vectors are precomputed once per distinct base clause and reused with a small, seeded
perturbation, which separates the embedding cost from the store and retrieval cost.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from ingest.model import Clause, Document, Source
from ingest.pipeline import ingest_files

REPO = Path(__file__).resolve().parent.parent
ACTORS = ["Vụ Pháp chế", "Vụ Tổ chức cán bộ", "Trung tâm Công nghệ thông tin", "Ban Thu",
          "Giám đốc BHXH tỉnh", "Vụ Thanh tra - Kiểm tra", "Văn phòng BHXH Việt Nam"]


def base_clauses() -> list[tuple[Document, Clause]]:
    batch = ingest_files([REPO / "samples", REPO / "eval" / "datasets" / "synthetic"])
    return [(d, c) for d in batch.documents for c in d.clauses]


def generate(n_clauses: int, seed: int = 7, clauses_per_doc: int = 12):
    """Yield synthetic Documents until n_clauses clauses exist, plus the base index of each clause."""
    rng = random.Random(seed)
    bases = base_clauses()
    made = 0
    doc_index = 0
    while made < n_clauses:
        doc_index += 1
        number = f"{10000 + doc_index}/BHXH-{rng.choice(['PC', 'TCCB', 'TTKT', 'CNTT', 'KH'])}"
        issued = date(2015, 1, 1) + timedelta(days=rng.randrange(3650))
        clauses, origins, texts = [], [], []
        for i in range(1, min(clauses_per_doc, n_clauses - made) + 1):
            base_index = rng.randrange(len(bases))
            _, base = bases[base_index]
            body = base.text[len(base.marker):].strip() if base.marker else base.text
            deadline = issued + timedelta(days=rng.randrange(10, 120))
            text = (f"{i}. {rng.choice(ACTORS)} {body} Báo cáo trước ngày "
                    f"{deadline.day}/{deadline.month}/{deadline.year}.")
            texts.append(text)
            origins.append(base_index)
        raw = "\n".join(texts)
        offset = 0
        for i, text in enumerate(texts, 1):
            path = str(i)
            clauses.append(Clause(id=f"{number}#{path}", doc=number, path=path, marker=f"{i}.",
                                  label_vi=f"khoản {i}", label_en=f"clause {i}", text=text,
                                  span=(offset, offset + len(text)), raw_span=(offset, offset + len(text))))
            offset += len(text) + 1
        made += len(clauses)
        yield Document(number=number, kind="Công văn", issued=issued, issuer="Bảo hiểm xã hội Việt Nam",
                       subject="văn bản tổng hợp phục vụ đo hiệu năng", clauses=clauses,
                       source=Source(file=f"synthetic/{doc_index}.txt", sha256=f"{doc_index:064x}",
                                     raw_text=raw, repaired_text=raw)), origins


class PrecomputedEmbedder:
    """Wraps the real embedder: base clause vectors computed once, then perturbed per copy."""

    def __init__(self, embedder, bases, seed: int = 11):
        self.inner = embedder
        self.identity = embedder.identity
        self.dim = embedder.dim
        self.rng = np.random.default_rng(seed)
        self.base_vectors = np.asarray(embedder.embed_passages([c.text for _, c in bases]))
        self.pending: list[int] = []

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        origins, self.pending = self.pending[: len(texts)], self.pending[len(texts):]
        vectors = self.base_vectors[origins] + self.rng.normal(0, 0.01, (len(texts), self.dim))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.tolist()
