"""Optional LLM backends for the answer path, behind one small interface.

Everything the LLM writes goes through `service.verify` before a user sees it;
when no backend is configured (`backend="none"`) the grounded composer answers.
"""
from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms import LLM
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
DEFAULT_MODEL_PATH = "models/qwen0.5b.gguf"
CHATML_STOP = ["<|im_end|>", "<|im_start|>", "<|endoftext|>"]

# llama.cpp's Llama object is not reentrant; one generation at a time per process.
_LLAMA_LOCK = threading.Lock()


class LLMSettings(BaseModel):
    # Aliases accept service.settings.Settings (llm, llm_model_path, ...) as is.
    model_config = ConfigDict(extra="ignore", from_attributes=True, populate_by_name=True)

    backend: Literal["none", "llamacpp", "openai"] = Field(
        "none", validation_alias=AliasChoices("backend", "llm"))
    # llamacpp
    model_path: Path = Field(Path(DEFAULT_MODEL_PATH),
                             validation_alias=AliasChoices("model_path", "llm_model_path"))
    n_ctx: int = 2048
    n_threads: int = 2
    repeat_penalty: float = 1.2
    # shared
    temperature: float = 0.0
    max_new_tokens: int = 384
    # openai-compatible
    api_base: str | None = Field(None, validation_alias=AliasChoices("api_base", "llm_api_base"))
    api_model: str | None = Field(None, validation_alias=AliasChoices("api_model", "llm_api_model"))
    api_key: str | None = Field(None, validation_alias=AliasChoices("api_key", "llm_api_key"))
    context_window: int = 8192
    timeout_s: float = 60.0

    @classmethod
    def from_env(cls, **overrides: Any) -> "LLMSettings":
        env = {
            "backend": os.environ.get("DQA_LLM") or os.environ.get("DQA_LLM_BACKEND"),
            "model_path": os.environ.get("DQA_LLM_MODEL_PATH"),
            "api_base": os.environ.get("DQA_LLM_API_BASE"),
            "api_model": os.environ.get("DQA_LLM_API_MODEL"),
            "api_key": os.environ.get("DQA_LLM_API_KEY"),
        }
        values = {k: v for k, v in env.items() if v}
        values.update(overrides)
        return cls(**values)


# ---------------------------------------------------------------- ChatML

_SPECIAL_TOKEN = re.compile(r"<\|[^|<>]{1,40}\|>")


def sanitize_untrusted(text: str) -> str:
    """Remove chat-control tokens so clause/question text cannot open a new turn."""
    return _SPECIAL_TOKEN.sub("", text)


def messages_to_chatml(messages: Sequence[ChatMessage]) -> str:
    parts = []
    for message in messages:
        role = message.role.value if isinstance(message.role, MessageRole) else str(message.role)
        parts.append(f"<|im_start|>{role}\n{message.content or ''}<|im_end|>\n")
    parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def completion_to_chatml(completion: str, system_prompt: str | None = None) -> str:
    messages = []
    if system_prompt:
        messages.append(ChatMessage(role=MessageRole.SYSTEM, content=system_prompt))
    messages.append(ChatMessage(role=MessageRole.USER, content=completion))
    return messages_to_chatml(messages)


# ---------------------------------------------------------------- backends

def _coerce_settings(settings: LLMSettings | Mapping[str, Any] | Any) -> LLMSettings:
    if isinstance(settings, LLMSettings):
        return settings
    if isinstance(settings, Mapping):
        return LLMSettings.model_validate(dict(settings))
    return LLMSettings.model_validate(settings, from_attributes=True)


def build_llamacpp(settings: LLMSettings) -> LLM:
    from llama_index.llms.llama_cpp import LlamaCPP

    model_path = Path(settings.model_path)
    # LlamaCPP downloads a default model from a hub when model_path is None; never let it.
    if not model_path.is_file():
        raise FileNotFoundError(
            f"GGUF model not found at {model_path}; run "
            "`python -m service.llm_setup --model qwen0.5b --dest models/`"
        )
    return LlamaCPP(
        model_path=str(model_path),
        temperature=settings.temperature,
        max_new_tokens=settings.max_new_tokens,
        context_window=settings.n_ctx,
        generate_kwargs={
            "repeat_penalty": settings.repeat_penalty,
            "top_k": 40,
            "top_p": 0.95,
            "stop": list(CHATML_STOP),
        },
        model_kwargs={"n_threads": settings.n_threads, "n_gpu_layers": 0, "seed": 0},
        messages_to_prompt=messages_to_chatml,
        completion_to_prompt=completion_to_chatml,
        verbose=False,
    )


def build_openai_like(settings: LLMSettings) -> LLM:
    from llama_index.llms.openai_like import OpenAILike

    if not settings.api_base or not settings.api_model:
        raise ValueError("backend 'openai' needs api_base and api_model")
    return OpenAILike(
        model=settings.api_model,
        api_base=settings.api_base,
        api_key=settings.api_key or "not-needed",   # local servers ignore it
        is_chat_model=True,
        is_function_calling_model=False,
        context_window=settings.context_window,
        max_tokens=settings.max_new_tokens,
        temperature=settings.temperature,
        timeout=settings.timeout_s,
        max_retries=1,
    )


def build_llm(settings: LLMSettings | Mapping[str, Any] | Any) -> LLM | None:
    """Return the configured LLM, or None for backend "none"."""
    cfg = _coerce_settings(settings)
    if cfg.backend == "none":
        return None
    if cfg.backend == "llamacpp":
        return build_llamacpp(cfg)
    if cfg.backend == "openai":
        return build_openai_like(cfg)
    raise ValueError(f"unknown LLM backend {cfg.backend!r}")


def is_llamacpp(llm: LLM) -> bool:
    return type(llm).__name__ == "LlamaCPP"


def with_max_tokens(llm: LLM, max_tokens: int | None) -> LLM:
    """A shallow copy of `llm` whose output is capped at `max_tokens`.

    Both adapters ignore a per-call max_tokens (LlamaCPP drops call kwargs,
    OpenAI lets its field win), so the cap must live on the instance; a copy
    keeps concurrent callers from seeing each other's caps.
    """
    if max_tokens is None:
        return llm
    if is_llamacpp(llm):
        kwargs = {**llm.generate_kwargs, "max_tokens": max_tokens}
        return llm.model_copy(update={"generate_kwargs": kwargs, "max_new_tokens": max_tokens})
    if "max_tokens" in getattr(type(llm), "model_fields", {}):
        return llm.model_copy(update={"max_tokens": max_tokens})
    return llm


# ---------------------------------------------------------------- prompts

_SECTION = re.compile(r"^### (system|user)\s*$", re.MULTILINE)


@lru_cache(maxsize=None)
def load_prompt(name: str) -> tuple[str, str]:
    """(system_template, user_template) from prompts/<name>.txt (`### system` / `### user`)."""
    raw = (PROMPTS_DIR / f"{name}.txt").read_text(encoding="utf-8")
    chunks = _SECTION.split(raw)
    sections = {chunks[i]: chunks[i + 1].strip() for i in range(1, len(chunks) - 1, 2)}
    return sections.get("system", ""), sections["user"]


def prompt_messages(name: str, **values: str) -> list[ChatMessage]:
    system, user = load_prompt(name)
    clean = {k: sanitize_untrusted(str(v)) for k, v in values.items()}
    messages = []
    if system:
        messages.append(ChatMessage(role=MessageRole.SYSTEM, content=system.format(**clean)))
    messages.append(ChatMessage(role=MessageRole.USER, content=user.format(**clean)))
    return messages


_VI_CHARS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def detect_language(text: str) -> Literal["vi", "en"]:
    return "vi" if _VI_CHARS.search(text) else "en"


def format_numbered_clauses(citations: Sequence[Any], clause_texts: Mapping[int, str]) -> str:
    """'[1] 3476/BHXH-TCCB khoản 2 điểm a: <text>' lines, one per citation."""
    lines = []
    for c in citations:
        text = " ".join(clause_texts.get(c.n, c.quote).split())
        lines.append(f"[{c.n}] {c.doc} {c.label}: {text}")
    return "\n".join(lines)


def answer_messages(
    question: str, citations: Sequence[Any], clause_texts: Mapping[int, str],
    language: str | None = None,
) -> list[ChatMessage]:
    lang = language or detect_language(question)
    return prompt_messages(
        f"answer_{lang}", question=question,
        clauses=format_numbered_clauses(citations, clause_texts),
    )


# ---------------------------------------------------------------- calling

def _lock_for(llm: LLM):
    return _LLAMA_LOCK if is_llamacpp(llm) else _NullLock()


class _NullLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def generate(llm: LLM, messages: Sequence[ChatMessage], max_tokens: int | None = None) -> str:
    capped = with_max_tokens(llm, max_tokens)
    with _lock_for(llm):
        response = capped.chat(list(messages))
    return (response.message.content or "").strip()


def stream_tokens(
    llm: LLM, messages: Sequence[ChatMessage], max_tokens: int | None = None
) -> Iterator[str]:
    """Yield text deltas as the model produces them."""
    capped = with_max_tokens(llm, max_tokens)
    with _lock_for(llm):
        for chunk in capped.stream_chat(list(messages)):
            if chunk.delta:
                yield chunk.delta


class Throughput(BaseModel):
    n_tokens: int
    seconds: float
    first_token_s: float | None
    tokens_per_s: float
    text: str


def measure_throughput(
    llm: LLM, messages: Sequence[ChatMessage] | None = None, max_tokens: int = 64
) -> Throughput:
    """Generation speed, counting streamed deltas (one per token for llama.cpp)."""
    if messages is None:
        messages = [ChatMessage(role=MessageRole.USER,
                                content="Write a short paragraph about administrative inspections.")]
    start = time.perf_counter()
    first = None
    n = 0
    pieces = []
    for delta in stream_tokens(llm, messages, max_tokens=max_tokens):
        if first is None:
            first = time.perf_counter() - start
        n += 1
        pieces.append(delta)
    total = time.perf_counter() - start
    # Exclude prompt processing (time to first token) so the figure is decode speed.
    decode_s = total - (first or 0.0)
    rate = (n - 1) / decode_s if n > 1 and decode_s > 0 else 0.0
    return Throughput(n_tokens=n, seconds=round(total, 3),
                      first_token_s=None if first is None else round(first, 3),
                      tokens_per_s=round(rate, 2), text="".join(pieces))
