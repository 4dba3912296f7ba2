"""Portable, lossless snapshots of a store: gzip JSON lines, one record per line.

    {"format": "directive-qa-snapshot", "version": 1, "embedder": ..., "dim": ..., "schema": ...}
    {"kind": "document",   "id": ..., "payload": {...}}
    {"kind": "commentary", "id": ..., "payload": {...}}
    {"kind": "clause",     "id": ..., "payload": {...}, "dense": [...], "sparse": {"indices", "values"}}
    {"kind": "meta",       "id": ..., "payload": {...}}        # translation cache and other meta
    {"kind": "end", "counts": {...}}                           # a truncated file is refused

Vectors are written as JSON floats (exact for float32), so a snapshot moves a store between Qdrant Edge,
local mode and a Qdrant server, or between machines, without re-embedding. Import refuses a snapshot
of another embedder, an unknown format version or a truncated file, and a non-empty store
unless `replace=True`; the whole file is validated before anything is written.
"""
from __future__ import annotations

import gzip
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from ingest.model import SCHEMA_VERSION
from service.store.base import _STUB, CLAUSES, DOCUMENTS, META, ClauseStore, StoredPoint
from service.store.clauses import point_id
from service.store.plan import DENSE, SPARSE, SparseQuery

FORMAT = "directive-qa-snapshot"
VERSION = 1
_BATCH = 256
_KINDS = ("document", "commentary", "clause", "meta")


class SnapshotError(ValueError):
    """The snapshot cannot be imported (format, version, embedder, damage)."""


class StoreNotEmpty(SnapshotError):
    """Importing would mix a snapshot with existing content; pass replace=True."""


def export_snapshot(store: ClauseStore, path: Path) -> dict[str, int]:
    """Write the whole store to `path` (atomically: a temporary file, then a rename)."""
    path = Path(path)
    counts = dict.fromkeys(_KINDS, 0)
    tmp = path.with_name(path.name + ".partial")
    embedder_meta = point_id("meta:embedder")
    with store.lock, gzip.open(tmp, "wt", encoding="utf-8") as out:
        def write(record: dict) -> None:
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

        stored = store.get_meta("embedder") or {}
        write({"format": FORMAT, "version": VERSION,
               "embedder": stored.get("identity", store.embedder.identity),
               "dim": stored.get("dim", store.embedder.dim),
               "schema": stored.get("schema", SCHEMA_VERSION),
               "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        for p in store._scroll(DOCUMENTS):
            kind = p.payload.get("type")
            if kind == "journal":
                continue           # replayed when the store was opened; never part of a snapshot
            kind = "commentary" if kind == "commentary" else "document"
            write({"kind": kind, "id": p.id, "payload": p.payload})
            counts[kind] += 1
        for p in store._scroll(CLAUSES, with_vectors=True):
            vectors = p.vector or {}
            sparse = vectors.get(SPARSE)
            write({"kind": "clause", "id": p.id, "payload": p.payload,
                   "dense": list(vectors.get(DENSE) or []),
                   "sparse": {"indices": list(sparse.indices), "values": list(sparse.values)}
                   if sparse is not None else None})
            counts["clause"] += 1
        for p in store._scroll(META):
            if p.id == embedder_meta:
                continue           # the target store has its own, checked against the header
            write({"kind": "meta", "id": p.id, "payload": p.payload})
            counts["meta"] += 1
        write({"kind": "end", "counts": counts})
    os.replace(tmp, path)
    return counts


def read_snapshot(path: Path):
    """(header, records) after validating the whole file; raises SnapshotError."""
    path = Path(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            first = handle.readline()
            try:
                header = json.loads(first)
            except json.JSONDecodeError:
                raise SnapshotError(f"{path} is not a directive-qa snapshot") from None
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise SnapshotError(f"{path} is not a directive-qa snapshot")
            if header.get("version") != VERSION:
                raise SnapshotError(f"{path} is snapshot format version {header.get('version')}; this "
                                    f"version of directive-qa reads version {VERSION} only")
            records, end = [], None
            for number, line in enumerate(handle, 2):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    raise SnapshotError(f"{path}: line {number} is damaged") from None
                if record.get("kind") == "end":
                    end = record
                    break
                if record.get("kind") not in _KINDS or "id" not in record:
                    raise SnapshotError(f"{path}: line {number} is not a snapshot record")
                records.append(record)
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise SnapshotError(f"{path} cannot be read as a gzip snapshot ({error})") from None
    if end is None:
        raise SnapshotError(f"{path} is truncated (no end record); export it again")
    counts = dict.fromkeys(_KINDS, 0)
    for record in records:
        counts[record["kind"]] += 1
    if counts != end.get("counts"):
        raise SnapshotError(f"{path} is incomplete: holds {counts}, its end record says {end.get('counts')}")
    return header, records


def is_empty(store: ClauseStore) -> bool:
    if store._count(CLAUSES) or store._count(DOCUMENTS):
        return False
    return store._count(META) <= 1      # only the embedder record


def import_snapshot(store: ClauseStore, path: Path, replace: bool = False) -> dict[str, int]:
    header, records = read_snapshot(path)
    if header.get("embedder") != store.embedder.identity or header.get("dim") != store.embedder.dim:
        raise SnapshotError(
            f"the snapshot was indexed with {header.get('embedder')} ({header.get('dim')}-d) but the "
            f"configured embedder is {store.embedder.identity} ({store.embedder.dim}-d); set "
            "DQA_EMBEDDER to match, or re-ingest the source files instead")
    with store.lock:
        if not is_empty(store):
            if not replace:
                raise StoreNotEmpty("the store is not empty; pass --replace to replace its whole "
                                    "content with the snapshot (or import into a fresh --store)")
            keep = point_id("meta:embedder")
            for collection in (CLAUSES, DOCUMENTS, META):
                ids = [p.id for p in store._scroll(collection) if p.id != keep]
                for start in range(0, len(ids), 1024):
                    store._delete(collection, ids[start:start + 1024])
        counts = dict.fromkeys(_KINDS, 0)
        batches: dict[str, list] = {CLAUSES: [], DOCUMENTS: [], META: []}

        def flush(collection: str) -> None:
            if batches[collection]:
                store._upsert(collection, batches[collection])
                batches[collection] = []

        last = CLAUSES
        # Documents last: a store interrupted mid-import shows orphans, never a document
        # record whose clauses are missing (check_integrity reports either).
        for record in sorted(records, key=lambda r: {"clause": 0, "meta": 1}.get(r["kind"], 2)):
            kind = record["kind"]
            if kind == "clause":
                collection = CLAUSES
                sparse = record.get("sparse") or {"indices": [], "values": []}
                point = StoredPoint(record["id"], record["payload"], record["dense"],
                                    SparseQuery(tuple(sparse["indices"]), tuple(sparse["values"])))
            else:
                collection = META if kind == "meta" else DOCUMENTS
                point = StoredPoint(record["id"], record["payload"], _STUB)
            if collection != last:
                flush(last)
                last = collection
            batches[collection].append(point)
            counts[kind] += 1
            if len(batches[collection]) >= _BATCH:
                flush(collection)
        for collection in (CLAUSES, META, DOCUMENTS):
            flush(collection)
    return counts
