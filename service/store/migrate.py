"""Stores written before Qdrant Edge (Qdrant local mode in `STORE/qdrant`) move to `STORE/edge`
on first open: local mode is read with qdrant-client, exported to a snapshot, imported into a
fresh Edge layout and only then renamed into place; the old folder is kept as
`STORE/qdrant.local-mode` (delete it once satisfied). If that fails, the error says what to run.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from service.store.base import EmbedderMismatch, StoreLocked, StoreNeedsMigration

log = logging.getLogger(__name__)


def manual_steps(store_dir: Path) -> str:
    return (f"with the directive-qa version that wrote it (Qdrant local mode), run "
            f"`dqa --store {store_dir} export store.dqa.jsonl.gz`; then, with this version, "
            f"`dqa --store NEW_FOLDER import store.dqa.jsonl.gz` (vectors travel in the snapshot, "
            "nothing is re-embedded)")


def migrate_local_mode(store_dir: Path, embedder) -> dict[str, int]:
    from service.store.edge import EdgeStore
    from service.store.qdrant_client_store import QdrantClientStore
    from service.store.snapshot import export_snapshot, import_snapshot

    store_dir = Path(store_dir)
    staging = store_dir / "edge.migrating"
    snapshot = store_dir / "local-mode-migration.dqa.jsonl.gz"
    try:
        old = QdrantClientStore(store_dir, embedder)
        try:
            export_snapshot(old, snapshot)
        finally:
            old.close()
        if staging.exists():
            shutil.rmtree(staging)
        new = EdgeStore(store_dir, embedder, root=staging, migrate=False)
        try:
            counts = import_snapshot(new, snapshot)
        finally:
            new.close()
        os.replace(staging, store_dir / "edge")
        os.replace(store_dir / "qdrant", store_dir / "qdrant.local-mode")
        snapshot.unlink()
    except (StoreLocked, EmbedderMismatch):
        raise
    except Exception as error:
        raise StoreNeedsMigration(
            f"the store {store_dir} was written by Qdrant local mode and could not be moved to "
            f"Qdrant Edge automatically ({type(error).__name__}: {error}); "
            + manual_steps(store_dir)) from error
    log.warning("migrated %s from Qdrant local mode to Qdrant Edge (%s); the old folder is kept "
                "as %s", store_dir, counts, store_dir / "qdrant.local-mode")
    return counts
