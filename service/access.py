"""API keys (stored as sha256 hashes), write protection and per-key/IP rate limiting.

Rate limits use the `limits` library (moving window, in-memory storage whose entries expire
with their window, so memory stays bounded however many clients come and go).
"""
from __future__ import annotations

import hashlib
import hmac
import math
import time

from fastapi import Request
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from service.settings import Settings


class Unauthorized(Exception):
    pass


class Forbidden(Exception):
    pass


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"rate limit exceeded; retry after {retry_after} s")
        self.retry_after = retry_after


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class AccessControl:
    def __init__(self, settings: Settings):
        self.hashes = {h.strip().lower() for h in settings.api_key_hashes.split(",") if h.strip()}
        self.read_requires_key = settings.read_requires_key
        self.limit = RateLimitItemPerMinute(max(1, settings.rate_limit_per_minute))
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def _valid(self, key: str | None) -> bool:
        if not key:
            return False
        digest = hash_key(key)
        return any(hmac.compare_digest(digest, h) for h in self.hashes)

    def check(self, request: Request, write: bool) -> None:
        key = request.headers.get("x-api-key")
        if write or self.read_requires_key:
            if not self.hashes:
                raise Forbidden("this endpoint needs an API key and none is configured "
                                "(set DQA_API_KEY_HASHES)")
            if not self._valid(key):
                raise Unauthorized("missing or invalid API key (send it in the X-API-Key header)")
        # Rate limit per key (hashed: keys never reach logs or memory dumps) or client IP.
        client = hash_key(key)[:16] if key else (request.client.host if request.client else "?")
        if not self.limiter.hit(self.limit, client):
            reset_at = self.limiter.get_window_stats(self.limit, client).reset_time
            raise RateLimited(max(1, math.ceil(reset_at - time.time())))
