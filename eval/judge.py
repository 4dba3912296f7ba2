"""Optional, model-judged support score: does each cited clause support the sentence citing it?

Only run when an LLM is configured (`dqa eval --judge`). It is labelled as model-judged and
kept out of the headline metrics and the gate: a small local model is a noisy judge.
"""
from __future__ import annotations

import re

from eval.harness import Report

MAX_SENTENCES = 60


def judge_support(report: Report, llm, clause_texts: dict[str, str]) -> dict:
    """Share of (sentence, cited clause) pairs the model says are supported."""
    from service.llm import generate, prompt_messages

    checked = supported = 0
    examples = []
    for run in report.primary.questions:
        answer = run.answer
        if answer.refused or not answer.citations:
            continue
        by_marker = {c.n: c for c in answer.citations}
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", answer.answer):
            markers = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
            for n in markers[:1]:
                citation = by_marker.get(n)
                if citation is None or checked >= MAX_SENTENCES:
                    continue
                clause = clause_texts.get(citation.id, citation.quote)[:900]
                verdict = generate(llm, prompt_messages(
                    "judge_support", n=str(n), clause=clause,
                    sentence=re.sub(r"\[\d+\]", "", sentence)[:500]), max_tokens=3)
                yes = verdict.strip().lower().startswith(("yes", "có"))
                checked += 1
                supported += yes
                if len(examples) < 10:
                    examples.append({"question": run.record.id, "sentence": sentence[:200],
                                     "clause": citation.id, "judged_supported": yes})
    return {"label": "model-judged (not a headline metric)", "pairs_checked": checked,
            "support_rate": round(supported / checked, 3) if checked else None,
            "examples": examples}
