"""Ingest a batch of files: load → repair → parse → resolve identity → (index, elsewhere).

One bad file never sinks the batch: each file gets a `FileReport`, errors included.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from ingest.commentary import align, looks_like_commentary, match_identity, parse_commentary
from ingest.loaders import ACCEPTED_SUFFIXES, DEFAULT_MAX_BYTES, IngestError, load_bytes, load_file
from ingest.model import Commentary, Document, IdentityEvidence, RepairStats
from ingest.parse import extract_references, parse_document
from ingest.repair import repair_text


class FileReport(BaseModel):
    file: str
    status: str                       # "ok" | "commentary" | "translation" | "error" | "superseded"
    number: str | None = None
    kind: str | None = None
    issued: date | None = None
    clauses: int = 0
    warnings: list[str] = Field(default_factory=list)
    repair: RepairStats | None = None
    error: str | None = None


@dataclass
class Batch:
    documents: list[Document] = field(default_factory=list)
    commentaries: list[Commentary] = field(default_factory=list)
    reports: list[FileReport] = field(default_factory=list)

    @property
    def failed(self) -> list[FileReport]:
        return [r for r in self.reports if r.status in ("error", "superseded")]


def collect_files(paths: list[Path]) -> tuple[list[Path], list[FileReport]]:
    files: list[Path] = []
    problems: list[FileReport] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in ACCEPTED_SUFFIXES
                                and not p.name.startswith(".")))
        elif path.is_file():
            files.append(path)
        else:
            problems.append(FileReport(file=str(path), status="error",
                                       error=f"{path}: no such file or folder"))
    return files, problems


def parse_text(raw: str, name: str, converted_from: str | None = None,
               encoding: str = "utf-8") -> Document | Commentary:
    if looks_like_commentary(raw):
        return parse_commentary(raw, name)
    repair = repair_text(raw)
    repair.stats.encoding = encoding
    repair.stats.converted_from = converted_from
    return parse_document(repair, raw, name)


def ingest_files(paths: list[Path], manifest: Path | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES,
                 known: list[Document] | None = None,
                 known_commentaries: list[Commentary] | None = None,
                 on_file=None) -> Batch:
    """Parse every file; resolve identities against this batch and what is already stored."""
    files, problems = collect_files(paths)
    batch = Batch(reports=list(problems))
    for path in files:
        if on_file:
            on_file(path)
        try:
            decoded = load_file(path, max_bytes)
            add_parsed(batch, parse_text(decoded.text, str(path), decoded.converted_from,
                                         decoded.encoding))
        except IngestError as error:
            batch.reports.append(FileReport(file=str(path), status="error", error=str(error)))
    resolve_batch(batch, _load_manifest(paths, manifest), known or [], known_commentaries or [])
    return batch


def ingest_upload(data: bytes, name: str, max_bytes: int, known: list[Document],
                  known_commentaries: list[Commentary]) -> Batch:
    batch = Batch()
    decoded = load_bytes(data, name, max_bytes)
    add_parsed(batch, parse_text(decoded.text, name, decoded.converted_from, decoded.encoding))
    resolve_batch(batch, {}, known, known_commentaries)
    return batch


def add_parsed(batch: Batch, parsed: Document | Commentary) -> None:
    if isinstance(parsed, Commentary):
        batch.commentaries.append(parsed)
        batch.reports.append(FileReport(file=parsed.source_file, status="commentary",
                                        number=parsed.discusses))
    else:
        batch.documents.append(parsed)
        batch.reports.append(FileReport(file=parsed.source.file, status="ok"))


def _load_manifest(paths: list[Path], manifest: Path | None) -> dict[str, dict]:
    """Sidecar manifests: {file name: {number, issued, kind, ...}}; an explicit one wins."""
    found: dict[str, dict] = {}
    candidates = [p / "manifest.yaml" for p in paths if p.is_dir()]
    candidates += [p.parent / "manifest.yaml" for p in paths if p.is_file()]
    if manifest:
        candidates.append(manifest)
    for candidate in candidates:
        if candidate.is_file():
            loaded = yaml.safe_load(candidate.read_text(encoding="utf-8")) or {}
            for name, entry in loaded.items():
                found[Path(name).name] = {**entry, "_manifest": str(candidate)}
    return found


def renumber(document: Document, number: str, identity: IdentityEvidence,
             issued: date | None = None) -> None:
    """Give a provisional document its real number: every clause ID follows."""
    document.number = number
    document.provisional = False
    document.identity = identity
    if issued:
        document.issued = issued
    for clause in document.clauses:
        clause.doc = number
        clause.id = f"{number}#{clause.path}"
    document.references = [r for r in extract_references(document) if r.number != number]
    document.warnings = [w for w in document.warnings if "provisional ID" not in w
                         and not (issued and "no issue date" in w)]


def resolve_batch(batch: Batch, manifest: dict[str, dict], known: list[Document],
                  known_commentaries: list[Commentary]) -> None:
    commentaries = batch.commentaries + known_commentaries
    # A stored document with the same content as one in this batch is being re-ingested: its
    # number must not count as taken, or the re-ingested copy (e.g. a headerless text numbered
    # from a commentary) would stay provisional and be stored twice.
    batch_hashes = {d.content_hash for d in batch.documents}
    present = {d.number for d in batch.documents if not d.provisional} | \
        {d.number for d in known if not d.provisional and d.content_hash not in batch_hashes}
    for document in batch.documents:
        entry = manifest.get(Path(document.source.file).name)
        if entry and entry.get("number"):
            issued = entry.get("issued")
            renumber(document, str(entry["number"]),
                     IdentityEvidence(method="manifest", source=entry["_manifest"],
                                      signals=["sidecar manifest entry"], confidence=1.0),
                     issued if isinstance(issued, date) else None)
            if entry.get("kind"):
                document.kind = entry["kind"]
            continue
        if not document.provisional:
            continue
        best: tuple[IdentityEvidence, Commentary] | None = None
        for commentary in commentaries:
            if commentary.discusses in present:
                continue
            evidence = match_identity(document, commentary)
            if evidence and (best is None or evidence.confidence > best[0].confidence):
                best = (evidence, commentary)
        if best:
            evidence, commentary = best
            renumber(document, commentary.discusses, evidence, commentary.described_date)
            document.warnings.append(
                f"number {commentary.discusses} inferred from commentary "
                f"{Path(commentary.source_file).name} (confidence {evidence.confidence})")
            present.add(document.number)
    _join_translations(batch, known)
    _settle_duplicates(batch, known)
    for commentary in commentaries:
        target = next((d for d in batch.documents + known if d.number == commentary.discusses), None)
        if target:
            commentary.alignments = align(target, commentary)
    for report in batch.reports:
        document = next((d for d in batch.documents if d.source.file == report.file), None)
        if document and report.status == "ok":
            report.number, report.kind, report.issued = document.number, document.kind, document.issued
            report.clauses = len(document.clauses)
            report.warnings = document.warnings
            report.repair = document.source.stats


def _join_translations(batch: Batch, known: list[Document]) -> None:
    """An official English version and its Vietnamese original are one document.

    The English text of each clause becomes the original clause's rendering (aligned by path,
    `translation_source="official"`); paths present on one side only are named in a warning.
    A stored original is updated and re-committed with the batch. An English version whose
    original is nowhere stays a document in its own right.
    """
    originals = {d.number: d for d in known if d.language != "en" and not d.provisional}
    originals.update({d.number: d for d in batch.documents if d.language != "en" and not d.provisional})
    keep: list[Document] = []
    for document in batch.documents:
        original = originals.get(document.number)
        if document.language != "en" or document.provisional or original is None:
            keep.append(document)
            continue
        if original not in batch.documents:
            original = original.model_copy(deep=True)
            keep.append(original)
            originals[original.number] = original
        attach_translation(original, document)
        report = next((r for r in batch.reports if r.file == document.source.file), None)
        if report:
            report.status, report.number = "translation", original.number
    batch.documents = keep


def attach_translation(original: Document, english: Document) -> None:
    """Give `original`'s clauses the English text of `english`, clause by clause (by path)."""
    theirs = {c.path: c for c in english.clauses}
    ours = {c.path for c in original.clauses}
    for clause in original.clauses:
        match = theirs.get(clause.path)
        if match is not None:
            clause.text_en = match.text
            clause.translation_source = "official"
    only_en = sorted(set(theirs) - ours)
    only_vi = sorted(ours - set(theirs))
    if only_en or only_vi:
        original.warnings.append(
            f"English version {Path(english.source.file).name} aligned by path: "
            f"{len(ours & set(theirs))} clauses matched"
            + (f"; only in English: {', '.join(only_en[:8])}" if only_en else "")
            + (f"; only in Vietnamese: {', '.join(only_vi[:8])}" if only_vi else ""))
    if english.source.file not in original.translations:
        original.translations.append(english.source.file)


def _settle_duplicates(batch: Batch, known: list[Document]) -> None:
    """Two texts claiming one number with different content: keep one, say which and why."""
    by_number: dict[str, Document] = {}
    for document in batch.documents:
        rival = by_number.get(document.number)
        if rival is None or rival.content_hash == document.content_hash:
            by_number.setdefault(document.number, document)
            continue
        winner, loser, why = _pick(rival, document)
        by_number[document.number] = winner
        report = next(r for r in batch.reports if r.file == loser.source.file)
        report.status, report.number = "superseded", loser.number
        report.error = (f"{Path(loser.source.file).name}: claims {loser.number} like "
                        f"{Path(winner.source.file).name} with different content; "
                        f"kept {Path(winner.source.file).name} because {why}")
    batch.documents = [d for d in batch.documents if by_number.get(d.number) is d]


def _pick(a: Document, b: Document) -> tuple[Document, Document, str]:
    if (a.identity.method == "header") != (b.identity.method == "header"):
        winner = a if a.identity.method == "header" else b
        return winner, (b if winner is a else a), "its number comes from its own header"
    if len(a.clauses) != len(b.clauses):
        winner = a if len(a.clauses) > len(b.clauses) else b
        return winner, (b if winner is a else a), "it has more clauses (more complete text)"
    winner = min(a, b, key=lambda d: d.source.file)
    return winner, (b if winner is a else a), "its file name sorts first (tie)"
