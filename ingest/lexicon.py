"""Vietnamese syllable and word statistics derived from underthesea's bundled Viet74K list.

Repair uses them to decide whether a line break split a word: a syllable is valid when
its toneless form occurs in the word list and its tone fits its final consonant.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền sắc ngã hỏi nặng
_STOP_FINALS = ("p", "t", "c", "ch")
_ALLOWED_STOP_TONES = {"\u0301", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
LETTER_RE = re.compile(r"^[^\W\d_]+$")


def viet74k_path() -> Path:
    # find_spec avoids importing underthesea itself, which takes seconds.
    from importlib.util import find_spec

    spec = find_spec("underthesea")
    if spec is None or spec.origin is None:
        raise RuntimeError("underthesea is not installed; run `make install`")
    return Path(spec.origin).parent / "corpus" / "data" / "Viet74K.txt"


@lru_cache(maxsize=200_000)
def split_tone(syllable: str) -> tuple[str, str | None]:
    """Return (toneless lowercase NFC syllable, tone mark or None)."""
    decomposed = unicodedata.normalize("NFD", syllable.lower())
    tone = None
    kept = []
    for ch in decomposed:
        if ch in _TONE_MARKS:
            tone = ch
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)), tone


class Lexicon:
    """Syllable frequencies (from dictionary entries) and the multi-syllable word set."""

    def __init__(self, entries: list[str]):
        self.syllable_counts: Counter[str] = Counter()
        self.base_counts: Counter[str] = Counter()
        self.words: set[str] = set()
        for entry in entries:
            entry = unicodedata.normalize("NFC", entry.strip().lower())
            if not entry:
                continue
            parts = entry.split()
            if len(parts) >= 2:
                self.words.add(entry)
            for part in parts:
                if LETTER_RE.match(part):
                    self.syllable_counts[part] += 1
        for syllable, count in self.syllable_counts.items():
            self.base_counts[split_tone(syllable)[0]] += count
        self.total = sum(self.syllable_counts.values())
        self._valid: dict[str, bool] = {}
        self._floor = math.log(0.5 / self.total)

    def is_syllable(self, token: str) -> bool:
        cached = self._valid.get(token)
        if cached is None:
            cached = self._valid[token] = self._is_syllable(token)
        return cached

    def _is_syllable(self, token: str) -> bool:
        low = token.lower()
        base, tone = split_tone(low)
        if not any(c in _VOWELS for c in base):
            return False
        if low in self.syllable_counts:
            return True
        if base not in self.base_counts:
            return False
        if tone and base.endswith(_STOP_FINALS) and tone not in _ALLOWED_STOP_TONES:
            return False
        return True

    def syllable_logprob(self, token: str) -> float | None:
        """Log-probability of a valid syllable, or None when it is not one."""
        low = token.lower()
        count = self.syllable_counts.get(low)
        if count and self.is_syllable(low):
            return math.log(count / self.total)
        if self.is_syllable(low):
            base = split_tone(low)[0]
            # A tone variant unseen in the list: much rarer than its toneless family.
            return max(self._floor, math.log(self.base_counts[base] / self.total) - 3.0)
        return None

    def is_word(self, *syllables: str) -> bool:
        return " ".join(s.lower() for s in syllables) in self.words


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    text = viet74k_path().read_text(encoding="utf-8")
    return Lexicon(text.splitlines())
