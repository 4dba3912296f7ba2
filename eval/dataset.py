"""Evaluation records (one JSON object per line; format in eval/README.md)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class EvalRecord(BaseModel):
    id: str
    lang: Literal["vi", "en"]
    question: str
    answerable: bool
    gold: list[str] = Field(default_factory=list)
    key_facts: list[list[str]] = Field(default_factory=list)   # each inner list: alternatives
    history: list[HistoryTurn] = Field(default_factory=list)
    notes: str = ""
    split: Literal["calibration", "test"] | None = None   # corpus sets are split by document
    kind: str = ""                    # metadata, obligation, deadline, figure, which_document, ...
    refusal_kind: Literal["absent_document", "not_in_document", "not_in_corpus"] | None = None
    evidence: list[str] = Field(default_factory=list)   # verbatim snippets of the gold clauses
    source: str = ""            # dataset file the record came from (filled by the loader)

    @model_validator(mode="after")
    def _consistent(self) -> "EvalRecord":
        if self.answerable and not self.gold:
            raise ValueError(f"{self.id}: answerable record needs at least one gold id")
        if not self.answerable and self.gold:
            raise ValueError(f"{self.id}: unanswerable record must have gold []")
        if any(not alternatives for alternatives in self.key_facts):
            raise ValueError(f"{self.id}: empty key-fact alternative list")
        return self


def load_dataset(path: str | Path) -> list[EvalRecord]:
    """Read one JSONL file; blank lines and lines starting with '//' are skipped."""
    path = Path(path)
    records: list[EvalRecord] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{line_no}: {exc}") from exc
        data.setdefault("source", path.name)
        records.append(EvalRecord.model_validate(data))
    return records


def load_datasets(paths: list[str | Path]) -> list[EvalRecord]:
    """Concatenate datasets; record ids must be unique across them."""
    records = [record for path in paths for record in load_dataset(path)]
    seen: set[str] = set()
    for record in records:
        if record.id in seen:
            raise ValueError(f"duplicate record id {record.id!r}")
        seen.add(record.id)
    return records
