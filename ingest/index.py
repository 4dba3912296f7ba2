"""Moved to `service.store` (the store interface and its adapters); kept until every importer
has moved (imports should point down: ingest must not depend on service)."""
from service.store import (CLAUSES, DENSE, DOCUMENTS, META, SPARSE, ClauseStore,  # noqa: F401
                           DocumentNotFound, EmbedderMismatch, IntegrityReport, StoreLocked,
                           clause_node, defined_abbreviations, embedding_text, lexical_tokens,
                           point_id, sparse_vector)
