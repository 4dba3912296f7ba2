"""Moved to `service.store.snapshot`; kept until every importer has moved."""
from service.store.snapshot import (FORMAT, VERSION, SnapshotError, StoreNotEmpty,  # noqa: F401
                                    export_snapshot, import_snapshot, read_snapshot)
