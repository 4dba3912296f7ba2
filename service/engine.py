"""Retrieval and grounded answering over the clause index.

Pipeline for one question: understand (language, documents, actors, intent, follow-up) →
retrieve (dense via Qdrant + in-process BM25, fused by RRF; server-side fusion on a Qdrant
server) → decide whether the corpus answers it → compose from the clauses themselves.
Every citation is a retrieved clause with a verbatim quote; text never names a source
that is not in `citations`.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from ingest.commentary import english_rendering, restore_diacritics
from ingest.index import ClauseStore, DocumentNotFound, lexical_tokens
from ingest.model import Citation, Clause, Commentary, Document
from ingest.parse import NUMBER_RE, actor_table, detect_language, kind_en, normalise_number
from service.schemas import Answer, Hit, Related, Turn

RRF_K = 60
# Calibrated on eval/datasets/seeds.jsonl (see README, "Refusal calibration").
MIN_OVERLAP = 0.5
MIN_DENSE = 0.86
_MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
_STOP = set("""và của các những là có được cho trong theo về với để tại từ này đó thì mà nào gì
ai sao không một hay hoặc phải làm như bao nhiêu khi nào the of a an to in on for and or what
which who whom does do did is are was were be under by with about how when must should shall
this that these those any it its their there from as at me tell please""".split())


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    path = Path(__file__).parent / "data" / "glossary.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def question_language(text: str) -> str:
    return detect_language(text)


def format_date(value: date | None, lang: str) -> str:
    if value is None:
        return ""
    if lang == "en":
        return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"
    return f"{value.day}/{value.month}/{value.year}"


def verbatim_quote(text: str, limit: int = 400) -> str:
    """A verbatim prefix of the clause, cut at a sentence or word boundary."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(". ", 0, limit), text.rfind("; ", 0, limit))
    if cut < limit // 3:
        cut = text.rfind(" ", 0, limit)
    return text[: cut + 1].rstrip()


@dataclass
class Understanding:
    language: str
    numbers: list[str] = field(default_factory=list)      # resolved document numbers
    candidates: list[str] = field(default_factory=list)   # ambiguous bare number
    missing: list[str] = field(default_factory=list)      # referenced but not in corpus
    actors: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)        # "khoản 3" / "clause 3"
    intent: str = "topic"
    expanded: str = ""


class Engine:
    def __init__(self, store: ClauseStore):
        self.store = store
        self.lock = threading.RLock()
        self.refresh()

    # ------------------------------------------------------------ index state
    def refresh(self) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)   # it logs each index build at DEBUG
        with self.lock:
            self.documents: dict[str, Document] = {d.number: d for d in self.store.documents()}
            self.commentaries: list[Commentary] = self.store.commentaries()
            self.clauses: dict[str, Clause] = {
                c.id: c for d in self.documents.values() for c in d.clauses}
            points = self.store.clause_payloads()
            self.point_ids = {p.payload["clause_id"]: str(p.id) for p in points}
            self.lex_ids = [p.payload["clause_id"] for p in points]
            corpus = [p.payload.get("bm25_tokens") or ["_"] for p in points]
            self.bm25 = None
            if corpus:
                self.bm25 = bm25s.BM25()
                self.bm25.index(corpus, show_progress=False)
            self.lex_vocab = {t for tokens in corpus for t in tokens}
            self.clause_tokens = {cid: set(tokens) for cid, tokens in zip(self.lex_ids, corpus)}

    # ------------------------------------------------------------ understanding
    def understand(self, question: str, lang: str | None, history: list[Turn]) -> Understanding:
        question = unicodedata.normalize("NFC", question)
        u = Understanding(language=lang or question_language(question))
        self._resolve_numbers(question, u)
        u.actors = _actors_in(question)
        u.paths = _paths_in(question)
        u.intent = _intent(question)
        if history and not u.numbers and not u.missing:
            for turn in reversed(history):
                if turn.role != "user":
                    continue
                previous = Understanding(language=u.language)
                self._resolve_numbers(turn.content, previous)
                if previous.numbers:
                    u.numbers = previous.numbers
                    if not u.actors and not u.paths:
                        u.actors = _actors_in(turn.content)
                    if u.intent == "topic":
                        u.intent = _intent(turn.content)
                    break
        u.expanded = self._expand(question, u)
        return u

    def _resolve_numbers(self, question: str, u: Understanding) -> None:
        corpus = list(self.documents)
        for m in NUMBER_RE.finditer(question):
            number = restore_diacritics(normalise_number(m.group(0)))
            if number in self.documents:
                u.numbers.append(number)
            else:
                u.missing.append(number)
        stripped = NUMBER_RE.sub(" ", question)
        stripped = re.sub(r"\d{1,2}/\d{1,2}(/\d{2,4})?", " ", stripped)
        for m in re.finditer(r"(?<![\w/])(\d{2,5})(?![\w/])", stripped):
            bare = m.group(1)
            if re.search(r"(năm|year|ngày|tháng)\s*$", stripped[: m.start()], re.IGNORECASE) \
                    or re.fullmatch(r"(19|20)\d\d", bare):
                continue
            matches = [n for n in corpus if n.split("/")[0] == bare]
            if len(matches) == 1:
                u.numbers.append(matches[0])
            elif len(matches) > 1:
                u.candidates.extend(matches)
            elif re.search(r"(công văn|công điện|quyết định|kế hoạch|thông báo|chỉ thị|dispatch|"
                           r"telegram|decision|plan|notice|directive|số|no\.?)\s*$",
                           stripped[: m.start()], re.IGNORECASE):
                u.missing.append(bare)
        u.numbers = list(dict.fromkeys(u.numbers))

    def _expand(self, question: str, u: Understanding) -> str:
        extra = []
        low = question.lower()
        for english, vietnamese in glossary().items():
            if re.search(rf"(?<!\w){re.escape(english.lower())}(?!\w)", low):
                extra.append(vietnamese)
        for actor in u.actors:
            extra.append(actor)
        return question + (" " + " ".join(extra) if extra else "")

    # ------------------------------------------------------------ retrieval
    def search(self, query: str, top_k: int = 10, numbers: list[str] | None = None,
               expanded: str | None = None) -> list[tuple[str, float, dict]]:
        """Fused ranking: list of (clause_id, rrf score, signals)."""
        text = expanded or query
        vector = self.store.embedder.embed_query(text)
        depth = max(top_k * 3, 30)
        signals: dict[str, dict] = {}
        if self.store.server:
            points = self.store.hybrid_search_server(vector, lexical_tokens(text), depth, numbers)
            ids = {v: k for k, v in self.point_ids.items()}
            for rank, point in enumerate(points):
                cid = ids.get(str(point.id))
                if cid:
                    signals.setdefault(cid, {})["rrf"] = point.score
        else:
            for rank, point in enumerate(self.store.dense_search(vector, depth, numbers)):
                cid = self._clause_of_point(str(point.id))
                if cid:
                    signals.setdefault(cid, {}).update(dense=point.score, dense_rank=rank)
            for rank, (cid, score) in enumerate(self._lexical(text, depth, numbers)):
                signals.setdefault(cid, {}).update(bm25=score, bm25_rank=rank)
        q_tokens = _content_tokens(lexical_tokens(text))
        fused = []
        for cid, s in signals.items():
            score = s.get("rrf", 0.0)
            if "dense_rank" in s:
                score += 1.0 / (RRF_K + s["dense_rank"])
            if "bm25_rank" in s:
                score += 1.0 / (RRF_K + s["bm25_rank"])
            clause = self.clauses.get(cid)
            if clause is None:
                continue
            tokens = self.clause_tokens.get(cid, set())
            s["overlap"] = len(q_tokens & tokens) / max(1, len(q_tokens))
            fused.append((cid, score, s))
        fused.sort(key=lambda item: -item[1])
        return fused[:top_k]

    def _clause_of_point(self, point: str) -> str | None:
        if not hasattr(self, "_point_to_clause") or len(self._point_to_clause) != len(self.point_ids):
            self._point_to_clause = {v: k for k, v in self.point_ids.items()}
        return self._point_to_clause.get(point)

    def _lexical(self, text: str, depth: int, numbers: list[str] | None):
        if self.bm25 is None:
            return []
        tokens = [t for t in lexical_tokens(text) if t in self.lex_vocab]
        if not tokens:
            return []
        k = min(len(self.lex_ids), depth * (4 if numbers else 1))
        docs, scores = self.bm25.retrieve([tokens], k=k, show_progress=False)
        results = []
        for index, score in zip(docs[0], scores[0]):
            cid = self.lex_ids[int(index)]
            if score <= 0 or (numbers and cid.split("#")[0] not in numbers):
                continue
            results.append((cid, float(score)))
        return results[:depth]

    def hits(self, query: str, top_k: int = 10) -> list[Hit]:
        u = self.understand(query, None, [])
        ranked = self.search(query, top_k, u.numbers or None, u.expanded)
        hits = []
        for cid, score, _ in ranked:
            clause = self.clauses[cid]
            document = self.documents[clause.doc]
            hits.append(Hit(id=cid, doc=clause.doc, path=clause.path, label_vi=clause.label_vi,
                            label_en=clause.label_en, text=clause.text, score=round(score, 6),
                            kind=document.kind, issued=document.issued))
        return hits

    # ------------------------------------------------------------ answering
    def ask(self, question: str, lang: str | None = None, history: list[Turn] | None = None,
            top_k: int | None = None) -> Answer:
        started = time.perf_counter()
        with self.lock:
            u = self.understand(question, lang, history or [])
            timings = {"understand_ms": _ms(started)}
            if u.missing and not u.numbers:
                return self._refuse_missing(u, timings, started)
            if u.candidates and not u.numbers:
                return self._ambiguous(u, timings, started)
            t = time.perf_counter()
            ranked = self.search(question, top_k or 8, u.numbers or None, u.expanded)
            timings["retrieve_ms"] = _ms(t)
            answer = self._compose(question, u, ranked)
            answer.timings = {**timings, "total_ms": _ms(started)}
            return answer

    def _supported(self, u: Understanding, ranked) -> bool:
        if not ranked:
            return False
        if u.numbers:
            return True
        top = ranked[0][2]
        best_overlap = max(s.get("overlap", 0) for _, _, s in ranked[:3])
        return best_overlap >= MIN_OVERLAP or top.get("dense", 0) >= MIN_DENSE

    def _compose(self, question: str, u: Understanding, ranked) -> Answer:
        lang = u.language
        if not self._supported(u, ranked):
            return self._refusal(u, ranked)
        docs = u.numbers or [ranked[0][0].split("#")[0]]
        if u.intent in ("signer", "date", "subject", "recipients") and u.numbers:
            return self._metadata_answer(u, self.documents[docs[0]])
        if u.intent == "references" and u.numbers:
            return self._references_answer(u, self.documents[docs[0]])
        chosen = self._select_clauses(u, ranked)
        if not chosen:
            return self._refusal(u, ranked)
        if u.intent == "documents" and not u.numbers:
            lead = ("Các văn bản có nội dung liên quan:" if lang == "vi"
                    else "Documents in the corpus that deal with this:")
        elif u.intent == "deadline":
            lead = self._deadline_lead(chosen, lang)
        elif u.intent == "who":
            lead = self._who_lead(chosen, lang)
        else:
            lead = self._obligation_lead(u, chosen, lang)
        return self._answer_from(u, lead, chosen, ranked)

    def _select_clauses(self, u: Understanding, ranked) -> list[Clause]:
        ranked_clauses = [self.clauses[cid] for cid, _, _ in ranked if cid in self.clauses]
        if u.paths and u.numbers:
            picked = []
            for number in u.numbers:
                for path in u.paths:
                    clause = self.clauses.get(f"{number}#{path}")
                    if clause:
                        picked.append(clause)
                        picked.extend(self.clauses[f"{number}#{c}"] for c in clause.children)
            if picked:
                return picked
        if u.actors and u.numbers:
            picked = []
            for number in u.numbers:
                for clause in self.documents[number].clauses:
                    if clause.path in ("preamble", "closing") or clause.parent:
                        continue
                    if set(u.actors) & set(clause.actors):
                        picked.append(clause)
                        picked.extend(self.clauses[f"{number}#{c}"] for c in clause.children)
            if picked:
                return picked
        if u.intent == "deadline":
            with_deadline = [c for c in ranked_clauses if c.deadlines]
            if not with_deadline and u.numbers:
                with_deadline = [c for n in u.numbers for c in self.documents[n].clauses if c.deadlines]
            if with_deadline:
                return with_deadline[:2]
        if u.intent == "who":
            with_actor = [c for c in ranked_clauses if c.actors and c.path not in ("preamble", "closing")]
            if u.actors:
                with_actor = [c for c in with_actor if set(u.actors) & set(c.actors)] or with_actor
            if with_actor:
                return with_actor[:1]
        if u.intent == "documents" and not u.numbers:
            best: dict[str, Clause] = {}
            for clause in ranked_clauses:
                best.setdefault(clause.doc, clause)
            return list(best.values())[:4]
        top = ranked_clauses[:3]
        # A point without its parent's lead-in reads wrong: expand to the parent's children.
        if top and top[0].parent and top[0].path not in ("preamble", "closing"):
            parent = self.clauses.get(f"{top[0].doc}#{top[0].parent}")
            if parent:
                return [parent] + [self.clauses[f"{parent.doc}#{c}"] for c in parent.children]
        if top and top[0].children:
            return [top[0]] + [self.clauses[f"{top[0].doc}#{c}"] for c in top[0].children]
        return top

    # ------------------------------------------------------------ renderings
    def _citation(self, n: int, clause: Clause, lang: str) -> Citation:
        document = self.documents[clause.doc]
        translation, source = None, None
        if lang == "en":
            for commentary in self.commentaries:
                rendering = english_rendering(commentary.alignments, clause.id)
                if rendering:
                    translation, source = rendering, "commentary"
                    break
            if translation is None:
                cached = self.store.translation(clause.id, clause.text)
                if cached:
                    translation, source = cached, "machine"
        return Citation(n=n, id=clause.id, doc=clause.doc, path=clause.path,
                        label=clause.label_en if lang == "en" else clause.label_vi,
                        quote=verbatim_quote(clause.text), issued=document.issued,
                        kind=document.kind, translation=translation, translation_source=source)

    def _doc_title(self, document: Document, lang: str) -> str:
        if lang == "en":
            kind = kind_en(document.kind) or "Document"
            when = f", dated {format_date(document.issued, 'en')}" if document.issued else ""
            return f"{kind} {document.number}{when}"
        when = f" ngày {format_date(document.issued, 'vi')}" if document.issued else ""
        return f"{document.kind or 'Văn bản'} {document.number}{when}"

    def _item_text(self, citation: Citation, clause: Clause, lang: str) -> str:
        if lang == "en":
            label = clause.label_en[0].upper() + clause.label_en[1:]
            if citation.translation:
                marker = " _(machine translation)_" if citation.translation_source == "machine" else ""
                return f"**{label}** ({clause.doc}): {_one_line(citation.translation, 600)}{marker}"
            return f"**{label}** ({clause.doc}) — Vietnamese text: “{_one_line(clause.text, 500)}”"
        label = clause.label_vi[0].upper() + clause.label_vi[1:]
        return f"**{label}** ({clause.doc}): {_one_line(_strip_marker(clause), 500)}"

    def _answer_from(self, u: Understanding, lead: str, clauses: list[Clause], ranked) -> Answer:
        lang = u.language
        clauses = list({c.id: c for c in clauses}.values())
        citations = [self._citation(i, c, lang) for i, c in enumerate(clauses, 1)]
        lines = [lead, ""]
        for citation, clause in zip(citations, clauses):
            lines.append(f"- {self._item_text(citation, clause, lang)} [{citation.n}]")
        cited = {c.id for c in clauses}
        related = [Related(id=cid, label=self.clauses[cid].label_en if lang == "en" else
                           self.clauses[cid].label_vi, quote=verbatim_quote(self.clauses[cid].text, 200))
                   for cid, _, _ in ranked if cid not in cited][:3]
        return Answer(answer="\n".join(lines), language=lang, refused=False, intent=u.intent,
                      citations=citations, related=related,
                      documents=list(dict.fromkeys(c.doc for c in clauses)))

    def _obligation_lead(self, u: Understanding, clauses: list[Clause], lang: str) -> str:
        document = self.documents[clauses[0].doc]
        if u.actors:
            actor = u.actors[0]
            if lang == "en":
                name = next((a.en for a in actor_table() if a.vi == actor), actor)
                return f"Under {self._doc_title(document, 'en')}, {name} ({actor}) must:"
            return f"Theo {self._doc_title(document, 'vi')}, {actor} có trách nhiệm:"
        if lang == "en":
            return f"{self._doc_title(document, 'en')} says:"
        return f"{self._doc_title(document, 'vi')} quy định:"

    def _deadline_lead(self, clauses: list[Clause], lang: str) -> str:
        deadlines = [d for c in clauses for d in c.deadlines]
        document = self.documents[clauses[0].doc]
        if not deadlines:
            return self._doc_title(document, lang) + (":" if lang == "en" else ":")
        first = deadlines[0]
        if lang == "en":
            return (f"The deadline under {self._doc_title(document, 'en')} is "
                    f"{format_date(first.date, 'en')} ({first.date.day}/{first.date.month}/{first.date.year}):")
        return f"Theo {self._doc_title(document, 'vi')}, thời hạn là {first.text}:"

    def _who_lead(self, clauses: list[Clause], lang: str) -> str:
        clause = clauses[0]
        actor = clause.actors[0] if clause.actors else ""
        document = self.documents[clause.doc]
        if lang == "en":
            name = next((a.en for a in actor_table() if a.vi == actor), actor)
            return f"Under {self._doc_title(document, 'en')}, the unit assigned is {name} ({actor}):"
        return f"Theo {self._doc_title(document, 'vi')}, đơn vị được giao là {actor}:"

    def _header_citation(self, document: Document, lang: str, quote: str, label_vi: str,
                         label_en: str) -> Citation:
        return Citation(n=1, id=document.number, doc=document.number, path="",
                        label=label_en if lang == "en" else label_vi, quote=quote,
                        issued=document.issued, kind=document.kind)

    def _metadata_answer(self, u: Understanding, document: Document) -> Answer:
        lang = u.language
        text = document.source.repaired_text
        title = self._doc_title(document, lang)
        if u.intent == "signer" and document.signer:
            quote = _find_line(text, document.signer.name)
            if lang == "en":
                body = (f"{title} was signed by {document.signer.name} "
                        f"({document.signer.capacity}) [1].")
            else:
                body = f"{title} do {document.signer.capacity} {document.signer.name} ký [1]."
            citation = self._header_citation(document, lang, quote, "khối chữ ký", "signature block")
        elif u.intent == "recipients" and document.recipients:
            quote = _find_line(text, document.recipients[0])
            items = "\n".join(f"- {r} [1]" for r in document.recipients)
            body = (f"{title} is addressed to:\n{items}" if lang == "en"
                    else f"{title} được gửi tới:\n{items}")
            citation = self._header_citation(document, lang, quote, "phần Kính gửi", "addressees")
        elif u.intent == "subject" and document.subject:
            quote = _find_line(text, document.subject[:40])
            body = (f"The subject of {title} is: “{document.subject}” [1]." if lang == "en"
                    else f"{title} về việc: {document.subject} [1].")
            citation = self._header_citation(document, lang, quote, "trích yếu", "subject line")
        else:
            if document.identity.method == "header" and document.issued:
                quote = _find_line(text, "ngày")
            else:
                quote = "; ".join(document.identity.signals)
            body = (f"{title} was issued on {format_date(document.issued, 'en')} [1]." if lang == "en"
                    else f"{title} được ban hành ngày {format_date(document.issued, 'vi')} [1].")
            if document.identity.method == "inferred":
                body += (" (date taken from commentary evidence)" if lang == "en"
                         else " (ngày lấy từ bài bình luận)")
            citation = self._header_citation(document, lang, quote, "phần đầu văn bản", "header")
        return Answer(answer=body, language=lang, refused=False, intent=u.intent,
                      citations=[citation], documents=[document.number])

    def _references_answer(self, u: Understanding, document: Document) -> Answer:
        lang = u.language
        refs = document.references
        if not refs:
            return self._refusal(u, [])
        clauses: list[Clause] = []
        for ref in refs:
            clause = self.clauses.get(f"{document.number}#{ref.citing_clause}")
            if clause and clause.id not in {c.id for c in clauses}:
                clauses.append(clause)
        citations = [self._citation(i, c, lang) for i, c in enumerate(clauses, 1)]
        index = {c.path: cit.n for c, cit in zip(clauses, citations)}
        seen, lines = set(), []
        for ref in refs:
            if ref.number in seen:
                continue
            seen.add(ref.number)
            kind = kind_en(ref.kind) if lang == "en" else ref.kind
            when = f" ({format_date(ref.issued, lang)})" if ref.issued else ""
            lines.append(f"- {kind or ''} {ref.number}{when} [{index[ref.citing_clause]}]")
        first = refs[0]
        if lang == "en":
            lead = (f"{self._doc_title(document, 'en')} implements "
                    f"{kind_en(first.kind) or ''} {first.number} and cites:")
        else:
            lead = f"{self._doc_title(document, 'vi')} thực hiện {first.kind or ''} {first.number} và viện dẫn:"
        return Answer(answer=lead + "\n\n" + "\n".join(lines), language=lang, refused=False,
                      intent="references", citations=citations, documents=[document.number])

    def _refusal(self, u: Understanding, ranked) -> Answer:
        lang = u.language
        text = ("Không tìm thấy nội dung này trong các văn bản đã nạp." if lang == "vi"
                else "The ingested directives do not contain an answer to this question.")
        related = [Related(id=cid, label=self.clauses[cid].label_en if lang == "en"
                           else self.clauses[cid].label_vi,
                           quote=verbatim_quote(self.clauses[cid].text, 200))
                   for cid, _, _ in ranked[:3] if cid in self.clauses]
        return Answer(answer=text, language=lang, refused=True, intent=u.intent, related=related)

    def _refuse_missing(self, u: Understanding, timings, started) -> Answer:
        missing = ", ".join(u.missing)
        text = (f"Văn bản {missing} không có trong kho văn bản." if u.language == "vi"
                else f"Document {missing} is not in the corpus.")
        return Answer(answer=text, language=u.language, refused=True, intent=u.intent,
                      timings={**timings, "total_ms": _ms(started)})

    def _ambiguous(self, u: Understanding, timings, started) -> Answer:
        options = ", ".join(u.candidates)
        text = (f"Số hiệu này khớp với nhiều văn bản: {options}. Vui lòng ghi rõ số hiệu đầy đủ."
                if u.language == "vi" else
                f"That number matches several documents: {options}. Please give the full number.")
        return Answer(answer=text, language=u.language, refused=True, intent=u.intent,
                      candidates=u.candidates, timings={**timings, "total_ms": _ms(started)})

    # ------------------------------------------------------------ documents
    def document(self, number: str) -> Document:
        """By full number, or by a bare number ("3476") when exactly one document has it."""
        number = unicodedata.normalize("NFC", number.strip())
        if number in self.documents:
            return self.documents[number]
        matches = [n for n in self.documents if n.split("/")[0] == number]
        if len(matches) == 1:
            return self.documents[matches[0]]
        raise DocumentNotFound(number)

    def clause(self, clause_id: str) -> Clause:
        clause_id = unicodedata.normalize("NFC", clause_id)
        if clause_id not in self.clauses:
            raise KeyError(clause_id)
        return self.clauses[clause_id]


# ---------------------------------------------------------------- question analysis

def _actors_in(question: str) -> list[str]:
    found = []
    for actor in actor_table():
        if any(p.search(question) for p in actor.patterns):
            found.append(actor.vi)
    # "Giám đốc BHXH tỉnh" also matches the shorter "BHXH tỉnh": keep the specific one.
    return [a for a in found if not any(a != b and a in b for b in found)]


def _paths_in(question: str) -> list[str]:
    paths = []
    for m in re.finditer(r"(?:khoản|clause|item|mục)\s+(\d{1,2})(?:\s*(?:điểm|point)?\s*\(?([a-zđ])\)?)?",
                         question, re.IGNORECASE):
        paths.append(m.group(1) + (f".{m.group(2)}" if m.group(2) else ""))
    return paths


_INTENTS = [
    ("signer", r"\b(ai ký|người ký|ký văn bản|signed|signer|signatory)\b"),
    ("date", r"(ban hành (vào )?ngày nào|ngày ban hành|when was .* issued|what date|issue date|"
             r"dated when|ngày nào)"),
    ("recipients", r"(gửi (cho |tới |đến )?(ai|những ai|đơn vị nào)|kính gửi|addressed to|recipients|sent to)"),
    ("subject", r"(trích yếu|về việc gì|subject of|what is .* about\b)"),
    ("references", r"(thực hiện (công điện|chỉ thị|nghị quyết) nào|implement(s|ing)? which|"
                   r"which (telegram|decree|documents? does .* cite)|cites?\b|căn cứ|viện dẫn|refer)"),
    ("deadline", r"(hạn|trước ngày|thời hạn|deadline|by when|due|no later than|khi nào phải)"),
    ("who", r"(đơn vị nào|ai (chịu trách nhiệm|theo dõi|chủ trì)|which (unit|department|body|office)|"
            r"who (monitors|is responsible|is assigned|leads|follows)|giao cho ai)"),
    ("documents", r"(văn bản nào|những văn bản|công văn nào|which (documents|dispatches)|"
                  r"what documents)"),
    ("obligations", r"(phải làm gì|trách nhiệm|nhiệm vụ|yêu cầu gì|must|should|obligations?|"
                    r"required to|what (do|does) .* do|duties)"),
]


def _intent(question: str) -> str:
    for name, pattern in _INTENTS:
        if re.search(pattern, question, re.IGNORECASE):
            return name
    return "topic"


def _content_tokens(tokens: list[str]) -> set[str]:
    return {t for t in tokens if t not in _STOP and not t.isdigit() and len(t) > 1}


def _strip_marker(clause: Clause) -> str:
    return clause.text[len(clause.marker):].strip() if clause.marker else clause.text


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: flat.rfind(" ", 0, limit)] + " …"


def _find_line(text: str, needle: str) -> str:
    for line in text.split("\n"):
        if needle in line:
            return line.strip()
    return needle


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


np.seterr(all="ignore")
