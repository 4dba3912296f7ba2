"""The grounded composer: an answer built only from retrieved clauses and parsed metadata.

Every citation is a retrieved clause (or the document's own header) with a verbatim quote;
the text never names a source that is not in `citations`. The optional LLM composer
(`service.llm`) rewrites this answer and is verified against it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.commentary import english_rendering
from ingest.model import Citation, Clause, Document
from ingest.vocab import MONTHS_EN, PARTY_NUMBER_RE, kind_en, party_number
from service.qa.render import (
    actor_en,
    addressed_actors,
    capacity_en,
    clause_label,
    doc_title,
    english_gist,
    find_line,
    format_date,
    numeric_date,
    one_line,
    strip_marker,
    verbatim_quote,
)
from service.qa.issuers import issuer_scores
from service.qa.retrieve import IndexSnapshot, Ranked
from service.qa.support import (
    NamedFact, answer_types, designations_in, is_supported, names_designation, names_other_designation,
    offers_answer_type, unnamed_fact,
)
from service.qa.understand import (
    Query,
    asks_all_duties,
    asks_all_references,
    asks_signer,
    expand,
    is_question_word,
    issuer_named,
    kinds_asked,
    question_parts,
)
from service.schemas import Answer, Related
from service.store import ClauseStore, text_words

# "Which documents deal with X": other documents are listed when their best clause scores
# at least this share of the top one.
DOCUMENTS_RELATIVE_SCORE = 0.9
_METADATA_INTENTS = ("signer", "date", "subject", "recipients", "issuer", "opinion")
# A question asking for an amount, rate, count or date wants the sentences that state one.
_FIGURE_CUES = {"bao_nhiêu", "bao nhiêu", "mức", "how", "much", "many", "rate", "amount", "percent",
                "tỷ_lệ", "tỷ lệ", "ngày", "when", "date", "thời_hạn", "mấy", "tối_đa", "tối_thiểu"}
_FIGURE = re.compile(r"\d[\d.,]*\s*(%|đồng|triệu|tỷ|ngày|tháng|năm|giờ|lần|người)|\d{1,2}/\d{1,2}/\d{4}|"
                     r"ngày\s+\d{1,2}\s+tháng")
_EFFECT = re.compile(r"có hiệu lực|hiệu lực thi hành|takes? effect|enters? into force|comes? into (force|effect)|"
                     r"effective (from|as of|on)", re.IGNORECASE)
# The document's own entry into force ("Quyết định này có hiệu lực …", "This Decree comes into
# force …"), not a date an amended provision takes effect.
_OWN_EFFECT = re.compile(r"\bnày\s+có hiệu lực|\bthis (?:decree|decision|circular|resolution|directive|plan|"
                         r"document|official dispatch|dispatch)\s+(?:shall\s+)?(?:takes? effect|enters? into force|"
                         r"comes? into (?:force|effect)|is effective)", re.IGNORECASE)
_SENTENCE_SPAN = re.compile(r"[^\n]+?(?:[.;:!?](?=\s)|$)|[^\n]+", re.MULTILINE)
_SENTENCE = re.compile(r"(?<=[.;:!?])\s+(?=\S)|\s+(?=[-–•+]\s)|\s+(?=[a-zđ]\)\s)")
# A table's numbered rows ("| 1 | Trung tâm Y tế …: … - … | 8.000 |"): the units a table is quoted in.
_TABLE_ROW = re.compile(r"\s+(?=\|\s*(?:\d{1,2}(?:\.\d{1,2})*|[IVX]{1,4}|[a-zđ])\s*\|\s*[^\d|\s])")
TABLE_CELLS = 6          # a text with this many cell bars is quoted row by row
# "Which document …": runners-up are named when their fused score is this share of the best.
RUNNER_UP_SHARE = 0.8
DOCUMENT_RRF_K = 2
# A second clause is cited when its fused score is this share of the first (see _close_seconds).
SECOND_SHARE = 0.6
SECOND_LOOK = 6
FRAME_YIELD = 0.5          # a preamble or closing gives way to a clause ranked this close
_FRAME = ("preamble", "closing")
TIED_SHARE = 0.95          # ranked level with the first: the ranking cannot tell them apart
MAX_SECONDS = 3
# A clause of another section is cited when it supplies what the cited ones lack and still
# scores this share of the first; "lack" in words is this share of the question's IDF weight.
COMPLEMENT_SHARE = 0.4
COMPLEMENT_GAIN = 0.2
PART_SAID = 0.5            # share of a question part's IDF weight a clause must contain to answer it
PART_SHARE = 0.25          # … and its fused score, of the first cited clause's
STATING_SAID = 0.5         # share of the question's weight an unranked clause stating the fact asked must say
TYPE_CUE = "type:"          # a focus entry naming an asked answer type, not a word
ANSWER_TYPE_LOOK = 5      # ranked clauses searched for the kind of fact a question asks for
DEADLINE_LOOK = 5        # ranked clauses searched for one that sets a deadline
LEAD_IN_POINTS = 6         # points cited under a lead-in that none of its points outranked
ITEM_CHARS = 1000         # per cited clause in the answer text; longer clauses show their focus


@dataclass(frozen=True)
class DocumentScore:
    """A document's place in a which-document ranking: `score` orders (clause, title and issuer
    rankings fused); `evidence` is the clause and title part alone, the content evidence that
    decides support and runner-ups (one issuer has many documents)."""
    number: str
    score: float
    evidence: float


class GroundedComposer:
    def __init__(self, snapshot: IndexSnapshot, store: ClauseStore):
        self.snapshot = snapshot
        self.store = store

    def __getattr__(self, name: str):
        # documents, clauses, … are the snapshot's: the composer reads one corpus view.
        return getattr(self.snapshot, name)

    def compose(self, question: str, query: Query, ranked: Ranked,
                agreement: Callable[[], int] | None = None) -> Answer:
        docs = query.numbers or ([ranked[0][0].split("#")[0]] if ranked else [])
        if query.intent in _METADATA_INTENTS and query.numbers:
            if query.intent == "date" and asks_signer(question):
                query.intent = "signer"
            return self.metadata_answer(query, self.documents[docs[0]], question)
        if query.intent == "references" and query.numbers and not query.referenced:
            answer = self.references_answer(query, self.documents[docs[0]], question, ranked)
            if answer is not None:
                return answer
            # No numbered reference: a law cited by name ("Điều 59 Luật Tài nguyên nước") is in
            # the clause text, which the ranking reads like any other question.
        # "Which document …?" ranks documents once: for support and for the answer.
        scored = self.rank_documents(question, query, ranked) \
            if query.intent == "documents" and not query.numbers else None
        if scored == [] and query.cited:
            return self.refuse_uncited(query, ranked)
        supported = is_supported(query, ranked, agreement=agreement) or documents_agree(scored)
        if supported and not self.answers_type_asked(question, query, ranked):
            ranked = self._with_stating_clause(question, query, ranked)
        if not supported or not self.answers_type_asked(question, query, ranked):
            if query.numbers and not query.inherited:
                return self.refusal_within(query, ranked)
            return self.refusal(query, ranked)
        unnamed = self._unnamed_fact(question, query)
        if unnamed is not None:
            return self.refusal_within(query, ranked, unnamed)
        if scored is not None:
            return self.documents_answer(question, query, ranked, scored)
        chosen = self.select_clauses(query, ranked, question)
        if not chosen:
            return self.refusal(query, ranked)
        chosen = self._designated(chosen, question)
        chosen = chosen + self._answer_other_parts(chosen, ranked, query, question)
        lang = query.language
        if query.intent == "deadline":
            lead = self._deadline_lead(chosen, lang)
        elif query.intent == "who":
            lead = self._who_lead(chosen, lang)
        else:
            lead = self._obligation_lead(query, chosen, lang)
        return self._answer_from(query, lead, chosen, ranked, question)

    def answers_type_asked(self, question: str, query: Query, ranked: Ranked) -> bool:
        """A question asking for an amount, a date, a number of days or a frequency is answered
        only if one of the best-ranked clauses states one (a clause asked for by path always is)."""
        if query.paths or query.intent == "documents" and not query.numbers:
            return True
        clauses = [self.clauses[cid] for cid, _, _ in ranked[:ANSWER_TYPE_LOOK]
                   if cid in self.clauses and self.clauses[cid].path != "header"]
        # A lead-in ("…, cụ thể:") states its facts in its points.
        texts = [c.text for clause in clauses for c in [clause, *self._children(clause)]]
        return offers_answer_type(answer_types(question), texts)

    def _designated(self, chosen: list[Clause], question: str) -> list[Clause]:
        """A question naming one item of a numbered series ("nhóm đối tượng số 1", "vùng II"):
        a cited sibling item for another ("Nhóm đối tượng số 5 …: 2.000.000 đồng") gives way to
        the item naming the one asked for, and a cited lead-in of the series ("Tặng quà … 27
        tháng 7:") is followed by that item. Numbers weigh nothing in the ranking, so items
        differing only in them tie."""
        designations = designations_in(question)
        if not designations:
            return chosen
        picked: list[Clause] = []
        for clause in chosen:
            parent = self.clauses.get(f"{clause.doc}#{clause.parent}") if clause.parent is not None else None
            if parent is not None and names_other_designation(clause.text, designations):
                clause = next((s for s in self._children(parent) if names_designation(s.text, designations)), clause)
            items = self._children(clause)
            named = [c for c in items if names_designation(c.text, designations)]
            for c in [clause, *(named[:1] if any(names_other_designation(i.text, designations) for i in items) else [])]:
                if c not in picked:
                    picked.append(c)
        return picked

    def _unnamed_fact(self, question: str, query: Query) -> NamedFact | None:
        """The benefit, fee or fine an amount question asks of one named document that the
        document never mentions ("trợ cấp hằng tháng" of a decree on one-off allowances)."""
        if len(query.numbers) != 1 or query.inherited or query.paths:
            return None
        document = self.documents[query.numbers[0]]
        return unnamed_fact(question, query.language, (document.subject or "", *(c.text for c in document.clauses)))

    def _with_stating_clause(self, question: str, query: Query, ranked: Ranked) -> Ranked:
        """A question on one named document asking for an amount, a date, a count …, that none of
        the best-ranked clauses states: the document's clause that states one and says most of
        the question (by IDF weight, at least STATING_SAID of it) is put first, ranked or not;
        a long document's answer often ranks below the clauses that share its conditions' words.
        Without one, the ranking is left as it is (and the question is refused within it)."""
        types = answer_types(question)
        if len(query.numbers) != 1 or not types or query.paths or not ranked:
            return ranked
        weights = self._focus_weights(query, question)
        total = sum(weights.values())
        if not total:
            return ranked
        stating = [c for c in self.documents[query.numbers[0]].clauses
                   if c.path not in (*_FRAME, "header") and offers_answer_type(types, [c.text])]
        tokens = self.snapshot.clause_tokens.many([c.id for c in stating])
        said = {c.id: sum(w for t, w in weights.items() if t in tokens.get(c.id, ())) / total for c in stating}
        best = max(stating, key=lambda c: said[c.id], default=None)
        if best is None or said[best.id] < STATING_SAID:
            return ranked
        signals = dict(next((s for cid, _, s in ranked if cid == best.id), ranked[0][2]))
        return [(best.id, ranked[0][1], signals)] + [r for r in ranked if r[0] != best.id]

    # ------------------------------------------------------------ which clauses
    def select_clauses(self, query: Query, ranked: Ranked, question: str = "") -> list[Clause]:
        """Which clauses the answer cites. Precision first: a clause is cited only when the
        question's structure (path, actor, deadline, reference) or the ranking points at it."""
        ranked_clauses = [self.clauses[cid] for cid, _, _ in ranked if cid in self.clauses]
        if query.paths and query.numbers:
            picked = []
            for number in query.numbers:
                for path in query.paths:
                    clause = self.clauses.get(f"{number}#{path}")
                    if clause:
                        picked.append(clause)
                        picked.extend(self._children(clause))
            if picked:
                return picked
        if query.referenced:
            mentioning = [c for c in ranked_clauses if set(query.referenced) & set(c.references)]
            if not mentioning:
                mentioning = [c for n in query.numbers for c in self.documents[n].clauses
                              if set(query.referenced) & set(c.references)]
            if mentioning:
                return mentioning[:1]
        if query.intent == "deadline":
            # The best-ranked clause that sets a deadline, among those the ranking vouches for;
            # else, for a named document, the first of its clauses that sets one.
            with_deadline = [c for c in ranked_clauses[:DEADLINE_LOOK] if c.deadlines]
            if not with_deadline and query.numbers and not ranked_clauses:
                with_deadline = [c for n in query.numbers for c in self.documents[n].clauses
                                 if c.deadlines]
            if with_deadline:
                return self._with_context(with_deadline[0], ranked, ranked_clauses, query, question)
        if query.intent == "effective":
            # "When does it take effect?": the clause that says so, ranked or not.
            # Preferred in order: a ranked clause on the document's own entry into force, the
            # named document's own, a ranked clause naming any, the named document's any.
            own = [c for c in map(self._effect_clause, map(self.documents.get, query.numbers)) if c]
            stating = [c for c in ranked_clauses[:DEADLINE_LOOK] if _OWN_EFFECT.search(c.text)] \
                or [c for c in own[:1] if _OWN_EFFECT.search(c.text)] \
                or [c for c in ranked_clauses[:DEADLINE_LOOK] if _EFFECT.search(c.text)] or own
            if stating:
                return stating[:1]
        actors = query.actors or query.context_actors
        if actors and query.numbers and query.intent in ("obligations", "topic", "who"):
            picked = []
            for number in query.numbers:
                for clause in self.documents[number].clauses:
                    if clause.path == "header" or clause.path in _FRAME or clause.parent:
                        continue       # the header addresses its recipients, it asks nothing
                    if set(actors) & set(addressed_actors(clause)):
                        picked.append(clause)
                        picked.extend(self._children(clause))
            if picked and query.intent != "who" and asks_all_duties(query):
                return picked
            if picked and query.intent == "who":
                return picked[:1]
        if query.intent == "who":
            with_actor = [c for c in ranked_clauses
                          if addressed_actors(c) and c.path not in _FRAME]
            if with_actor:
                return with_actor[:1]
        ranked_clauses = _answering(ranked_clauses)
        if not ranked_clauses:
            return []
        top = self._past_frame(ranked_clauses, ranked)
        if top.children and not asks_all_duties(query):
            # A lead-in ranked first for a specific question: its best-ranked point is the answer.
            child = next((c for c in ranked_clauses[:6] if c.parent == top.path and c.doc == top.doc), None)
            if child:
                top = child
            elif _is_lead_in(top):
                # "X có trách nhiệm:" says nothing until its points do: cite them with it.
                return [top] + self._children(top)[:LEAD_IN_POINTS]
        if top.children and asks_all_duties(query) and not top.parent:
            return [top] + self._children(top)
        return self._with_context(top, ranked, ranked_clauses, query, question)

    def _past_frame(self, ranked_clauses: list[Clause], ranked: Ranked) -> Clause:
        """The first-ranked clause, unless it is the document's frame: a preamble restates the
        request a reply answers or the bases it rests on, a closing sums up ("Trên đây là …"),
        and both match a question's words best without answering it. Then the next clause of
        the same document answers, if it ranks within FRAME_YIELD of the frame."""
        top = ranked_clauses[0]
        if top.path not in _FRAME or FRAME_YIELD > 1:
            return top
        score = {cid: value for cid, value, _ in ranked}
        for clause in ranked_clauses[1:SECOND_LOOK]:
            if clause.doc == top.doc and clause.path not in _FRAME:
                if score.get(clause.id, 0.0) >= FRAME_YIELD * score.get(top.id, 0.0):
                    return clause
                break
        return top

    def _with_context(self, top: Clause, ranked: Ranked, ranked_clauses: list[Clause], query: Query,
                      question: str) -> list[Clause]:
        """The answering clause with what it needs to read right and what completes it: a
        point's lead-in, then the second clauses (`_seconds`), in reading order."""
        # A point reads wrong without its parent's lead-in (a section title adds nothing).
        if top.parent and top.path not in _FRAME:
            parent = self.clauses.get(f"{top.doc}#{top.parent}")
            chosen = [parent, top] if parent and not _is_heading(parent) else [top]
        else:
            chosen = [top]
        if not top.children and top.text.rstrip().endswith(":"):
            # "Bộ … có ý kiến như sau:" announces what the next paragraph says.
            following = self._next_sibling(top)
            if following is not None:
                chosen.append(following)
        ranked_clauses = _answering(ranked_clauses)
        if top not in ranked_clauses:
            ranked_clauses = [top] + ranked_clauses
        return self._reading_order(chosen + self._seconds(chosen, ranked, ranked_clauses, query, question))

    def _next_sibling(self, clause: Clause) -> Clause | None:
        body = self.documents[clause.doc].clauses
        at = next((i for i, c in enumerate(body) if c.id == clause.id), None)
        if at is None or at + 1 >= len(body):
            return None
        following = body[at + 1]
        if following.parent != clause.parent or following.path in (*_FRAME, "header"):
            return None
        return following

    def _reading_order(self, clauses: list[Clause]) -> list[Clause]:
        """Points under one lead-in in the directive's order (a before b), each group where its
        best-ranked member stood."""
        position = {}
        for clause in clauses:
            if clause.doc not in position:
                position[clause.doc] = {c.id: i for i, c in enumerate(self.documents[clause.doc].clauses)}
        first: dict[tuple[str, str | None], int] = {}
        for i, clause in enumerate(clauses):
            first.setdefault((clause.doc, clause.parent), i)
        return sorted(clauses, key=lambda c: (first[(c.doc, c.parent)], position[c.doc].get(c.id, 0)))

    def _seconds(self, chosen: list[Clause], ranked: Ranked, ranked_clauses: list[Clause],
                 query: Query, question: str) -> list[Clause]:
        """Other clauses of the same document worth citing beside the first: one of the same
        section ranked nearly as high (a question often rests on two neighbouring provisions),
        or one that supplies what the cited ones lack: the kind of fact asked for, or a large
        share of the question's words they do not contain ("bao nhiêu … và khi nào …")."""
        score = {cid: value for cid, value, _ in ranked}
        top_score = score.get(chosen[-1].id, 0.0)
        taken = {c.id for c in chosen}
        types = answer_types(question)
        weights = self._focus_weights(query, question) if question else {}
        covered = set().union(*(text_words(c.text) for c in chosen))
        extra = []
        for clause in ranked_clauses[:SECOND_LOOK]:
            if len(extra) >= MAX_SECONDS or clause.id in taken or clause.doc != chosen[-1].doc:
                continue
            if any(t.startswith(clause.id + ".") for t in taken):
                continue        # the lead-in of what is already cited (its points may still add)
            share = score.get(clause.id, 0.0) / (top_score or 1.0)
            neighbour = clause.path.split(".")[0] == chosen[-1].path.split(".")[0]
            texts = [c.text for c in chosen + extra]
            supplies_type = bool(types) and not offers_answer_type(types, texts) \
                and offers_answer_type(types, [clause.text])
            words = text_words(clause.text)
            gain = sum(w for t, w in weights.items() if t in words and t not in covered)
            supplies_words = weights and gain >= COMPLEMENT_GAIN * sum(weights.values())
            if share >= TIED_SHARE or neighbour and share >= SECOND_SHARE or share >= COMPLEMENT_SHARE and (
                    supplies_type or supplies_words):
                extra.append(clause)
                taken.add(clause.id)
                covered |= words
        return extra

    def _answer_other_parts(self, chosen: list[Clause], ranked: Ranked, query: Query,
                            question: str) -> list[Clause]:
        """A question in two parts ("… cơ quan nào hướng dẫn … và kinh phí do đâu bảo đảm?",
        "When does it take effect and which circular does it replace?"): a part the cited clauses
        leave mostly unsaid is answered by the best-ranked clause of the same document that says
        most of it, when it ranks within PART_SHARE of the first."""
        parts = question_parts(question)
        if len(parts) < 2 or not chosen:
            return []
        score = {cid: value for cid, value, _ in ranked}
        first = max(score.get(c.id, 0.0) for c in chosen)
        docs = {c.doc for c in chosen}
        taken = {c.id for c in chosen}
        said = set().union(*(text_words(c.text) for c in chosen))
        extra: list[Clause] = []
        for part in parts:
            weights = {t: w for t, w in self._focus_weights(query, part, expand(part, query)).items()
                       if not is_question_word(t)}
            total = sum(weights.values())
            if not total or sum(w for t, w in weights.items() if t in said) >= PART_SAID * total:
                continue
            saying = []
            for cid, value, _ in ranked[:SECOND_LOOK]:
                clause = self.clauses.get(cid)
                if clause is None or cid in taken or clause.doc not in docs or clause.path == "header" \
                        or value < PART_SHARE * first:
                    continue
                words = text_words(clause.text)
                if sum(w for t, w in weights.items() if t in words) >= PART_SAID * total:
                    saying.append((clause, words))
            # "… which circular does it replace?": of the clauses saying it, one naming a document.
            wants_document = bool(kinds_asked(part))
            saying.sort(key=lambda found: not (wants_document and found[0].references))
            if saying:
                clause, words = saying[0]
                extra.append(clause)
                taken.add(clause.id)
                said |= words
        return extra

    def _focus_weights(self, query: Query, question: str, expanded: str | None = None) -> dict[str, float]:
        """The question's content words as clause tokens (numbers and document numbers aside:
        they name the document, not what is asked), with their IDF."""
        tokens = self.snapshot.question_tokens(question, expanded or query.expanded)
        idf = self.snapshot.idf
        return {t: idf[t] for t in tokens if not t.startswith("en:") and not any(ch.isdigit() for ch in t)
                and idf.get(t) is not None}

    def _children(self, clause: Clause) -> list[Clause]:
        return [self.clauses[f"{clause.doc}#{c}"] for c in clause.children]

    # ------------------------------------------------------------ citations and items
    def english(self, clause: Clause) -> tuple[str | None, str | None]:
        """The best English rendering of a clause and where it comes from: the document's
        official English version, an aligned commentary, the machine-translation cache."""
        if clause.text_en:
            return clause.text_en, clause.translation_source or "official"
        if self.documents[clause.doc].language == "en":
            return clause.text, "official"
        for commentary in self.snapshot.commentaries:
            rendering = english_rendering(commentary.alignments, clause.id)
            if rendering:
                return rendering, "commentary"
        cached = self.store.translation(clause.id, clause.text)
        return (cached, "machine") if cached else (None, None)

    def citation(self, n: int, clause: Clause, lang: str, focus: set[str] | None = None) -> Citation:
        document = self.documents[clause.doc]
        translation, source = self.english(clause) if lang == "en" else (None, None)
        if source == "official" and translation == clause.text:
            translation = None            # the clause is English already
        quote = self.quote(clause.text, focus, 400) if focus else verbatim_quote(clause.text)
        return Citation(n=n, id=clause.id, doc=clause.doc, path=clause.path,
                        label=clause_label(clause, lang), quote=quote,
                        issued=document.issued, kind=document.kind, translation=translation,
                        translation_source=source)

    def quote(self, text: str, focus: set[str], limit: int) -> str:
        """A verbatim, contiguous span of the clause: the sentence the question is most about,
        widened with its neighbours up to the limit (the opening when nothing stands out)."""
        if len(text) <= limit:
            return text
        spans = [(m.start(), m.end()) for m in _SENTENCE_SPAN.finditer(text)]
        if len(spans) <= 1:
            return verbatim_quote(text, limit)
        scores = [self._relevance(text[a:b], focus) for a, b in spans]
        best = max(range(len(spans)), key=lambda i: scores[i])
        if scores[best] <= 0:
            return verbatim_quote(text, limit)
        low = high = best
        while True:
            grown = False
            for candidate in (low - 1, high + 1):
                if 0 <= candidate < len(spans):
                    a, b = spans[min(low, candidate)][0], spans[max(high, candidate)][1]
                    if b - a <= limit:
                        low, high, grown = min(low, candidate), max(high, candidate), True
            if not grown:
                break
        start, end = spans[low][0], spans[high][1]
        return text[start:end].strip() if end - start <= limit else verbatim_quote(text[start:], limit)

    def _relevance(self, sentence: str, focus: set[str]) -> float:
        types = [t[len(TYPE_CUE):] for t in focus if t.startswith(TYPE_CUE)]
        weight = {t: self.snapshot.idf.get(t, self.snapshot.unknown_idf)
                  for t in focus if not t.startswith(TYPE_CUE)}
        words = text_words(sentence)
        value = sum(w for t, w in weight.items() if t in words)
        if focus & _FIGURE_CUES and _FIGURE.search(sentence):
            value += max(weight.values(), default=1.0)
        if types and offers_answer_type(types, [sentence]):
            value += 2 * max(weight.values(), default=1.0)   # the sentence states what is asked
        return value

    def passage(self, text: str, focus: set[str] | None, limit: int) -> str:
        """The verbatim sentences of a long clause that the question is about, in their order,
        joined by ' … '; the whole text when it is short."""
        flat = " ".join(text.split())
        if len(flat) <= limit or not focus:
            return flat if len(flat) <= limit else one_line(flat, limit)
        splitter = _TABLE_ROW if flat.count("|") >= TABLE_CELLS else _SENTENCE
        sentences = [s for s in splitter.split(flat) if s.strip()]
        if len(sentences) <= 1:
            return one_line(flat, limit)
        scored = sorted(range(len(sentences)), key=lambda i: -self._relevance(sentences[i], focus))
        best = scored[0]
        if splitter is _TABLE_ROW and len(sentences[0]) + len(sentences[best]) > limit:
            # The column headings would crowd out the row asked about: keep only the caption.
            sentences[0] = sentences[0].split("|")[0].strip() or sentences[best]
        # The opening sentence names who must act; the one after the best finishes its thought
        # ("Quyết định 63/2015/QĐ-TTg …. Được thay thế bởi Quyết định 12/2024/QĐ-TTg …").
        following = [best + 1] if best + 1 < len(sentences) and splitter is _SENTENCE else []
        keep, used = [], 0
        for i in [0, best] + following + scored:
            if i in keep or used + len(sentences[i]) > limit and keep:
                continue
            keep.append(i)
            used += len(sentences[i]) + 3
        return " … ".join(dict.fromkeys(sentences[i] for i in sorted(keep)))

    def _item_text(self, citation: Citation, clause: Clause, lang: str, focus: set[str]) -> str:
        if lang == "en":
            label = clause.label_en[0].upper() + clause.label_en[1:]
            english, source = self.english(clause)
            if english:
                marker = " _(machine translation)_" if source == "machine" else ""
                return f"**{label}** ({clause.doc}): {self.passage(english, focus, ITEM_CHARS)}{marker}"
            quoted = self.passage(strip_marker(clause), focus, ITEM_CHARS)
            return (f"**{label}** ({clause.doc}): {english_gist(clause)} "
                    f"No English version of this clause is available; it reads, in Vietnamese: “{quoted}”")
        label = clause.label_vi[0].upper() + clause.label_vi[1:]
        return f"**{label}** ({clause.doc}): {self.passage(strip_marker(clause), focus, ITEM_CHARS)}"

    def _related(self, ranked: Ranked, lang: str, exclude: set[str], limit: int = 3) -> list[Related]:
        return [Related(id=cid, label=clause_label(self.clauses[cid], lang),
                        quote=verbatim_quote(self.clauses[cid].text, 200))
                for cid, _, _ in ranked if cid not in exclude and cid in self.clauses][:limit]

    def focus(self, query: Query, question: str) -> set[str]:
        """The question's content words as they appear in clauses (Vietnamese tokens, plus the
        question's own English words for English clauses)."""
        tokens = self.snapshot.question_tokens(question, query.expanded)
        words = {t[3:] for t in tokens if t.startswith("en:")}
        types = {TYPE_CUE + t for t in answer_types(question)}     # the kind of fact asked for
        return {t for t in tokens if not t.startswith("en:")} | words | text_words(question) | types

    def _answer_from(self, query: Query, lead: str, clauses: list[Clause], ranked: Ranked,
                     question: str = "") -> Answer:
        lang = query.language
        clauses = list({c.id: c for c in clauses}.values())
        focus = self.focus(query, question) if question else set()
        citations = [self.citation(i, c, lang, focus) for i, c in enumerate(clauses, 1)]
        lines = [lead, ""]
        for citation, clause in zip(citations, clauses):
            lines.append(f"- {self._item_text(citation, clause, lang, focus)} [{citation.n}]")
        return Answer(answer="\n".join(lines), language=lang, refused=False, intent=query.intent,
                      citations=citations, related=self._related(ranked, lang, {c.id for c in clauses}),
                      documents=list(dict.fromkeys(c.doc for c in clauses)))

    # ------------------------------------------------------------ leads
    def _obligation_lead(self, query: Query, clauses: list[Clause], lang: str) -> str:
        document = self.documents[clauses[0].doc]
        if query.actors:
            actor = query.actors[0]
            if lang == "en":
                return f"Under {doc_title(document, 'en')}, {actor_en(actor)} ({actor}) must:"
            return f"Theo {doc_title(document, 'vi')}, {actor} có trách nhiệm:"
        if lang == "en":
            return f"{doc_title(document, 'en')} says:"
        return f"{doc_title(document, 'vi')} quy định:"

    def _deadline_lead(self, clauses: list[Clause], lang: str) -> str:
        deadlines = [d for c in clauses for d in c.deadlines]
        document = self.documents[clauses[0].doc]
        if not deadlines:
            return doc_title(document, lang) + ":"
        first = deadlines[0]
        if lang == "en":
            return (f"The deadline under {doc_title(document, 'en')} is "
                    f"{format_date(first.date, 'en')} ({numeric_date(first.date)}):")
        return f"Theo {doc_title(document, 'vi')}, thời hạn là {first.text}:"

    def _who_lead(self, clauses: list[Clause], lang: str) -> str:
        clause = clauses[0]
        actor = clause.actors[0] if clause.actors else ""
        document = self.documents[clause.doc]
        if lang == "en":
            return f"Under {doc_title(document, 'en')}, the unit assigned is {actor_en(actor)} ({actor}):"
        return f"Theo {doc_title(document, 'vi')}, đơn vị được giao là {actor}:"

    # ------------------------------------------------------------ metadata and references
    def _header_citation(self, document: Document, lang: str, needles: list[str]) -> Citation:
        """The header clause (number, place and date, title, addressees, signature) with the
        lines that state the facts; a headerless text cites the document's identity evidence."""
        header = self.clauses.get(f"{document.number}#header")
        if header is not None:
            lines = [line.strip() for line in header.text.split("\n") if line.strip()]
            picked = [line for line in lines if any(n and n in line for n in needles)]
            quote = " … ".join(dict.fromkeys(picked)) or verbatim_quote(header.text, 300)
            return Citation(n=1, id=header.id, doc=document.number, path=header.path,
                            label=clause_label(header, lang), quote=quote,
                            issued=document.issued, kind=document.kind)
        text = document.source.repaired_text
        quote = next((find_line(text, n) for n in needles if n and n in text), "") or \
            "; ".join(document.identity.signals)
        return Citation(n=1, id=document.number, doc=document.number, path="",
                        label="document header" if lang == "en" else "phần đầu văn bản", quote=quote,
                        issued=document.issued, kind=document.kind)

    def metadata_answer(self, query: Query, document: Document, question: str = "") -> Answer:
        """Signer, date, issuer, addressees, subject: read from the parsed header, citing it.
        Every facet the question asks for is answered, not only the first."""
        lang = query.language
        title = doc_title(document, lang)
        facets = [query.intent] + [f for f in asked_facets(question) if f != query.intent]
        facets.append("subject")        # which document this is, in its own words
        sentences, needles = [], []
        for facet in dict.fromkeys(facets):
            sentence, needle = self._facet(document, facet, lang)
            if sentence:
                sentences.append(sentence)
                needles.extend(needle)
        opinion_asked = query.intent == "opinion"
        if not sentences and not opinion_asked or opinion_asked and conveyed_opinion(document) is None:
            return self.refusal_within(query, [])
        date_line = _date_line(document)
        if date_line and "date" in facets:
            needles.append(date_line)
        citations = [self._header_citation(document, lang, needles)] if sentences else []
        body = " ".join(f"{s} [1]" for s in sentences)
        for facet, read in (("implements", self._implements), ("opinion", self._opinion)):
            if facet in facets:
                found = read(document, lang, n=len(citations) + 1)
                if found:
                    sentence, citation = found
                    body += f" {sentence} [{citation.n}]"
                    citations.append(citation)
        if "effective" in facets and query.intent != "effective":
            stating = self._effect_clause(document)
            if stating is not None:
                citation = self.citation(len(citations) + 1, stating, lang)
                label = stating.label_en if lang == "en" else stating.label_vi
                text = self.passage(strip_marker(stating), None, ITEM_CHARS)
                body += (f" On entry into force, {label} reads: “{text}” [{citation.n}]" if lang == "en"
                         else f" Về hiệu lực, {label} quy định: “{text}” [{citation.n}]")
                citations.append(citation)
        body = f"{title}: {body.strip()}"
        if "date" in facets and document.identity.method == "inferred":
            body += (" (date taken from commentary evidence)" if lang == "en"
                     else " (ngày lấy từ bài bình luận)")
        return Answer(answer=body, language=lang, refused=False, intent=query.intent,
                      citations=citations, documents=[document.number])

    def _effect_clause(self, document: Document) -> Clause | None:
        """The clause that says when the document takes effect: the last that says the document
        itself does, else the last that mentions an entry into force."""
        body = [c for c in reversed(document.clauses) if c.path != "header"]
        return next((c for c in body if _OWN_EFFECT.search(c.text)), None) or \
            next((c for c in body if _EFFECT.search(c.text)), None)

    def _implements(self, document: Document, lang: str, n: int) -> tuple[str, Citation] | None:
        """The documents a directive says it implements or rests on: those its preamble (or,
        without one, its first citing clause) names, Party documents ("52-CT/TW") included."""
        refs = [r for r in document.references if r.citing_clause == "preamble"] or \
            document.references[:3]
        preamble = self.clauses.get(f"{document.number}#preamble")
        known = {r.number for r in refs}      # a store parsed before Party numbers were references
        party = [n for n in dict.fromkeys(party_number(m.group(0)) for m in PARTY_NUMBER_RE.finditer(preamble.text))
                 if n not in known] if preamble is not None else []
        clause = self.clauses.get(f"{document.number}#{refs[0].citing_clause}") if refs else (
            preamble if party else None)
        if clause is None:
            return None
        names = ", ".join(dict.fromkeys(
            [f"{(kind_en(r.kind) if lang == 'en' else r.kind) or ''} {r.number}".strip() for r in refs[:4]]
            + party[:3]))
        sentence = (f"It refers to {names}." if lang == "en" else f"Văn bản viện dẫn {names}.")
        return sentence, self.citation(n, clause, lang)

    def _opinion(self, document: Document, lang: str, n: int) -> tuple[str, Citation] | None:
        """Whose opinion a dispatch conveys ("…, Phó Thủ tướng Hồ Đức Phớc có ý kiến như sau:"),
        citing the clause that says so."""
        found = conveyed_opinion(document)
        if found is None:
            return None
        clause, who, span = found
        sentence = (f"It conveys the opinion of “{who}”." if lang == "en"
                    else f"Văn bản truyền đạt ý kiến của {who}.")
        return sentence, self.citation(n, clause, lang).model_copy(update={"quote": span})

    def _facet(self, document: Document, facet: str, lang: str) -> tuple[str, list[str]]:
        en = lang == "en"
        if facet == "signer" and document.signer:
            signer = document.signer
            if not signer.capacity:
                return (f"signed by {signer.name}." if en else f"do {signer.name} ký."), [signer.name]
            if en:
                return (f"signed by {signer.name}, {capacity_en(signer.capacity)} "
                        f"(“{signer.capacity}”).", [signer.name])
            return f"do {signer.capacity} {signer.name} ký.", [signer.name]
        if facet == "date" and document.issued:
            line = _date_line(document)
            written = f" (“{line}”)" if line else ""
            if en:
                return (f"issued on {format_date(document.issued, 'en')} "
                        f"({numeric_date(document.issued)}){written}.", [])
            return f"ban hành ngày {numeric_date(document.issued)}{written}.", []
        if facet == "issuer" and document.issuer:
            if en:
                return f"issued by “{document.issuer}”.", [document.issuer.split()[0]]
            return f"do {document.issuer} ban hành.", [document.issuer.split()[0]]
        if facet == "recipients" and document.recipients:
            items = "; ".join(f"“{r}”" if en else r for r in document.recipients)
            return ((f"addressed to: {items}." if en else f"gửi tới: {items}."),
                    [document.recipients[0]])
        if facet == "subject" and document.subject:
            return ((f"its subject is “{document.subject}”." if en
                     else f"về việc: {document.subject}."), [document.subject[:40]])
        return "", []

    def references_answer(self, query: Query, document: Document, question: str,
                          ranked: Ranked) -> Answer | None:
        """What a document implements or cites (None when it cites no numbered document). A
        question naming a kind ("which decree") or a topic gets the matching reference(s) only,
        ranked by where they are cited."""
        lang = query.language
        refs = list(document.references)
        relation = next((r for r in _RELATIONS if r.asked.search(question)), None)
        related = [r for r in refs if relation is not None and
                   _states_relation(self._citing_text(document, r), r, relation.stated)]
        if related:
            # "Which decisions does it replace?": the references its replacing clause names.
            refs = related
        wanted_kinds = kinds_asked(question)
        if wanted_kinds:
            refs = [r for r in refs if r.kind in wanted_kinds] or refs
        if not refs:
            return None
        order = {cid: i for i, (cid, _, _) in enumerate(ranked)}
        broad = asks_all_references(question)
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
        citations = [self.citation(i, c, lang) for i, c in enumerate(clauses, 1)]
        index = {c.path: cit.n for c, cit in zip(clauses, citations)}
        seen, lines = set(), []
        for ref in refs:
            if ref.number in seen:
                continue
            seen.add(ref.number)
            kind = kind_en(ref.kind) if lang == "en" else ref.kind
            if ref.issued and lang == "en":
                when = f" ({format_date(ref.issued, lang)}, {numeric_date(ref.issued)})"
            else:
                when = f" ngày {format_date(ref.issued, 'vi')}" if ref.issued else ""
            lines.append(f"- {kind or ''} {ref.number}{when} [{index[ref.citing_clause]}]")
        title = doc_title(document, lang)
        if related:
            lead = f"{title} {relation.en if lang == 'en' else relation.vi}:"
        elif lang == "en":
            lead = f"{title} refers to:" if not broad else f"{title} implements and cites:"
        else:
            lead = f"{title} viện dẫn:" if not broad else f"{title} thực hiện và viện dẫn các văn bản:"
        if not broad:
            # What the citing clause says beside the reference ("tạm ứng 50% theo Công văn …"):
            # the rest of a question that asks for more than the document's name.
            focus = self.focus(query, question)
            lines.append("")
            lines.extend(f"- {self._item_text(citation, clause, lang, focus)} [{citation.n}]"
                         for citation, clause in zip(citations, clauses))
        return Answer(answer=lead + "\n\n" + "\n".join(lines), language=lang, refused=False,
                      intent="references", citations=citations, documents=[document.number])

    def _citing_text(self, document: Document, reference) -> str:
        clause = self.clauses.get(f"{document.number}#{reference.citing_clause}")
        return clause.text if clause is not None else ""

    # ------------------------------------------------------------ refusals
    def refusal_within(self, query: Query, ranked: Ranked, unnamed: NamedFact | None = None) -> Answer:
        """The named document is stored but says nothing on the question: say so, naming it
        (and the benefit asked for that it never mentions, when that is why)."""
        lang = query.language
        titles = ", ".join(doc_title(self.documents[n], lang) for n in query.numbers)
        text = (f"{titles} không có nội dung trả lời câu hỏi này." if lang == "vi"
                else f"{titles} does not address this question.")
        if unnamed is not None:
            text += (f" Văn bản không quy định về \"{unnamed.asked}\": không có cụm \"{unnamed.qualifier}\"." if lang == "vi"
                     else f" It never mentions a {unnamed.asked} (its text has no \"{unnamed.qualifier}\").")
        return Answer(answer=text, language=lang, refused=True, intent=query.intent,
                      related=self._related(ranked[:3], lang, set()), documents=list(query.numbers))

    # ------------------------------------------------------------ which document
    def documents_answer(self, question: str, query: Query, ranked: Ranked,
                         scored: list[DocumentScore]) -> Answer:
        """'Which document …?': documents ranked by their clauses and their title (kind, number,
        issuer, subject) together (`rank_documents`); the best is named, close runners-up after it."""
        if not scored:
            return self.refusal(query, ranked)
        best = scored[0]
        chosen = [d.number for d in scored[:3] if d.score >= RUNNER_UP_SHARE * best.score
                  and d.evidence >= RUNNER_UP_SHARE * best.evidence]
        lang = query.language
        best_clause = {}
        for cid, _, _ in ranked:
            best_clause.setdefault(cid.split("#")[0], self.clauses[cid])
        clauses = [best_clause.get(n) or self.clauses.get(f"{n}#header") or self.documents[n].clauses[0]
                   for n in chosen]
        focus = self.focus(query, question)
        citations = [self.citation(i, c, lang, focus) for i, c in enumerate(clauses, 1)]
        lines = []
        for i, (number, citation) in enumerate(zip(chosen, citations)):
            document = self.documents[number]
            described = self._describe(document, lang)
            if i == 0:
                lines.append((f"The document that deals with this is {described} [{citation.n}]."
                              if lang == "en" else f"Văn bản quy định nội dung này là {described} [{citation.n}]."))
                if len(chosen) > 1:
                    lines.append("Also related:" if lang == "en" else "Văn bản liên quan khác:")
            else:
                lines.append(f"- {described} [{citation.n}]")
        return Answer(answer="\n".join(lines), language=lang, refused=False, intent="documents",
                      citations=citations, related=self._related(ranked, lang, {c.id for c in clauses}),
                      documents=chosen)

    def _describe(self, document: Document, lang: str) -> str:
        issuer = f" of “{document.issuer}”" if lang == "en" and document.issuer else (
            f" của {document.issuer}" if document.issuer else "")
        subject = f" — “{document.subject}”" if document.subject else ""
        return f"{doc_title(document, lang)}{issuer}{subject}"

    def rank_documents(self, question: str, query: Query, ranked: Ranked) -> list[DocumentScore]:
        """Reciprocal-rank fusion of two document rankings: by the best rank of a document's
        clauses in the clause ranking, and by how much of the question its title covers."""
        wanted_kinds = kinds_asked(question)
        # A Quyết định that promulgates a Quy chế or a Kế hoạch is that Quy chế, that Kế hoạch.
        candidates = [n for n, d in self.documents.items()
                      if not wanted_kinds or d.kind in wanted_kinds
                      or any(_promulgates(d, kind) for kind in wanted_kinds)] \
            or list(self.documents)
        if query.cited:
            # "Which dispatch implements Decision X?": the documents that cite X, if any do.
            cited = set(query.cited)
            candidates = [n for n in candidates if n not in cited] or candidates
            citing = [n for n in candidates if cited & {r.number for r in self.documents[n].references}]
            if not citing and not cited & set(self.documents):
                return []       # nothing ingested cites a document that is not ingested either
            candidates = citing or candidates
        by_clause: dict[str, int] = {}
        for rank, (cid, _, _) in enumerate(ranked):
            by_clause.setdefault(cid.split("#")[0], rank)
        q_tokens = self.snapshot.question_tokens(question, query.expanded)
        title_cover = {n: self.snapshot.coverage(q_tokens, self.snapshot.title_tokens.get(n, set()))
                       for n in candidates}
        by_title = {n: rank for rank, n in enumerate(sorted(candidates, key=lambda n: -title_cover[n]))
                    if title_cover[n] > 0}
        # Documents of the issuer the question names rank level with each other (one issuer
        # has many documents): a dense rank by how fully it is named.
        issuer = issuer_scores(query.expanded or question, self.documents, candidates,
                               named=issuer_named(question))
        levels = sorted(set(issuer.values()), reverse=True)
        by_issuer = {n: levels.index(share) for n, share in issuer.items()}
        scores = []
        for number in candidates:
            evidence = sum(1.0 / (DOCUMENT_RRF_K + ranking[number])
                           for ranking in (by_clause, by_title) if number in ranking)
            issued = 1.0 / (DOCUMENT_RRF_K + by_issuer[number]) if number in by_issuer else 0.0
            if evidence:
                scores.append(DocumentScore(number, evidence + issued, evidence))
        return sorted(scores, key=lambda d: -d.score)

    def refuse_uncited(self, query: Query, ranked: Ranked) -> Answer:
        """"Which dispatch implements X?" when X is not ingested and nothing ingested cites it."""
        names = ", ".join(query.cited)
        text = (f"Văn bản {names} không có trong kho văn bản, và không văn bản nào đã nạp viện dẫn văn bản này."
                if query.language == "vi" else
                f"Document {names} is not in the corpus, and no ingested document cites it.")
        return Answer(answer=text, language=query.language, refused=True, intent=query.intent,
                      related=self._related(ranked[:3], query.language, set()))

    def refusal(self, query: Query, ranked: Ranked) -> Answer:
        lang = query.language
        text = ("Không tìm thấy nội dung này trong các văn bản đã nạp." if lang == "vi"
                else "The ingested directives do not contain an answer to this question.")
        return Answer(answer=text, language=lang, refused=True, intent=query.intent,
                      related=self._related(ranked[:3], lang, set()))


def refuse_missing(query: Query, documents: dict[str, Document] | None = None) -> Answer:
    """The document named is not stored: say so, and name stored numbers close to it."""
    missing = ", ".join(query.missing)
    close = close_numbers(query.missing, documents or {})
    if query.language == "vi":
        text = f"Văn bản {missing} không có trong kho văn bản."
        if close:
            text += f" Các số hiệu gần giống đã có: {', '.join(close)}."
    else:
        text = f"Document {missing} is not in the corpus."
        if close:
            text += f" Close numbers that are: {', '.join(close)}."
    return Answer(answer=text, language=query.language, refused=True, intent=query.intent,
                  candidates=close)


def close_numbers(missing: list[str], documents: dict[str, Document], limit: int = 3) -> list[str]:
    """Stored numbers sharing the missing one's serial number, or its code after the serial."""
    found = []
    for wanted in missing:
        serial, _, code = wanted.partition("/")
        for number in documents:
            own_serial, _, own_code = number.partition("/")
            if number != wanted and (own_serial == serial or code and own_code.casefold() == code.casefold()):
                found.append(number)
    return list(dict.fromkeys(found))[:limit]


def _promulgates(document: Document, kind: str) -> bool:
    """"Ban hành Quy chế …", "Ban hành kèm theo … Kế hoạch": the document issues one of that kind."""
    return bool(re.search(rf"ban hành\s+(?:kèm theo\s+)?{re.escape(kind)}\b", document.subject or "", re.IGNORECASE))


def documents_agree(scored: list[DocumentScore] | None) -> bool:
    """'Which document …?' is supported when one document leads two of its rankings (by its
    clauses, by its title, by the issuer the question names; `rank_documents`): independent
    signals naming one document."""
    return bool(scored) and scored[0].score >= 2.0 / DOCUMENT_RRF_K - 1e-9


def _answering(clauses: list[Clause]) -> list[Clause]:
    """The clauses that can answer: the header answers header questions (elsewhere), and a
    heading with no text of its own ("Chương I. QUY ĐỊNH CHUNG") answers nothing."""
    return [c for c in clauses if c.path != "header" and _has_body(c) and not _is_heading(c)]


def _is_lead_in(clause: Clause) -> bool:
    """A clause whose own text only introduces its points ("Sở Tài chính có trách nhiệm:")."""
    text = strip_marker(clause)
    return bool(clause.children) and text.rstrip("*_ ").endswith(":") and len(text.split()) <= 30


def _is_heading(clause: Clause) -> bool:
    """A section title over its own items ("II. MỘT SỐ KIẾN NGHỊ CỦA TỈNH"): no answer itself."""
    text = strip_marker(clause).strip("*_ :")
    letters = [ch for ch in text if ch.isalpha()]
    return bool(clause.children) and len(text.split()) <= 15 and bool(letters) and \
        sum(ch.isupper() for ch in letters) >= 0.8 * len(letters)


def _has_body(clause: Clause) -> bool:
    """More than a heading: at least a few words besides its marker and title line."""
    return len(strip_marker(clause).split()) > 4 or not clause.children


# "…, Phó Thủ tướng Chính phủ Hồ Đức Phớc có ý kiến như sau:": the opinion a dispatch conveys
# is announced by whoever holds it, the phrase back to the previous punctuation; English
# versions say "… has the following opinions:". Failing that, "ý kiến chỉ đạo của <title> <Name>".
_GIVES_OPINION = re.compile(r"([^,.;:|]{3,120}?)\s+(?:đã\s+)?có\s+ý\s+kiến(?:\s+chỉ\s+đạo|\s+kết\s+luận)?"
                            r"(?:\s+như\s+sau|\s+sau\s+đây)?\s*:|([^,.;:|]{3,120}?)\s+(?:has|had|gave|gives|"
                            r"expressed)\s+(?:the\s+following\s+)?(?:opinions?|instructions?|directions?|"
                            r"conclusions?)(?:\s+as\s+follows)?\s*:")
_OPINION_OF = re.compile(r"ý\s+kiến\s+(?:chỉ\s+đạo\s+|kết\s+luận\s+)?của\s+((?:Phó\s+)?Thủ\s+tướng(?:\s+Chính\s+phủ)?|"
                         r"(?:Phó\s+)?Chủ\s+tịch[^,.;:]{0,40}?|Bộ\s+trưởng[^,.;:]{0,40}?)\s+"
                         r"((?:[A-ZĐ][\wÀ-ỹ]*\s+){1,3}[A-ZĐ][\wÀ-ỹ]*)")


# What a question asks a document does to the ones it cites, and how a clause says it does.
_REPLACES = re.compile(r"thay thế|replac|supersed", re.IGNORECASE)
_REPEALS = re.compile(r"bãi bỏ|hủy bỏ|hết hiệu lực|repeal|annul|abolish|revok|ceases? to (?:be )?effect",
                      re.IGNORECASE)
_AMENDS = re.compile(r"sửa đổi|bổ sung|amend", re.IGNORECASE)


@dataclass(frozen=True)
class _Relation:
    asked: re.Pattern[str]        # in the question
    stated: re.Pattern[str]       # in the citing sentence, before the reference
    en: str
    vi: str


_RELATIONS = [_Relation(_REPLACES, _REPLACES, "replaces", "thay thế"),
              _Relation(_REPEALS, _REPEALS, "repeals", "bãi bỏ"),
              _Relation(_AMENDS, _AMENDS, "amends", "sửa đổi, bổ sung")]


def _states_relation(text: str, reference, relation: re.Pattern[str]) -> bool:
    """Does the sentence citing the reference say, before naming it, that the document does
    this to it ("… thay thế … tại các Quyết định: Số 2196/QĐ-UBND")? A preamble's "Căn cứ Quyết
    định 108/… công bố thủ tục … thay thế" names the relation after it: that one is cited, not replaced."""
    mentioned = text.find(reference.mention) if reference.mention else -1
    # The number itself (a mention keeps a few characters before it, cut mid-word).
    at = text.find(reference.number.split("/")[0] + "/", max(mentioned, 0))
    if at < 0:
        return False
    start = max(text.rfind(stop, 0, at) for stop in (".", ";", "\n")) + 1
    return bool(relation.search(text[start:at]))


def conveyed_opinion(document: Document) -> tuple[Clause, str, str] | None:
    """(the clause, who, the verbatim words saying so) for the first clause announcing whose
    opinion the document sets out."""
    body = [c for c in document.clauses if c.path != "header"]
    for pattern in (_GIVES_OPINION, _OPINION_OF):
        for clause in body:
            found = pattern.search(clause.text)
            if found:
                who = " ".join(" ".join(g.split()) for g in found.groups() if g)
                return clause, who, clause.text[found.start():found.end()].strip()
    return None


def asked_facets(question: str) -> list[str]:
    """Header facts a question asks for, in the order of the intents table."""
    from service.qa.understand import FACETS

    asked = [name for name, pattern in FACETS if re.search(pattern, question, re.IGNORECASE)]
    if "effective" in asked and not re.search(r"ban hành|issued|dated|ký ngày|signed on", question,
                                              re.IGNORECASE):
        asked = [name for name in asked if name != "date"]   # "when does it take effect?"
    return asked


_DATE_LINE = re.compile(r"ngày\s+\d{1,2}\s+tháng\s+\d{1,2}\s+năm\s+\d{4}|"
                        rf"\b({'|'.join(m.capitalize() for m in MONTHS_EN)})\s+\d{{1,2}},\s+\d{{4}}")


def _date_line(document: Document) -> str:
    """The header line that dates the document ("Hà Nội, ngày 25 tháng 10 năm 2023"), verbatim."""
    header = document.source.repaired_text[:3000]
    for line in header.split("\n"):
        found = _DATE_LINE.search(line)
        if found:
            # A site's header table puts the whole header on one line: the date's own cell.
            start = line.rfind("|", 0, found.start()) + 1
            end = line.find("|", found.end())
            return " ".join(line[start:end if end >= 0 else None].split())[:120]
    return ""


def ambiguous(query: Query) -> Answer:
    options = ", ".join(query.candidates)
    text = (f"Số hiệu này khớp với nhiều văn bản: {options}. Vui lòng ghi rõ số hiệu đầy đủ."
            if query.language == "vi" else
            f"That number matches several documents: {options}. Please give the full number.")
    return Answer(answer=text, language=query.language, refused=True, intent=query.intent,
                  candidates=query.candidates)
