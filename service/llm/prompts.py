"""Prompt templates: the files of the top-level `prompts` package (package data, so an
installed wheel finds them), each split into `### system` and `### user` sections."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib.resources import files
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole

_SECTION = re.compile(r"^### (system|user)\s*$", re.MULTILINE)
_SPECIAL_TOKEN = re.compile(r"<\|[^|<>]{1,40}\|>")


def sanitize_untrusted(text: str) -> str:
    """Remove chat-control tokens so clause/question text cannot open a new turn."""
    return _SPECIAL_TOKEN.sub("", text)


@lru_cache(maxsize=None)
def load_prompt(name: str) -> tuple[str, str]:
    """(system_template, user_template) from prompts/<name>.txt."""
    raw = files("prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    chunks = _SECTION.split(raw)
    sections = {chunks[i]: chunks[i + 1].strip() for i in range(1, len(chunks) - 1, 2)}
    return sections.get("system", ""), sections["user"]


def prompt_messages(name: str, **values: Any) -> list[ChatMessage]:
    system, user = load_prompt(name)
    clean = {k: sanitize_untrusted(str(v)) for k, v in values.items()}
    messages = []
    if system:
        messages.append(ChatMessage(role=MessageRole.SYSTEM, content=system.format(**clean)))
    messages.append(ChatMessage(role=MessageRole.USER, content=user.format(**clean)))
    return messages


def format_numbered_clauses(citations: Sequence[Any], clause_texts: Mapping[int, str]) -> str:
    """'[1] 3476/BHXH-TCCB khoản 2 điểm a: <text>' lines, one per citation."""
    lines = []
    for c in citations:
        text = " ".join(clause_texts.get(c.n, c.quote).split())
        lines.append(f"[{c.n}] {c.doc} {c.label}: {text}")
    return "\n".join(lines)


def answer_messages(
    question: str, citations: Sequence[Any], clause_texts: Mapping[int, str], language: str,
) -> list[ChatMessage]:
    """The answer prompt in `language` ('vi' or 'en'): one JSON statement per numbered clause."""
    example = ", ".join(f'"{c.n}": "..."' for c in citations)
    return prompt_messages(
        f"answer_{language}", question=question, example="{" + example + "}",
        clauses=format_numbered_clauses(citations, clause_texts),
    )
