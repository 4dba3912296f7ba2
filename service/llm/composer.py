"""The LLM composer: fluent statements over the grounded answer's clauses, verified before use.

The grounded answer is always computed first; the LLM only restates it from the same numbered
clauses, in a constrained format that makes its output verifiable by construction: a JSON object
with exactly one statement per supplied clause, keyed by the clause's marker
(`{"1": "...", "2": "..."}`; a llama.cpp grammar or the endpoint's `response_format` enforces
it). The composer turns that object into sentences that each end with their marker, and
`service.llm.verify` checks every sentence against the clause it cites: no figure, date or
document number may appear that the clause does not contain. If too little survives, the
grounded answer is returned; the verification outcome is reported either way.

The grounded answer's lead line (document, date, addressee: built from parsed metadata, no
model involved) stays in front of the statements. Answers built from the document header
(signer, date, subject, recipients, references) have no clause prose to restate and stay
grounded.
"""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from service.llm.backends import stream_tokens, with_json_schema
from service.llm.prompts import answer_messages
from service.llm.verify import (
    MIN_KEPT_RATIO, check_translation, sentences_of, translate_clause, verify_answer,
)
from service.schemas import Answer, Verification

MAX_STATEMENT_CHARS = 240        # one sentence; also bounds a decoding loop by construction
PROMPT_CLAUSE_CHARS = 3600       # clause excerpts shared out over the supplied clauses
MAX_TRANSLATE_CHARS = 1200       # longer clauses are translated a few sentences at a time
_MARKER = re.compile(r"\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\]")
# Built from the document header, not from clause text: nothing for a model to restate.
HEADER_INTENTS = frozenset({"signer", "date", "subject", "recipients", "references", "documents"})


class LLMBusy(RuntimeError):
    """More LLM work than the configured concurrency; the caller should retry later."""

    retry_after = 15


# ---------------------------------------------------------------- the constrained format

def answer_schema(markers: Sequence[int], max_chars: int = MAX_STATEMENT_CHARS) -> dict[str, Any]:
    """JSON schema: exactly one non-empty statement per supplied marker, nothing else."""
    keys = [str(n) for n in markers]
    return {
        "type": "object",
        "properties": {k: {"type": "string", "minLength": 12, "maxLength": max_chars} for k in keys},
        "required": keys,
        "additionalProperties": False,
    }


def answer_token_cap(n_statements: int, max_chars: int = MAX_STATEMENT_CHARS) -> int:
    """Enough tokens for every statement at full length (Vietnamese runs ~2 characters a token)."""
    return 16 + n_statements * (max_chars // 2 + 8)


def parse_statements(raw: str) -> dict[int, str] | None:
    """{marker: statement} from the model's JSON, or None when it is not that shape."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data:
        return None
    statements: dict[int, str] = {}
    for key, value in data.items():
        if not str(key).strip().isdigit() or not isinstance(value, str):
            return None
        statements[int(key)] = value
    return statements


def _complete_part(statement: str, max_chars: int) -> str:
    """A statement the length cap cut off, back to its last finished sentence or clause
    ('' when there is none); any other statement as it is."""
    if len(statement) < max_chars:
        return statement
    cut = max(statement.rfind(p) for p in (". ", "; ", ".", ";"))
    return statement[:cut + 1] if cut > 0 else ""


def statements_to_text(statements: Mapping[int, str], bullets: bool = False,
                       max_chars: int = MAX_STATEMENT_CHARS) -> tuple[str, int]:
    """(text, statements dropped): each statement's sentences, each ending with the
    statement's marker; one line per statement, bulleted when there are several (or when
    `bullets`). Markers the model wrote inside a statement are dropped (a statement vouches
    only for its own clause), and so is a statement the length cap cut off mid-sentence."""
    lines, dropped = [], 0
    for n, statement in statements.items():
        body = _complete_part(" ".join(_MARKER.sub("", statement).split()), max_chars)
        sentences = []
        for sentence in sentences_of(body):
            stripped = sentence.rstrip(" .;:!?…")
            if stripped:
                end = sentence[len(stripped):].strip()[:1] or "."
                sentences.append(f"{stripped} [{n}]{'.' if end in ';:' else end}")
        if sentences:
            lines.append(" ".join(sentences))
        else:
            dropped += 1
    if bullets or len(lines) > 1:
        return "\n".join(f"- {line}" for line in lines), dropped
    return "\n".join(lines), dropped


def lead_of(grounded: Answer) -> str:
    """The grounded answer's first paragraph when it is framing (no clause marker), else ''."""
    first = grounded.answer.strip().split("\n\n", 1)[0].strip()
    return "" if "\n" in first or re.search(r"\[\d{1,3}\]", first) else first


class StatementStream:
    """Turns streamed JSON (`{"1": "…", "2": "…"}`) into readable text as it arrives: the
    statement characters, then ` [n]` and a line break when a statement closes."""

    _ESCAPES = {"n": " ", "t": " ", "r": " ", '"': '"', "\\": "\\", "/": "/"}

    def __init__(self, emit: Callable[[str], Any]):
        self.emit = emit
        self.in_string = self.escape = self.is_value = self.after_colon = False
        self.key = ""
        self.unicode_left = 0

    def feed(self, delta: str) -> None:
        out: list[str] = []
        for ch in delta:
            if not self.in_string:
                if ch == '"':
                    self.in_string, self.is_value = True, self.after_colon
                    if not self.is_value:
                        self.key = ""
                elif ch == ":":
                    self.after_colon = True
                elif ch in ",{":
                    self.after_colon = False
                continue
            if self.unicode_left:          # \uXXXX: shown in the final answer, not mid-stream
                self.unicode_left -= 1
                continue
            if self.escape:
                self.escape = False
                if ch == "u":
                    self.unicode_left = 4
                    continue
                char = self._ESCAPES.get(ch, "")
            elif ch == "\\":
                self.escape = True
                continue
            elif ch == '"':
                self.in_string = False
                if self.is_value:
                    out.append(f" [{self.key}]\n")
                continue
            else:
                char = ch
            if self.is_value:
                out.append(char)
            else:
                self.key += char
        if out:
            self.emit("".join(out))


# ---------------------------------------------------------------- the composer

class LLMComposer:
    def __init__(self, llm, max_concurrent: int = 1):
        self.llm = llm
        self.slots = threading.BoundedSemaphore(max_concurrent)

    @staticmethod
    def _clause_texts(engine, answer: Answer) -> dict[int, str]:
        texts = {}
        for citation in answer.citations:
            clause = engine.clauses.get(citation.id)
            texts[citation.n] = clause.text if clause else citation.quote
        return texts

    def compose(self, engine, question: str, grounded: Answer,
                on_token: Callable[[str], Any] | None = None) -> Answer:
        """Restate `grounded` with the LLM; fall back to it when verification fails."""
        if grounded.refused or not grounded.citations or grounded.intent in HEADER_INTENTS:
            return grounded
        if not self.slots.acquire(blocking=False):
            raise LLMBusy("the language model is busy; retry shortly or ask with llm=false")
        texts = self._clause_texts(engine, grounded)
        markers = [c.n for c in grounded.citations]
        budget = max(240, min(700, PROMPT_CLAUSE_CHARS // len(markers)))
        excerpts = {n: text[:budget] for n, text in texts.items()}
        try:
            messages = answer_messages(question, grounded.citations, excerpts, grounded.language)
            llm = with_json_schema(self.llm, answer_schema(markers))
            stream = StatementStream(on_token) if on_token else None
            started = time.perf_counter()
            pieces: list[str] = []
            for delta in stream_tokens(llm, messages, max_tokens=answer_token_cap(len(markers))):
                pieces.append(delta)
                if stream:
                    stream.feed(delta)
            elapsed = time.perf_counter() - started
        finally:
            self.slots.release()
        timings = {**grounded.timings, "llm_ms": round(elapsed * 1000, 1),
                   "llm_tokens_per_s": round(len(pieces) / elapsed, 2) if elapsed else 0.0}
        return self.verified(grounded, "".join(pieces), texts, timings)

    @staticmethod
    def verified(grounded: Answer, raw: str, texts: Mapping[int, str],
                 timings: dict[str, float] | None = None) -> Answer:
        """The LLM's JSON as a verified answer, or `grounded` with the reason it was rejected."""
        timings = timings if timings is not None else grounded.timings

        def fall_back(note: str, **counts: Any) -> Answer:
            return grounded.model_copy(update={
                "verification": Verification(composer="grounded", fell_back=True,
                                             note="LLM answer rejected: " + note, **counts),
                "timings": timings})

        statements = parse_statements(raw.strip())
        if statements is None:
            return fall_back("not the required JSON (one statement per clause)")
        lead = lead_of(grounded)
        text, cut_off = statements_to_text(statements, bullets=lead.endswith(":"))
        check = verify_answer(text, grounded.citations, texts, language=grounded.language)
        total = check.n_total + cut_off
        removed = total - check.n_kept
        if not check.passed or check.n_kept / total < MIN_KEPT_RATIO:
            reasons = [s.reason for s in check.sentences if s.reason]
            reasons += ["statement cut off by the length cap"] * bool(cut_off)
            return fall_back("; ".join(reasons)[:500] or "no usable output",
                             checked_sentences=total, removed_sentences=removed,
                             forged_markers=check.forged_markers)
        used = {m for s in check.sentences if s.ok for m in s.markers}
        citations = [c for c in grounded.citations if c.n in used]
        body = f"{lead}\n\n{check.kept_text}" if lead else check.kept_text
        return grounded.model_copy(update={
            "answer": body, "citations": citations,
            "verification": Verification(composer="llm", checked_sentences=total,
                                         removed_sentences=removed,
                                         forged_markers=check.forged_markers,
                                         note="every kept sentence cites a supplied clause"),
            "timings": timings})


# ---------------------------------------------------------------- translation cache

def _pieces(text: str, limit: int = MAX_TRANSLATE_CHARS) -> list[str]:
    """`text` in runs of whole sentences of at most `limit` characters (one longer sentence
    stays whole)."""
    pieces: list[str] = []
    for sentence in sentences_of(" ".join(text.split())):
        if pieces and len(pieces[-1]) + 1 + len(sentence) <= limit:
            pieces[-1] += " " + sentence
        else:
            pieces.append(sentence)
    return pieces or [text]


def translate_text(llm, text: str, glossary_vi_en: Mapping[str, str]) -> str | None:
    """English for a whole clause, verified against the whole clause, or None."""
    pieces = _pieces(text) if len(text) > MAX_TRANSLATE_CHARS else [text]
    english = []
    for piece in pieces:
        out = translate_clause(llm, piece, glossary_vi_en)
        if out is None:
            return None
        english.append(out)
    joined = " ".join(english)
    return joined if check_translation(text, joined) is None else None


def translate_missing(engine, store, llm, clause_ids: Sequence[str],
                      glossary_vi_en: Mapping[str, str],
                      progress: Callable[[str], Any] | None = None,
                      ) -> Iterator[tuple[str, str | None]]:
    """Fill the clause translation cache, one clause at a time (short prompts keep small models
    on task). Only a translation that passes `check_translation` against the clause is cached or
    yielded; a rejected one yields None, and a cached one that no longer passes is redone."""
    for clause_id in clause_ids:
        clause = engine.clauses[clause_id]
        cached = store.translation(clause_id, clause.text)
        if cached and check_translation(clause.text, cached) is None:
            yield clause_id, cached
            continue
        english = translate_text(llm, clause.text, glossary_vi_en)
        if english is not None:
            store.put_translation(clause_id, clause.text, english)
        if progress:
            progress(clause_id)
        yield clause_id, english
