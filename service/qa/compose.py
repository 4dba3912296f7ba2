"""The grounded composer: an answer built only from retrieved clauses and parsed metadata.

Every citation is a retrieved clause (or the document's own header) with a verbatim quote;
the text never names a source that is not in `citations`. The optional LLM composer
(`service.llm`) rewrites this answer and is verified against it.
"""
from __future__ import annotations

from ingest.commentary import english_rendering
from service.store import ClauseStore
from ingest.model import Citation, Clause, Document
from ingest.parse import kind_en
from service.qa.render import (
    actor_en, addressed_actors, capacity_en, clause_label, doc_title, english_gist, find_line,
    format_date, numeric_date, one_line, strip_marker, verbatim_quote,
)
from service.qa.retrieve import IndexSnapshot, Ranked
from service.qa.support import is_supported
from service.qa.understand import (
    Query, asks_all_duties, asks_all_references, asks_date, asks_signer, kinds_asked,
)
from service.schemas import Answer, Related

# "Which documents deal with X": other documents are listed when their best clause scores
# at least this share of the top one.
DOCUMENTS_RELATIVE_SCORE = 0.9
_METADATA_INTENTS = ("signer", "date", "subject", "recipients")


class GroundedComposer:
    def __init__(self, snapshot: IndexSnapshot, store: ClauseStore):
        self.snapshot = snapshot
        self.store = store

    @property
    def documents(self) -> dict[str, Document]:
        return self.snapshot.documents

    @property
    def clauses(self) -> dict[str, Clause]:
        return self.snapshot.clauses

    def compose(self, question: str, query: Query, ranked: Ranked) -> Answer:
        if not is_supported(query, ranked):
            return self.refusal(query, ranked)
        docs = query.numbers or [ranked[0][0].split("#")[0]]
        if query.intent in _METADATA_INTENTS and query.numbers:
            if query.intent == "date" and asks_signer(question):
                query.intent = "signer"
            return self.metadata_answer(query, self.documents[docs[0]], question)
        if query.intent == "references" and query.numbers and not query.referenced:
            return self.references_answer(query, self.documents[docs[0]], question, ranked)
        chosen = self.select_clauses(query, ranked)
        if not chosen:
            return self.refusal(query, ranked)
        lang = query.language
        if query.intent == "documents" and not query.numbers:
            lead = ("Các văn bản có nội dung liên quan:" if lang == "vi"
                    else "Documents in the corpus that deal with this:")
        elif query.intent == "deadline":
            lead = self._deadline_lead(chosen, lang)
        elif query.intent == "who":
            lead = self._who_lead(chosen, lang)
        else:
            lead = self._obligation_lead(query, chosen, lang)
        return self._answer_from(query, lead, chosen, ranked)

    # ------------------------------------------------------------ which clauses
    def select_clauses(self, query: Query, ranked: Ranked) -> list[Clause]:
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
            with_deadline = [c for c in ranked_clauses if c.deadlines]
            if not with_deadline and query.numbers:
                with_deadline = [c for n in query.numbers for c in self.documents[n].clauses
                                 if c.deadlines]
            if with_deadline:
                return with_deadline[:1]
        actors = query.actors or query.context_actors
        if actors and query.numbers and query.intent in ("obligations", "topic", "who"):
            picked = []
            for number in query.numbers:
                for clause in self.documents[number].clauses:
                    if clause.path in ("preamble", "closing") or clause.parent:
                        continue
                    if set(actors) & set(addressed_actors(clause)):
                        picked.append(clause)
                        picked.extend(self._children(clause))
            if picked and query.intent != "who" and asks_all_duties(query):
                return picked
            if picked and query.intent == "who":
                return picked[:1]
        if query.intent == "who":
            with_actor = [c for c in ranked_clauses
                          if addressed_actors(c) and c.path not in ("preamble", "closing")]
            if with_actor:
                return with_actor[:1]
        if query.intent == "documents" and not query.numbers:
            best: dict[str, Clause] = {}
            top_score = ranked[0][1] if ranked else 0.0
            for (_, score, _), clause in zip(ranked, ranked_clauses):
                if clause.doc not in best and score >= DOCUMENTS_RELATIVE_SCORE * top_score:
                    best[clause.doc] = clause
            return list(best.values())[:3]
        if not ranked_clauses:
            return []
        top = ranked_clauses[0]
        if top.children and not asks_all_duties(query):
            # A lead-in ranked first for a specific question: its best-ranked point is the answer.
            child = next((c for c in ranked_clauses[:6] if c.parent == top.path and c.doc == top.doc), None)
            if child:
                top = child
        # A point reads wrong without its parent's lead-in; a lead-in is incomplete without its points.
        if top.parent and top.path not in ("preamble", "closing"):
            parent = self.clauses.get(f"{top.doc}#{top.parent}")
            return [parent, top] if parent else [top]
        if top.children and asks_all_duties(query):
            return [top] + self._children(top)
        return [top]

    def _children(self, clause: Clause) -> list[Clause]:
        return [self.clauses[f"{clause.doc}#{c}"] for c in clause.children]

    # ------------------------------------------------------------ citations and items
    def citation(self, n: int, clause: Clause, lang: str) -> Citation:
        document = self.documents[clause.doc]
        translation, source = None, None
        if lang == "en":
            for commentary in self.snapshot.commentaries:
                rendering = english_rendering(commentary.alignments, clause.id)
                if rendering:
                    translation, source = rendering, "commentary"
                    break
            if translation is None:
                cached = self.store.translation(clause.id, clause.text)
                if cached:
                    translation, source = cached, "machine"
        return Citation(n=n, id=clause.id, doc=clause.doc, path=clause.path,
                        label=clause_label(clause, lang), quote=verbatim_quote(clause.text),
                        issued=document.issued, kind=document.kind, translation=translation,
                        translation_source=source)

    def _item_text(self, citation: Citation, clause: Clause, lang: str) -> str:
        if lang == "en":
            label = clause.label_en[0].upper() + clause.label_en[1:]
            if citation.translation:
                marker = " _(machine translation)_" if citation.translation_source == "machine" else ""
                return f"**{label}** ({clause.doc}): {one_line(citation.translation, 600)}{marker}"
            return f"**{label}** ({clause.doc}): {english_gist(clause)} The Vietnamese text is quoted in the citation."
        label = clause.label_vi[0].upper() + clause.label_vi[1:]
        return f"**{label}** ({clause.doc}): {one_line(strip_marker(clause), 500)}"

    def _related(self, ranked: Ranked, lang: str, exclude: set[str], limit: int = 3) -> list[Related]:
        return [Related(id=cid, label=clause_label(self.clauses[cid], lang),
                        quote=verbatim_quote(self.clauses[cid].text, 200))
                for cid, _, _ in ranked if cid not in exclude and cid in self.clauses][:limit]

    def _answer_from(self, query: Query, lead: str, clauses: list[Clause], ranked: Ranked) -> Answer:
        lang = query.language
        clauses = list({c.id: c for c in clauses}.values())
        citations = [self.citation(i, c, lang) for i, c in enumerate(clauses, 1)]
        lines = [lead, ""]
        for citation, clause in zip(citations, clauses):
            lines.append(f"- {self._item_text(citation, clause, lang)} [{citation.n}]")
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
    def _header_citation(self, document: Document, lang: str, quote: str, label_vi: str,
                         label_en: str) -> Citation:
        return Citation(n=1, id=document.number, doc=document.number, path="",
                        label=label_en if lang == "en" else label_vi, quote=quote,
                        issued=document.issued, kind=document.kind)

    def metadata_answer(self, query: Query, document: Document, question: str = "") -> Answer:
        lang = query.language
        text = document.source.repaired_text
        title = doc_title(document, lang)
        if query.intent == "signer" and document.signer:
            quote = find_line(text, document.signer.name)
            if lang == "en":
                body = (f"{title} was signed by {document.signer.name}, "
                        f"{capacity_en(document.signer.capacity)} (“{document.signer.capacity}”) [1].")
                if asks_date(question):
                    body += f" It is dated {format_date(document.issued, 'en')} [1]."
            else:
                body = f"{title} do {document.signer.capacity} {document.signer.name} ký [1]."
            citation = self._header_citation(document, lang, quote, "khối chữ ký", "signature block")
        elif query.intent == "recipients" and document.recipients:
            quote = find_line(text, document.recipients[0])
            items = "\n".join(f"- {r} [1]" for r in document.recipients)
            body = (f"{title} is addressed to:\n{items}" if lang == "en"
                    else f"{title} được gửi tới:\n{items}")
            citation = self._header_citation(document, lang, quote, "phần Kính gửi", "addressees")
        elif query.intent == "subject" and document.subject:
            quote = find_line(text, document.subject[:40])
            body = (f"The subject of {title} is: “{document.subject}” [1]." if lang == "en"
                    else f"{title} về việc: {document.subject} [1].")
            citation = self._header_citation(document, lang, quote, "trích yếu", "subject line")
        else:
            if document.identity.method == "header" and document.issued:
                quote = find_line(text, "ngày")
            else:
                quote = "; ".join(document.identity.signals)
            body = (f"{title} was issued on {format_date(document.issued, 'en')} [1]." if lang == "en"
                    else f"{title} được ban hành ngày {format_date(document.issued, 'vi')} [1].")
            if document.identity.method == "inferred":
                body += (" (date taken from commentary evidence)" if lang == "en"
                         else " (ngày lấy từ bài bình luận)")
            citation = self._header_citation(document, lang, quote, "phần đầu văn bản", "header")
        return Answer(answer=body, language=lang, refused=False, intent=query.intent,
                      citations=[citation], documents=[document.number])

    def references_answer(self, query: Query, document: Document, question: str,
                          ranked: Ranked) -> Answer:
        """What a document implements or cites. A question naming a kind ("which decree") or a
        topic gets the matching reference(s) only, ranked by where they are cited."""
        lang = query.language
        refs = list(document.references)
        wanted_kinds = kinds_asked(question)
        if wanted_kinds:
            refs = [r for r in refs if r.kind in wanted_kinds] or refs
        if not refs:
            return self.refusal(query, ranked)
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
        if lang == "en":
            lead = f"{title} refers to:" if not broad else f"{title} implements and cites:"
        else:
            lead = f"{title} viện dẫn:" if not broad else f"{title} thực hiện và viện dẫn các văn bản:"
        return Answer(answer=lead + "\n\n" + "\n".join(lines), language=lang, refused=False,
                      intent="references", citations=citations, documents=[document.number])

    # ------------------------------------------------------------ refusals
    def refusal(self, query: Query, ranked: Ranked) -> Answer:
        lang = query.language
        text = ("Không tìm thấy nội dung này trong các văn bản đã nạp." if lang == "vi"
                else "The ingested directives do not contain an answer to this question.")
        return Answer(answer=text, language=lang, refused=True, intent=query.intent,
                      related=self._related(ranked[:3], lang, set()))


def refuse_missing(query: Query) -> Answer:
    missing = ", ".join(query.missing)
    text = (f"Văn bản {missing} không có trong kho văn bản." if query.language == "vi"
            else f"Document {missing} is not in the corpus.")
    return Answer(answer=text, language=query.language, refused=True, intent=query.intent)


def ambiguous(query: Query) -> Answer:
    options = ", ".join(query.candidates)
    text = (f"Số hiệu này khớp với nhiều văn bản: {options}. Vui lòng ghi rõ số hiệu đầy đủ."
            if query.language == "vi" else
            f"That number matches several documents: {options}. Please give the full number.")
    return Answer(answer=text, language=query.language, refused=True, intent=query.intent,
                  candidates=query.candidates)
