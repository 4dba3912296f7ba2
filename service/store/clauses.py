"""Clauses as store points: deterministic IDs, the text embedded, underthesea tokens for the sparse
vector and the llama-index TextNode payload (parent/child relationships)."""
from __future__ import annotations

import importlib
import re
import sys
import threading
import types
import uuid
from functools import lru_cache

from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.utils import node_to_metadata_dict

from ingest.model import Clause, Document

_NAMESPACE = uuid.UUID("6f1d0f5e-8a43-4f3e-9a57-3d1c2b7e5a10")


def point_id(key: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, key))


_ABBREVIATION_RE = re.compile(r"((?:[^\W\d_]+\s+){1,7}?)\(([A-ZĐ]{2,8})\)")


def defined_abbreviations(text: str) -> dict[str, str]:
    """Abbreviations a document defines, e.g. "bảo hiểm y tế (BHYT)" → {"BHYT": "bảo hiểm y tế"}:
    the long form is the run of words whose initials spell the abbreviation."""
    found: dict[str, str] = {}
    for m in _ABBREVIATION_RE.finditer(text):
        words, short = m.group(1).split(), m.group(2)
        for size in range(len(short), 0, -1):
            tail = words[-size:]
            initials = "".join(w[0] for w in tail).upper().replace("Đ", "D")
            if len(tail) == size and initials == short.replace("Đ", "D"):
                found.setdefault(short, " ".join(tail).lower())
                break
    return found


# `import underthesea` also imports its optional pipelines at once (translate pulls in torch and
# transformers: ≈ 2 of the 2.5 s the import takes). Only word_tokenize is used here, so while
# underthesea's package initialises those modules are stood in for by lazy ones: their functions
# (underthesea.translate, .classify, ...) import the real module on first call.
_OPTIONAL_PIPELINES = ("underthesea.pipeline.classification", "underthesea.pipeline.sentiment",
                       "underthesea.pipeline.lang_detect", "underthesea.pipeline.dependency_parse",
                       "underthesea.pipeline.translate", "underthesea.agent", "underthesea.address")
_import_lock = threading.Lock()
_word_tokenize = None


class _Deferred(types.ModuleType):
    """Stands in for an optional underthesea module during `import underthesea`."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        name = self.__name__

        def deferred(*args, **kwargs):
            return getattr(importlib.import_module(name), attr)(*args, **kwargs)

        deferred.__name__ = attr
        return deferred


def word_tokenizer():
    """underthesea.word_tokenize, imported without its optional pipelines (see above)."""
    global _word_tokenize
    if _word_tokenize is None:
        with _import_lock:
            if _word_tokenize is None:
                stubs = {}
                if "underthesea" not in sys.modules:
                    stubs = {n: _Deferred(n) for n in _OPTIONAL_PIPELINES if n not in sys.modules}
                    sys.modules.update(stubs)
                try:
                    from underthesea import word_tokenize
                finally:
                    for name, stub in stubs.items():
                        if sys.modules.get(name) is stub:
                            del sys.modules[name]
                _word_tokenize = word_tokenize
    return _word_tokenize


def warm_tokenizer() -> None:
    """Import underthesea and load its CRF model (≈ 0.6 s), e.g. in a thread before an ingest."""
    word_tokenizer()("khởi động")


def lexical_tokens(text: str, abbreviations: dict[str, str] | None = None) -> list[str]:
    """Underthesea word segmentation, lowercased; document numbers kept whole and by number;
    abbreviations also contribute their long form (BHYT → bảo hiểm y tế)."""
    word_tokenize = word_tokenizer()
    if abbreviations:
        extra = [long for short, long in abbreviations.items() if re.search(rf"\b{short}\b", text)]
        if extra:
            text = text + "\n" + " . ".join(extra)
    tokens = [t.lower().replace(" ", "_") for t in word_tokenize(text)
              if any(ch.isalnum() for ch in t)]
    for m in re.finditer(r"\b(\d{1,5})/(?:\d{4}/)?[A-ZĐa-zđ\-]+", text):
        tokens.append(m.group(0).lower())
        tokens.append(m.group(1))
    return tokens


@lru_cache(maxsize=32768)
def text_words(text: str) -> frozenset[str]:
    """The set of `lexical_tokens(text)`, cached: answering tokenizes the same clauses,
    sentences and questions again and again (underthesea's CRF is ≈ 1.5 ms a clause), and the
    segmentation of a text never changes. Ingest calls `lexical_tokens` and bypasses the cache."""
    return frozenset(lexical_tokens(text))


def clause_tokens(document: Document) -> list[list[str]]:
    """The lexical tokens of every clause of a document (number first, abbreviations expanded)."""
    abbreviations = defined_abbreviations(document.source.repaired_text)
    return [lexical_tokens(f"{document.number} {clause.text}", abbreviations)
            for clause in document.clauses]


def _words(text: str, limit: int) -> str:
    return " ".join(text.split()[:limit])


def embedding_text(document: Document, clause: Clause) -> str:
    """The clause in context (number, kind, subject, parent lead-in); the stored text stays verbatim.

    Word caps keep the small embedder fast; the lexical index sees the full clause.
    """
    parts = [f"{document.kind or ''} {document.number}", _words(document.subject or "", 20)]
    if clause.parent:
        try:
            parts.append(_words(document.clause(clause.parent).text, 40))
        except KeyError:
            pass
    parts.append(_words(clause.text, 160))
    return "\n".join(p for p in parts if p.strip())


def clause_node(document: Document, clause: Clause) -> TextNode:
    node = TextNode(
        id_=point_id(clause.id), text=clause.text,
        metadata={
            "clause_id": clause.id, "number": document.number, "path": clause.path,
            "label_vi": clause.label_vi, "label_en": clause.label_en,
            "kind": document.kind, "issued": document.issued.isoformat() if document.issued else None,
            "issuer": document.issuer, "actors": clause.actors,
            "deadlines": [d.date.isoformat() for d in clause.deadlines],
            "parent": clause.parent, "children": clause.children,
            "content_hash": document.content_hash,
        },
        excluded_embed_metadata_keys=["content_hash", "children", "parent"],
    )
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=point_id("doc:" + document.number))
    if clause.parent:
        node.relationships[NodeRelationship.PARENT] = RelatedNodeInfo(
            node_id=point_id(f"{document.number}#{clause.parent}"))
    if clause.children:
        node.relationships[NodeRelationship.CHILD] = [
            RelatedNodeInfo(node_id=point_id(f"{document.number}#{child}")) for child in clause.children]
    return node


def clause_payload(document: Document, clause: Clause, tokens: list[str]) -> dict:
    """The llama-index node dict (readable by QdrantVectorStore) plus flat filterable fields."""
    node = clause_node(document, clause)
    payload = node_to_metadata_dict(node, remove_text=False, flat_metadata=False)
    payload.update(node.metadata)
    payload["bm25_tokens"] = tokens
    return payload
