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


def threshold_key(query: Query) -> str | None:
    """Which thresholds decide this question: "vi"/"en" (nothing named: does the corpus answer
    it?), "vi+doc"/"en+doc" (a named document: does it say anything on this?), or None when
    the question's structure decides (a clause path, a header fact, a follow-up on a clause)."""
    if query.numbers and not query.inherited:
        if query.paths or query.intent in STRUCTURAL_INTENTS:
            return None
        return f"{query.language}+doc"
    if query.inherited and (query.paths or query.actors or query.intent in STRUCTURAL_INTENTS):
        return None      # "còn khoản 3 thì sao?": the structure itself is the evidence
    return query.language


def is_supported(query: Query, ranked: Ranked,
                 thresholds: dict[str, Threshold] | None = None) -> bool:
    if not ranked:
        return False
    key = threshold_key(query)
    thresholds = thresholds or load_thresholds()
    if key is None or key not in thresholds:
        return True
    coverage, dense = support_features(ranked)
    threshold = thresholds[key]
    return coverage >= threshold.min_coverage or dense >= threshold.min_dense
