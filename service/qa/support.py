"""Does the corpus answer the question at all? The refuse-or-answer decision.

The thresholds are data, written by `eval/calibrate_refusal.py --write` into
`service/qa/data/refusal_thresholds.json`; this module only reads them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from service.qa.retrieve import Ranked
from service.qa.understand import STRUCTURAL_INTENTS, Query

THRESHOLDS_FILE = Path(__file__).parent / "data" / "refusal_thresholds.json"


@dataclass(frozen=True)
class Threshold:
    min_coverage: float
    min_dense: float


@lru_cache(maxsize=4)
def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, Threshold]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {lang: Threshold(**values) for lang, values in data["thresholds"].items()}


def support_features(ranked: Ranked) -> tuple[float, float]:
    """(best IDF-weighted coverage in the top 3, best dense similarity)."""
    coverage = max((s.get("overlap", 0.0) for _, _, s in ranked[:3]), default=0.0)
    dense = max((s.get("dense", 0.0) for _, _, s in ranked[:3]), default=0.0)
    return coverage, dense


def is_supported(query: Query, ranked: Ranked,
                 thresholds: dict[str, Threshold] | None = None) -> bool:
    if not ranked:
        return False
    if query.numbers and not query.inherited:
        return True
    if query.inherited and (query.paths or query.actors or query.intent in STRUCTURAL_INTENTS):
        return True      # "còn khoản 3 thì sao?": the structure itself is the evidence
    coverage, dense = support_features(ranked)
    threshold = (thresholds or load_thresholds())[query.language]
    return coverage >= threshold.min_coverage or dense >= threshold.min_dense
