"""LLM backends behind one small interface: llama.cpp GGUF (llama-index `LlamaCPP`) and any
OpenAI-compatible endpoint (llama-index `OpenAILike`).

Both are built from `service.settings.Settings`, the one configuration. Neither llama-cpp-python
nor llama-index-llms-llama-cpp is imported until a llama.cpp backend is built, so the package
imports on an install without `make llm`. Everything an LLM writes goes through
`service.llm.verify` before a user sees it.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.llms import LLM
from pydantic import BaseModel

from service.settings import Settings

CHATML_STOP = ["<|im_end|>", "<|im_start|>", "<|endoftext|>"]

# llama.cpp's Llama object is not reentrant; one generation at a time per process.
_LLAMA_LOCK = threading.Lock()


class LLMSettings(BaseModel):
    """What the backends read from `Settings`, under their own names.

    The user-facing values (backend, model, endpoint) have no defaults here: they come from
    `Settings` (`from_settings`). The rest are tuning constants of the backends, not settings.
    """

    backend: Literal["none", "llamacpp", "openai"]
    model_path: Path | None = None
    api_base: str | None = None
    api_model: str | None = None
    api_key: str | None = None
    # llama.cpp tuning: small models loop without a repeat penalty.
    n_ctx: int = 4096
    n_threads: int = 2
    repeat_penalty: float = 1.2
    temperature: float = 0.0
    max_new_tokens: int = 384
    # OpenAI-compatible tuning
    context_window: int = 8192
    timeout_s: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "LLMSettings":
        return cls(backend=settings.llm, model_path=settings.llm_model_path,
                   api_base=settings.llm_api_base, api_model=settings.llm_api_model,
                   api_key=settings.llm_api_key)


# ---------------------------------------------------------------- ChatML

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


# ---------------------------------------------------------------- building

def build_llamacpp(settings: LLMSettings) -> LLM:
    model_path = Path(settings.model_path) if settings.model_path else None
    # LlamaCPP downloads a default model from a hub when model_path is None; never let it.
    if model_path is None or not model_path.is_file():
        raise FileNotFoundError(
            f"GGUF model not found at {model_path}; run `make llm` "
            "(or `python -m service.llm.setup --model qwen0.5b --dest models/`)")
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as error:
        raise ImportError("DQA_LLM=llamacpp needs llama-cpp-python and "
                          "llama-index-llms-llama-cpp: run `make llm`") from error
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
        raise ValueError("backend 'openai' needs DQA_LLM_API_BASE and DQA_LLM_API_MODEL")
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


def build_llm(settings: Settings | LLMSettings) -> LLM | None:
    """The configured LLM, or None for DQA_LLM=none."""
    cfg = settings if isinstance(settings, LLMSettings) else LLMSettings.from_settings(settings)
    if cfg.backend == "none":
        return None
    if cfg.backend == "llamacpp":
        return build_llamacpp(cfg)
    if cfg.backend == "openai":
        return build_openai_like(cfg)
    raise ValueError(f"unknown LLM backend {cfg.backend!r}")


def is_llamacpp(llm: Any) -> bool:
    return type(llm).__name__ == "LlamaCPP"


def _is_openai_like(llm: Any) -> bool:
    return "additional_kwargs" in getattr(type(llm), "model_fields", {}) and not is_llamacpp(llm)


# ---------------------------------------------------------------- per-call variants

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


def with_json_schema(llm: LLM, schema: dict[str, Any], name: str = "answer") -> LLM:
    """A shallow copy of `llm` that can only emit JSON matching `schema`.

    llama.cpp: a GBNF grammar compiled from the schema constrains decoding token by token.
    OpenAI-compatible servers (llama.cpp server, vLLM, Ollama): `response_format` json_schema.
    Any other LLM is returned as is; its output is parsed and verified all the same.
    """
    if is_llamacpp(llm):
        from llama_cpp import LlamaGrammar

        grammar = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        return llm.model_copy(update={"generate_kwargs": {**llm.generate_kwargs, "grammar": grammar}})
    if _is_openai_like(llm):
        response_format = {"type": "json_schema",
                           "json_schema": {"name": name, "schema": schema, "strict": True}}
        return llm.model_copy(update={"additional_kwargs": {
            **(llm.additional_kwargs or {}), "response_format": response_format}})
    return llm


# ---------------------------------------------------------------- calling

class _NullLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _lock_for(llm: LLM):
    return _LLAMA_LOCK if is_llamacpp(llm) else _NullLock()


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
