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

RRF_K = 2      # as Qdrant's RRF; k=2 beat k=10..60 on the seed dataset (bench/fusion.py)
# Answer only when the best clause covers enough of the question (IDF-weighted) or is close in
# embedding space. Per language: (min coverage, min dense similarity). Calibrated on
# eval/datasets/seeds.jsonl by eval/calibrate_refusal.py; rerun it after changing retrieval.
REFUSAL_THRESHOLDS = {"vi": (0.55, 0.905), "en": (0.30, 0.87)}
# "Which documents deal with X": other documents are listed when their best clause scores
# at least this share of the top one.
DOCUMENTS_RELATIVE_SCORE = 0.9
_MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
_STOP = set("""và của các những là có được cho trong theo về với để tại từ này đó thì mà nào gì
ai sao không một hay hoặc phải làm như bao nhiêu khi nào the of a an to in on for and or what
which who whom does do did is are was were be under by with about how when must should shall
this that these those any it its their there from as at me tell please has have had can could
would will into than then also such other according says say said given many much per year
vss dispatch official document documents""".split())


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
    referenced: list[str] = field(default_factory=list)   # cited by a resolved document
    inherited: bool = False        # documents come from an earlier turn, not this question
    context_actors: list[str] = field(default_factory=list)   # actors of the earlier turn


class Engine:
    def __init__(self, store: ClauseStore):
        self.store = store
        self.lock = threading.RLock()
        self._vector_cache: dict[str, list[float]] = {}
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
            self.clause_of_point = {point: cid for cid, point in self.point_ids.items()}
            self.lex_ids = [p.payload["clause_id"] for p in points]
            corpus = [p.payload.get("bm25_tokens") or ["_"] for p in points]
            self.bm25 = None
            if corpus:
                self.bm25 = bm25s.BM25()
                self.bm25.index(corpus, show_progress=False)
            self.lex_vocab = {t for tokens in corpus for t in tokens}
            self.clause_tokens = {cid: set(tokens) for cid, tokens in zip(self.lex_ids, corpus)}
            document_frequency: dict[str, int] = {}
            for tokens in self.clause_tokens.values():
                for token in tokens:
                    document_frequency[token] = document_frequency.get(token, 0) + 1
            n = max(1, len(self.clause_tokens))
            self._index_english(bm25s)
            for cid, words in self.english_words.items():
                self.clause_tokens.setdefault(cid, set()).update(words)
                for word in words:
                    document_frequency[word] = document_frequency.get(word, 0) + 1
            self.idf = {t: float(np.log(1 + n / df)) for t, df in document_frequency.items()}
            self.unknown_idf = float(np.log(1 + n))    # a word the corpus never uses

    def _index_english(self, bm25s) -> None:
        """English renderings of clauses (aligned commentary, translation cache) as a second
        lexical index: English questions then match English words, not only glossary terms."""
        texts: dict[str, str] = {}
        for commentary in self.commentaries:
            for cid in {a.clause_id for a in commentary.alignments}:
                rendering = english_rendering(commentary.alignments, cid)
                if rendering and cid in self.clauses:
                    texts[cid] = texts.get(cid, "") + " " + rendering
        for cid, clause in self.clauses.items():
            if cid not in texts:
                cached = self.store.translation(cid, clause.text) if len(self.clauses) < 5000 else None
                if cached:
                    texts[cid] = cached
        self.english_words = {cid: {"en:" + w for w in english_stems(text)} for cid, text in texts.items()}
        self.english_vocab = set().union(*self.english_words.values()) if self.english_words else set()
        self.en_ids = list(texts)
        self.en_bm25 = None
        if texts:
            self.en_bm25 = bm25s.BM25()
            self.en_bm25.index([sorted(english_stems(texts[cid])) or ["_"] for cid in self.en_ids],
                               show_progress=False)

    # ------------------------------------------------------------ understanding
    def understand(self, question: str, lang: str | None, history: list[Turn]) -> Understanding:
        question = unicodedata.normalize("NFC", question)
        u = Understanding(language=lang or question_language(question))
        self._resolve_numbers(question, u)
        u.actors = _actors_in(question)
        u.paths = _paths_in(question)
        if history and not u.numbers and not u.missing:
            for turn in reversed(history):
                if turn.role != "user":
                    continue
                previous = Understanding(language=u.language)
                self._resolve_numbers(turn.content, previous)
                if previous.numbers:
                    u.numbers = previous.numbers
                    u.inherited = True
                    earlier_paths = _paths_in(turn.content)
                    # "Điểm đ thì sao?" after "điểm c khoản 2": the point belongs to the same clause.
                    u.paths = [_complete_path(p, earlier_paths) for p in u.paths]
                    if not u.actors and not u.paths:
                        u.context_actors = _actors_in(turn.content)
                    break
        u.paths = [p for p in u.paths if not p.startswith("?")]
        u.intent = _intent(question, bool(u.numbers))
        u.referenced = [m for m in u.missing
                        if any(r.number == m for n in u.numbers for r in self.documents[n].references)]
        u.missing = [m for m in u.missing if m not in u.referenced]
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
            if re.search(rf"(?<!\w){re.escape(english.lower())}(?:s|es)?(?!\w)", low):
                extra.append(vietnamese)
        for actor in u.actors:
            extra.append(actor)
        return question + (" " + " ".join(extra) if extra else "")

    # ------------------------------------------------------------ retrieval
    def rank(self, query: str, top_k: int = 10, numbers: list[str] | None = None,
               expanded: str | None = None) -> list[tuple[str, float, dict]]:
        """Fused ranking: list of (clause_id, rrf score, signals)."""
        text = expanded or query
        vector = self._query_vector(text)
        depth = max(top_k * 3, 30)
        signals: dict[str, dict] = {}
        if self.store.server:
            points = self.store.hybrid_search_server(vector, lexical_tokens(text), depth, numbers)
            for rank, point in enumerate(points):
                cid = self.clause_of_point.get(str(point.id))
                if cid:
                    signals.setdefault(cid, {})["rrf"] = point.score
        else:
            for rank, point in enumerate(self.store.dense_search(vector, depth, numbers)):
                cid = self.clause_of_point.get(str(point.id))
                if cid:
                    signals.setdefault(cid, {}).update(dense=point.score, dense_rank=rank)
            for rank, (cid, score) in enumerate(self._lexical(text, depth, numbers)):
                signals.setdefault(cid, {}).update(bm25=score, bm25_rank=rank)
            if question_language(query) == "en":
                for rank, (cid, score) in enumerate(self._english_lexical(query, depth, numbers)):
                    signals.setdefault(cid, {}).update(en_bm25=score, en_rank=rank)
        q_tokens = self.question_tokens(query, text)
        fused = []
        for cid, s in signals.items():
            score = s.get("rrf", 0.0)
            if "dense_rank" in s:
                score += 1.0 / (RRF_K + s["dense_rank"])
            if "bm25_rank" in s:
                score += 1.0 / (RRF_K + s["bm25_rank"])
            if "en_rank" in s:
                score += 1.0 / (RRF_K + s["en_rank"])
            clause = self.clauses.get(cid)
            if clause is None:
                continue
            s["overlap"] = self.coverage(q_tokens, self.clause_tokens.get(cid, set()))
            fused.append((cid, score, s))
        fused.sort(key=lambda item: -item[1])
        return fused[:top_k]

    def _query_vector(self, text: str) -> list[float]:
        """Query embeddings are the bulk of a question's cost; repeated questions reuse them."""
        cache = self._vector_cache
        vector = cache.get(text)
        if vector is None:
            vector = self.store.embedder.embed_query(text)
            if len(cache) >= 2048:
                cache.pop(next(iter(cache)))
            cache[text] = vector
        return vector

    def question_tokens(self, question: str, expanded: str) -> set[str]:
        """Content tokens that can be checked against Vietnamese clauses: for an English question
        only its glossary expansion counts (English words never occur in the clauses)."""
        if question_language(question) == "en":
            added = expanded[len(question):] if expanded.startswith(question) else ""
            tokens = _content_tokens(lexical_tokens(added)) if added.strip() else set()
            # English words the glossary could not map stay in as evidence we cannot check.
            unmapped = question.lower()
            for english in sorted(glossary(), key=len, reverse=True):
                unmapped = re.sub(rf"(?<!\w){re.escape(english.lower())}(?:s|es)?(?!\w)", " ", unmapped)
            for actor in actor_table():
                for pattern in actor.patterns:
                    unmapped = pattern.sub(" ", unmapped)
            tokens |= {"en:" + w for w in english_stems(unmapped)}
            return tokens
        return _content_tokens(lexical_tokens(expanded))

    def coverage(self, q_tokens: set[str], clause_tokens: set[str]) -> float:
        """IDF-weighted share of the question's content words found in the clause; words the
        corpus never uses weigh most, so off-topic questions score low."""
        if not q_tokens:
            return 0.0
        weight = {t: self.idf.get(t, self.unknown_idf) for t in q_tokens}
        total = sum(weight.values())
        return sum(w for t, w in weight.items() if t in clause_tokens) / total

    def _english_lexical(self, question: str, depth: int, numbers: list[str] | None):
        if self.en_bm25 is None:
            return []
        tokens = [w for w in english_stems(question) if "en:" + w in self.english_vocab]
        if not tokens:
            return []
        docs, scores = self.en_bm25.retrieve([tokens], k=min(len(self.en_ids), depth),
                                             show_progress=False)
        return [(self.en_ids[int(i)], float(sc)) for i, sc in zip(docs[0], scores[0])
                if sc > 0 and (not numbers or self.en_ids[int(i)].split("#")[0] in numbers)]

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

    def search(self, query: str, top_k: int = 10) -> list[Hit]:
        u = self.understand(query, None, [])
        ranked = self.rank(query, top_k, u.numbers or None, u.expanded)
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
            ranked = self.rank(question, top_k or 8, u.numbers or None, u.expanded)
            timings["retrieve_ms"] = _ms(t)
            answer = self._compose(question, u, ranked)
            answer.timings = {**timings, "total_ms": _ms(started)}
            return answer

    def support_features(self, ranked) -> tuple[float, float]:
        """(best IDF-weighted coverage in the top 3, best dense similarity)."""
        coverage = max((s.get("overlap", 0.0) for _, _, s in ranked[:3]), default=0.0)
        dense = max((s.get("dense", 0.0) for _, _, s in ranked[:3]), default=0.0)
        return coverage, dense

    def _supported(self, u: Understanding, ranked) -> bool:
        if not ranked:
            return False
        if u.numbers and not u.inherited:
            return True
        if u.inherited and (u.paths or u.actors or u.intent in _STRUCTURAL_INTENTS):
            return True      # "còn khoản 3 thì sao?": the structure itself is the evidence
        coverage, dense = self.support_features(ranked)
        min_coverage, min_dense = REFUSAL_THRESHOLDS[u.language]
        return coverage >= min_coverage or dense >= min_dense

    def _compose(self, question: str, u: Understanding, ranked) -> Answer:
        lang = u.language
        if not self._supported(u, ranked):
            return self._refusal(u, ranked)
        docs = u.numbers or [ranked[0][0].split("#")[0]]
        if u.intent in ("signer", "date", "subject", "recipients") and u.numbers:
            if u.intent == "date" and _asks_signer(question):
                u.intent = "signer"
            return self._metadata_answer(u, self.documents[docs[0]], question)
        if u.intent == "references" and u.numbers and not u.referenced:
            return self._references_answer(u, self.documents[docs[0]], question, ranked)
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
        """Which clauses the answer cites. Precision first: a clause is cited only when the
        question's structure (path, actor, deadline, reference) or the ranking points at it."""
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
        if u.referenced:
            mentioning = [c for c in ranked_clauses if set(u.referenced) & set(c.references)]
            if not mentioning:
                mentioning = [c for n in u.numbers for c in self.documents[n].clauses
                              if set(u.referenced) & set(c.references)]
            if mentioning:
                return mentioning[:1]
        if u.intent == "deadline":
            with_deadline = [c for c in ranked_clauses if c.deadlines]
            if not with_deadline and u.numbers:
                with_deadline = [c for n in u.numbers for c in self.documents[n].clauses if c.deadlines]
            if with_deadline:
                return with_deadline[:1]
        actors = u.actors or u.context_actors
        if actors and u.numbers and u.intent in ("obligations", "topic", "who"):
            picked = []
            for number in u.numbers:
                for clause in self.documents[number].clauses:
                    if clause.path in ("preamble", "closing") or clause.parent:
                        continue
                    if set(actors) & set(addressed_actors(clause)):
                        picked.append(clause)
                        picked.extend(self.clauses[f"{number}#{c}"] for c in clause.children)
            if picked and u.intent != "who" and _asks_all_duties(u):
                return picked
            if picked and u.intent == "who":
                return picked[:1]
        if u.intent == "who":
            with_actor = [c for c in ranked_clauses
                          if addressed_actors(c) and c.path not in ("preamble", "closing")]
            if with_actor:
                return with_actor[:1]
        if u.intent == "documents" and not u.numbers:
            best: dict[str, tuple[Clause, float]] = {}
            top_score = ranked[0][1] if ranked else 0.0
            for (cid, score, _), clause in zip(ranked, ranked_clauses):
                if clause.doc not in best and score >= DOCUMENTS_RELATIVE_SCORE * top_score:
                    best[clause.doc] = (clause, score)
            return [c for c, _ in best.values()][:3]
        if not ranked_clauses:
            return []
        top = ranked_clauses[0]
        if top.children and not _asks_all_duties(u):
            # A lead-in ranked first for a specific question: its best-ranked point is the answer.
            child = next((c for c in ranked_clauses[:6] if c.parent == top.path and c.doc == top.doc), None)
            if child:
                top = child
        # A point reads wrong without its parent's lead-in; a lead-in is incomplete without its points.
        if top.parent and top.path not in ("preamble", "closing"):
            parent = self.clauses.get(f"{top.doc}#{top.parent}")
            return [parent, top] if parent else [top]
        if top.children and _asks_all_duties(u):
            return [top] + [self.clauses[f"{top.doc}#{c}"] for c in top.children]
        return [top]

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
            return f"**{label}** ({clause.doc}): {english_gist(clause)} The Vietnamese text is quoted in the citation."
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

    def _metadata_answer(self, u: Understanding, document: Document, question: str = "") -> Answer:
        lang = u.language
        text = document.source.repaired_text
        title = self._doc_title(document, lang)
        if u.intent == "signer" and document.signer:
            quote = _find_line(text, document.signer.name)
            if lang == "en":
                body = (f"{title} was signed by {document.signer.name}, "
                        f"{capacity_en(document.signer.capacity)} (“{document.signer.capacity}”) [1].")
                if _asks_date(question):
                    body += f" It is dated {format_date(document.issued, 'en')} [1]."
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

    def _references_answer(self, u: Understanding, document: Document, question: str,
                           ranked) -> Answer:
        """What a document implements or cites. A question naming a kind ("which decree") or a
        topic gets the matching reference(s) only, ranked by where they are cited."""
        lang = u.language
        refs = list(document.references)
        wanted_kinds = _kinds_asked(question)
        if wanted_kinds:
            refs = [r for r in refs if r.kind in wanted_kinds] or refs
        if not refs:
            return self._refusal(u, ranked)
        order = {cid: i for i, (cid, _, _) in enumerate(ranked)}
        broad = _asks_all_references(question)
        if not broad:
            refs.sort(key=lambda r: order.get(f"{document.number}#{r.citing_clause}", 999))
            best_clause = refs[0].citing_clause
            refs = [r for r in refs if r.citing_clause == best_clause and
                    (not wanted_kinds or r.kind in wanted_kinds)] or refs[:1]
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
            when = f" ({format_date(ref.issued, lang)}, {ref.issued.day}/{ref.issued.month}/{ref.issued.year})" \
                if ref.issued and lang == "en" else (f" ngày {format_date(ref.issued, 'vi')}" if ref.issued else "")
            lines.append(f"- {kind or ''} {ref.number}{when} [{index[ref.citing_clause]}]")
        title = self._doc_title(document, lang)
        if lang == "en":
            lead = f"{title} refers to:" if not broad else f"{title} implements and cites:"
        else:
            lead = f"{title} viện dẫn:" if not broad else f"{title} thực hiện và viện dẫn các văn bản:"
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


# ---------------------------------------------------------------- clause facts

def addressed_actors(clause: Clause) -> list[str]:
    """Actors the clause tells to act: named before its verb, not as a partner ("phối hợp với X")."""
    body = _strip_marker(clause)[:160]
    addressed = []
    for actor in actor_table():
        if actor.vi not in clause.actors:
            continue
        for pattern in actor.patterns:
            m = pattern.search(body)
            if m and m.start() < 90 and not re.search(r"(phối hợp với|với|và)\s*$", body[:m.start()]):
                addressed.append(actor.vi)
                break
    return addressed


def english_gist(clause: Clause) -> str:
    """An English account built only from what the parser extracted and the glossary: actors,
    deadlines, cited documents and domain terms. No model involved, nothing invented."""
    parts = []
    actors = addressed_actors(clause) or clause.actors
    names = {a.vi: a.en for a in actor_table()}
    if actors:
        parts.append("Addressed to " + ", ".join(f"{names.get(a, a)} (“{a}”)" for a in actors[:3]) + ".")
    for deadline in clause.deadlines:
        parts.append(f"Deadline: {format_date(deadline.date, 'en')} ({deadline.date.day}/"
                     f"{deadline.date.month}/{deadline.date.year}).")
    if clause.references:
        parts.append("Cites " + ", ".join(clause.references[:4]) + ".")
    figures = list(dict.fromkeys(re.findall(r"\d+(?:[.,]\d+)?\s?%", clause.text)))[:5]
    if figures:
        parts.append("Figures: " + ", ".join(figures) + ".")
    deadline_days = {d.date for d in clause.deadlines}
    other_dates = []
    for m in re.finditer(r"(\d{1,2})/(\d{1,2})/(\d{4})", clause.text):
        try:
            value = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            continue
        if value not in deadline_days and value not in other_dates:
            other_dates.append(value)
    if other_dates:
        parts.append("Dates: " + ", ".join(f"{format_date(d, 'en')} ({d.day}/{d.month}/{d.year})"
                                          for d in other_dates[:3]) + ".")
    low = clause.text.lower()
    seen_vi: set[str] = set()
    terms = []
    for en, vi in glossary().items():
        if vi.lower() in low and len(vi) > 6 and vi.lower() not in seen_vi:
            seen_vi.add(vi.lower())
            terms.append(en)
    terms = terms[:6]
    if terms:
        parts.append("Deals with: " + ", ".join(dict.fromkeys(terms)) + ".")
    return " ".join(parts) or "No English rendering is available yet."


_KIND_WORDS = {
    "Công điện": r"công điện|telegram", "Nghị định": r"nghị định|decree", "Quyết định": r"quyết định|decision",
    "Nghị quyết": r"nghị quyết|resolution", "Chỉ thị": r"chỉ thị|directive", "Kế hoạch": r"kế hoạch|plan",
    "Thông tư": r"thông tư|circular", "Công văn": r"công văn|dispatch",
}


def _kinds_asked(question: str) -> set[str]:
    asked = set()
    for kind, pattern in _KIND_WORDS.items():
        # "Công văn 3476 ..." names the document in view, not the kind asked for.
        for m in re.finditer(rf"\b({pattern})\b(?!\s*(số\s*)?\d)", question, re.IGNORECASE):
            asked.add(kind)
    return asked


def _asks_date(question: str) -> bool:
    return bool(re.search(r"(when|date|ngày nào|khi nào)", question, re.IGNORECASE))


def _asks_signer(question: str) -> bool:
    return bool(re.search(r"(by whom|who signed|signed by|ai ký|người ký)", question, re.IGNORECASE))


_TITLES_EN = [("PHÓ TỔNG GIÁM ĐỐC", "Deputy General Director"), ("TỔNG GIÁM ĐỐC", "General Director"),
              ("PHÓ GIÁM ĐỐC", "Deputy Director"), ("GIÁM ĐỐC", "Director"),
              ("PHÓ VỤ TRƯỞNG", "Deputy Director-General"), ("VỤ TRƯỞNG", "Director-General"),
              ("CHỦ TỊCH", "Chairperson"), ("THỦ TƯỚNG", "Prime Minister")]
_AUTHORITY_EN = {"KT.": "signing for the", "TL.": "by order of the", "TM.": "on behalf of the",
                 "TUQ.": "by authorisation of the"}


def capacity_en(capacity: str) -> str:
    """'KT. TỔNG GIÁM ĐỐC / PHÓ TỔNG GIÁM ĐỐC' → 'Deputy General Director, signing for the General Director'."""
    def title(text: str) -> str:
        for vi, en in _TITLES_EN:
            if text.strip().startswith(vi):
                return en + text.strip()[len(vi):].title()
        return text.strip().title()

    m = re.match(r"^(KT\.|TL\.|TM\.|TUQ\.)\s*(.*)$", capacity)
    if not m:
        return title(capacity)
    principal, _, own = m.group(2).partition(" / ")
    own_title = title(own) if own else "signatory"
    return f"{own_title}, {_AUTHORITY_EN[m.group(1)]} {title(principal)}"


def _asks_all_references(question: str) -> bool:
    return bool(re.search(r"(những văn bản|các văn bản|all (the )?documents|what documents|cites?\b|"
                          r"viện dẫn những|references)", question, re.IGNORECASE))


def _asks_all_duties(u: "Understanding") -> bool:
    return u.intent in ("obligations",) or bool(u.actors) and u.intent == "topic"


# ---------------------------------------------------------------- question analysis

def _actors_in(question: str) -> list[str]:
    found = []
    for actor in actor_table():
        if any(p.search(question) for p in actor.patterns):
            found.append(actor.vi)
    # "Giám đốc BHXH tỉnh" also matches the shorter "BHXH tỉnh": keep the specific one.
    return [a for a in found if not any(a != b and a in b for b in found)]


_CLAUSE_REF = re.compile(r"(?:khoản|clause|item)\s+(\d{1,2})(?:\s*\(([a-zđ])\)|\s+(?:điểm|point)\s+\(?([a-zđ])\b\)?)?",
                         re.IGNORECASE)
_POINT_FIRST = re.compile(r"(?:điểm|point)\s+\(?([a-zđ])\b\)?(?:\s+(?:của\s+)?(?:khoản|clause)\s+(\d{1,2}))?",
                          re.IGNORECASE)


def _paths_in(question: str) -> list[str]:
    """'khoản 2 điểm a', 'clause 2(a)', 'điểm c khoản 2' → '2.a'; a bare 'điểm đ' → '?.đ'."""
    paths = []
    for m in _CLAUSE_REF.finditer(question):
        letter = m.group(2) or m.group(3)
        paths.append(m.group(1) + (f".{letter.lower()}" if letter else ""))
    for m in _POINT_FIRST.finditer(question):
        path = f"{m.group(2) or '?'}.{m.group(1).lower()}"
        if not any(p.endswith("." + m.group(1).lower()) for p in paths):
            paths.append(path)
    return [p for p in paths if not any(q.startswith(p + ".") for q in paths)]


def _complete_path(path: str, earlier: list[str]) -> str:
    if not path.startswith("?"):
        return path
    clause = next((p.split(".")[0] for p in earlier if not p.startswith("?")), None)
    return f"{clause}{path[1:]}" if clause else path


_INTENTS = [
    ("signer", r"\b(ai ký|người ký|ký văn bản|do ai ký|signed|signer|signatory)\b"),
    ("deadline", r"(hạn chót|trước ngày|thời hạn|deadline|by when|due date|no later than|khi nào phải|"
                 r"hạn (báo cáo|gửi|nộp))"),
    ("date", r"(ban hành (vào )?ngày nào|ngày ban hành|when was .* issued|what date|issue date|"
             r"dated when|ký ngày nào|ngày nào)"),
    ("recipients", r"(gửi (cho |tới |đến )?(ai|những ai|đơn vị nào)|kính gửi|addressed to|recipients|sent to)"),
    ("subject", r"(trích yếu|về việc gì|subject of|what is .* about\b)"),
    ("references", r"(thực hiện (công điện|chỉ thị|nghị quyết|nghị định) nào|implement(s|ing)?\b.*\?$|"
                   r"which (telegram|decree|decision|resolution|directive|plan|earlier|(vss |official )?dispatch)|"
                   r"(công điện|nghị định|quyết định|nghị quyết|chỉ thị|kế hoạch|thông tư|công văn) nào|"
                   r"documents? does .* cite|\bcites?\b|căn cứ|viện dẫn|refer)"),
    ("who", r"(đơn vị nào|ai (chịu trách nhiệm|theo dõi|chủ trì)|which (unit|department|body|office)|"
            r"who (monitors|is responsible|is assigned|leads|follows)|giao cho ai)"),
    ("documents", r"(văn bản nào|những văn bản|công văn nào|which (documents?|dispatch(es)?|"
                  r"official dispatch(es)?)|what documents)"),
    ("obligations", r"(phải làm gì|trách nhiệm|nhiệm vụ|yêu cầu gì|must|should|obligations?|"
                    r"required to|what (do|does) .* do|duties)"),
]


_STRUCTURAL_INTENTS = ("deadline", "signer", "date", "recipients", "subject", "references")


def _intent(question: str, has_document: bool = True) -> str:
    for name, pattern in _INTENTS:
        # Without a document in view, "which dispatch/telegram ..." asks for documents, not references.
        if name in ("references", "signer", "date", "recipients", "subject") and not has_document:
            continue
        if re.search(pattern, question, re.IGNORECASE):
            return name
    return "topic"


def english_stems(text: str) -> list[str]:
    """Lowercase English content words with a plural 's' removed (enough for matching)."""
    words = re.findall(r"[a-z]{3,}", text.lower())
    return [w[:-1] if w.endswith("s") and not w.endswith("ss") else w for w in words if w not in _STOP]


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
